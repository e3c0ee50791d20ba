"""One room's GStreamer pipeline: the composed picture (`video.VideoMixer`), the mixed sound
(`audio.AudioMixer`), inputs arriving as plain RTP on local UDP ports, and the active
speaker from the inputs' `level` messages.

An input is one publisher of the room, forwarded by Janus (VideoRoom `rtp_forward`) to two
ports the pipeline bound on 127.0.0.1:

    udpsrc (RTP caps) → rtpjitterbuffer → depayloader → decoder → VideoMixer / AudioMixer

A decoder that needs a keyframe sends an upstream force-key-unit event; a probe on the udpsrc
turns it into a callback, which the room answers with an RTCP PLI to Janus.

Every change runs on the main loop thread (`MainLoop.call`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from . import codecs
from .audio import AudioMixer
from .gst import Gst, MainLoop, caps, link_many, make
from .layout import Layout
from .speaker import SILENT_DB, ActiveSpeaker
from .video import Canvas, EncoderSettings, VideoMixer

log = logging.getLogger(__name__)

INPUT_LATENCY_MS = 40  # jitter buffer of a forwarded input: Janus is on this machine


@dataclass(frozen=True)
class InputPorts:
    """Where Janus should forward one publisher's streams (None: no such stream)."""

    audio: int | None
    video: int | None


@dataclass
class _RtpInput:
    key: Hashable
    label: str
    audio_src: Any = None
    video_src: Any = None


@dataclass
class MixerPipeline:
    loop: MainLoop
    canvas: Canvas = field(default_factory=Canvas)
    encoding: EncoderSettings = field(default_factory=EncoderSettings)
    on_speaker: Callable[[Hashable | None], None] | None = None
    on_keyframe_request: Callable[[Hashable], None] | None = None
    on_error: Callable[[str], None] | None = None
    speaker: ActiveSpeaker[Hashable] = field(default_factory=ActiveSpeaker)
    inputs: dict[Hashable, _RtpInput] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pipeline = Gst().Pipeline.new("mixer")
        self.video = VideoMixer(self.pipeline, self.canvas, self.encoding)
        self.audio = AudioMixer(self.pipeline)
        self.loop.call(self._watch_bus)

    # ------------------------------------------------------------------ life

    def _watch_bus(self) -> None:
        # Called on the loop thread: the signal watch attaches to its context.
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._message)

    def start(self) -> None:
        self.pipeline.set_state(Gst().State.PLAYING)

    def stop(self) -> None:
        def stop() -> None:
            self.pipeline.set_state(Gst().State.NULL)
            self.pipeline.get_bus().remove_signal_watch()

        self.loop.call(stop)

    # ------------------------------------------------------------------ inputs

    def add_rtp_input(self, key: Hashable, label: str, *, audio_codec: str | None,
                      video_codec: str | None, muted: bool = False) -> InputPorts:
        """Bind local ports for one publisher (codec names as Janus gives them: "opus",
        "vp8", "h264"…; None: no such stream) and compose what arrives on them."""
        return self.loop.call(self._add_rtp_input, key, label, audio_codec, video_codec,
                              muted)

    def _add_rtp_input(self, key: Hashable, label: str, audio_codec: str | None,
                       video_codec: str | None, muted: bool) -> InputPorts:
        if key in self.inputs:
            raise ValueError(f"input {key!r} exists")
        entry = _RtpInput(key, label)
        self.inputs[key] = entry
        ports: dict[str, int | None] = {"audio": None, "video": None}
        for kind, codec in (("video", video_codec), ("audio", audio_codec)):
            if codec is None:
                continue
            name = codec.upper()
            source = make("udpsrc", address="127.0.0.1", port=0,
                          caps=caps(codecs.rtp_caps(name)), buffer_size=1 << 20)
            chain = [source, make("rtpjitterbuffer", latency=INPUT_LATENCY_MS,
                                  drop_on_latency=True), *codecs.decoder(name)]
            if kind == "video":
                chain.append(make("videoconvert"))
            for element in chain:
                self.pipeline.add(element)
            link_many(*chain)
            source.set_state(Gst().State.READY)  # binds the socket: the port is known
            ports[kind] = int(source.get_property("port"))
            source.get_static_pad("src").add_probe(
                Gst().PadProbeType.EVENT_UPSTREAM, self._upstream_event, key)
            pad = chain[-1].get_static_pad("src")
            pad.add_probe(Gst().PadProbeType.BUFFER, self._first_buffer, (key, kind))
            if kind == "video":
                entry.video_src = source
                self.video.add_input(key, pad, label, owned=chain)
            else:
                entry.audio_src = source
                self.audio.add_input(key, pad, owned=chain, muted=muted)
        return InputPorts(audio=ports["audio"], video=ports["video"])

    def remove_input(self, key: Hashable) -> None:
        def remove() -> None:
            if self.inputs.pop(key, None) is None:
                return
            self.video.remove_input(key)
            self.audio.remove_input(key)
            self.speaker.forget(key)
            self._speaker_changed()

        self.loop.call(remove)

    def _first_buffer(self, _pad: Any, _info: Any, what: tuple[Hashable, str]) -> Any:
        log.debug("input %s: first decoded %s", *what)
        return Gst().PadProbeReturn.REMOVE

    def _upstream_event(self, _pad: Any, info: Any, key: Hashable) -> Any:
        event = info.get_event()
        if event is not None and event.type == Gst().EventType.CUSTOM_UPSTREAM:
            structure = event.get_structure()
            if (structure is not None and structure.get_name() == "GstForceKeyUnit"
                    and self.on_keyframe_request is not None):
                self.on_keyframe_request(key)
        return Gst().PadProbeReturn.OK

    # ------------------------------------------------------------------ controls

    def set_layout(self, layout: Layout, main: Hashable | None = None) -> None:
        self.loop.call(self.video.set_layout, layout, main)

    def set_label(self, key: Hashable, label: str) -> None:
        def label_it() -> None:
            if key in self.video.inputs:
                self.video.set_label(key, label)

        self.loop.call(label_it)

    def set_muted(self, key: Hashable, muted: bool) -> None:
        def mute() -> None:
            self.audio.set_muted(key, muted)
            if muted:  # a muted input cannot be the speaker
                self.speaker.forget(key)
                self._speaker_changed()

        self.loop.call(mute)

    # ------------------------------------------------------------------ messages

    def _message(self, _bus: Any, message: Any) -> None:
        kind = message.type
        gst = Gst()
        if kind == gst.MessageType.ELEMENT:
            structure = message.get_structure()
            if structure is not None and structure.get_name() == "level":
                self._level(message.src, structure)
        elif kind == gst.MessageType.ERROR:
            error, debug = message.parse_error()
            text = f"{message.src.get_name()}: {error.message} ({debug})"
            log.error("mixer pipeline: %s", text)
            self.errors.append(text)
            if self.on_error is not None:
                self.on_error(text)
        elif kind == gst.MessageType.WARNING:
            warning, _debug = message.parse_warning()
            log.warning("mixer pipeline: %s: %s", message.src.get_name(), warning.message)

    def _level(self, element: Any, structure: Any) -> None:
        key = self.audio.level_key(element)
        if key is None:
            return
        entry = self.audio.inputs.get(key)
        if entry is None or entry.muted:
            return
        values = structure.get_value("rms")
        db = max(values) if values else SILENT_DB
        before = self.speaker.speaker
        self.speaker.update(key, db, time.monotonic())
        if self.speaker.speaker != before:
            self._speaker_changed()

    def _speaker_changed(self) -> None:
        self.video.set_speaker(self.speaker.speaker)
        if self.on_speaker is not None:
            self.on_speaker(self.speaker.speaker)
