"""The composed picture: a `compositor` fed by one branch per input, and one shared encoder
per codec that every leg using that codec takes its picture from.

    input (raw video) → queue → videoconvert → videoscale (to the tile, with borders)
        → capsfilter → textoverlay (the endpoint's name) → compositor pad (xpos, ypos)
    live black background → compositor → canvas caps → tee "composed"
    composed → queue (leaky) → x264enc | vp8enc → tee per codec → each leg's payloader

Each input is scaled once, to its tile size (the capsfilter's caps change with the layout),
so labels keep one size everywhere and no input is scaled twice. Hidden inputs shrink to a
16×16 invisible tile. Runs on the pipeline's main loop (see `pipeline.MixerPipeline`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .gst import Gst, caps, link_many, make
from .layout import Layout, Tile, arrange, main_input

HIDDEN = Tile(0, 0, 16, 16)
H264 = "H264"
VP8 = "VP8"


def _keep_reconfigure_in_branch(_pad: Any, info: Any) -> Any:
    gst = Gst()
    if info.get_event().type == gst.EventType.RECONFIGURE:
        return gst.PadProbeReturn.DROP
    return gst.PadProbeReturn.OK


@dataclass(frozen=True)
class Canvas:
    width: int = 1280
    height: int = 720
    fps: int = 25

    @property
    def raw_caps(self) -> str:
        return (f"video/x-raw,format=I420,width={self.width},height={self.height},"
                f"framerate={self.fps}/1,pixel-aspect-ratio=1/1")


@dataclass(frozen=True)
class EncoderSettings:
    """Bitrates in kbit/s. Hardware terminals want constrained baseline H.264 with
    packetization-mode 1 (R24); x264's zerolatency tune has no B-frames and no lookahead."""

    h264_kbps: int = 1500
    vp8_kbps: int = 1200
    keyframe_seconds: int = 4
    x264_preset: str = "ultrafast"


@dataclass
class _Input:
    key: Hashable
    elements: list[Any]
    scale_caps: Any
    overlay: Any
    pad: Any
    feed: Any  # the queue's src pad: the branch's streaming thread starts there
    tile: Tile = HIDDEN
    flowing: bool = False  # a picture has passed the tile's capsfilter


@dataclass
class _Encoder:
    codec: str
    elements: list[Any]
    tee: Any
    users: int = 0


@dataclass
class VideoMixer:
    pipeline: Any
    canvas: Canvas = field(default_factory=Canvas)
    encoding: EncoderSettings = field(default_factory=EncoderSettings)
    layout: Layout = Layout.GRID
    font: str = "Sans Bold 14"
    chosen_main: Hashable | None = None
    speaker: Hashable | None = None
    inputs: dict[Hashable, _Input] = field(default_factory=dict)
    encoders: dict[str, _Encoder] = field(default_factory=dict)

    def __post_init__(self) -> None:
        c = self.canvas
        self.background = make("videotestsrc", is_live=True, pattern="black")
        self.compositor = make("compositor", background="black")
        self.composed_caps = make("capsfilter", caps=caps(c.raw_caps))
        self.composed = make("tee", allow_not_linked=True)
        background_caps = make("capsfilter", caps=caps(c.raw_caps))
        for element in (self.background, background_caps, self.compositor,
                        self.composed_caps, self.composed):
            self.pipeline.add(element)
        self.background.link(background_caps)
        pad = self.compositor.request_pad_simple("sink_%u")
        pad.set_property("zorder", 0)
        background_caps.get_static_pad("src").link(pad)
        self.compositor.link(self.composed_caps)
        self.composed_caps.link(self.composed)

    # ------------------------------------------------------------------ inputs

    def add_input(self, key: Hashable, source_pad: Any, label: str = "",
                  owned: Sequence[Any] = ()) -> None:
        """Compose the raw video coming out of `source_pad` under `key`; the `owned`
        elements upstream (its source) are removed with it."""
        if key in self.inputs:
            raise ValueError(f"input {key!r} exists")
        queue = make("queue", max_size_buffers=3, max_size_time=0, max_size_bytes=0,
                     leaky="downstream")
        convert = make("videoconvert")
        scale = make("videoscale", add_borders=True)
        scale_caps = make("capsfilter", caps=self._tile_caps(HIDDEN))
        overlay = make("textoverlay", text=label, font_desc=self.font, valignment="bottom",
                       halignment="left", shaded_background=True, wait_text=False, xpad=6, ypad=6)
        elements = [queue, convert, scale, scale_caps, overlay]
        for element in elements:
            self.pipeline.add(element)
        link_many(*elements)
        pad = self.compositor.request_pad_simple("sink_%u")
        pad.set_property("zorder", 1)
        pad.set_property("alpha", 0.0)
        overlay.get_static_pad("src").link(pad)
        # The converter and the scaler take any picture to any tile, so a tile's new size is
        # theirs alone to negotiate: its RECONFIGURE stops at the queue, and the source is
        # never asked to renegotiate by a layout change.
        queue.get_static_pad("src").add_probe(Gst().PadProbeType.EVENT_UPSTREAM,
                                              _keep_reconfigure_in_branch)
        for element in elements:
            element.sync_state_with_parent()
        source_pad.link(queue.get_static_pad("sink"))
        for element in owned:  # started only now that they are linked
            element.sync_state_with_parent()
        entry = _Input(key, [*owned, *elements], scale_caps, overlay, pad,
                       queue.get_static_pad("src"))
        scale_caps.get_static_pad("src").add_probe(Gst().PadProbeType.BUFFER,
                                                   self._first_picture(entry))
        self.inputs[key] = entry
        self.apply()

    def remove_input(self, key: Hashable) -> None:
        entry = self.inputs.pop(key, None)
        if entry is None:
            return
        # Sources first, so nothing pushes into an unlinked pad (a not-linked flow error
        # would stop the whole pipeline).
        for element in entry.elements:
            element.set_state(Gst().State.NULL)
        first = entry.elements[0].get_static_pad("sink")
        peer = first.get_peer() if first is not None else None
        if peer is not None:
            peer.unlink(first)
        for element in entry.elements:
            self.pipeline.remove(element)
        self.compositor.release_request_pad(entry.pad)
        if self.speaker == key:
            self.speaker = None
        self.apply()

    def set_label(self, key: Hashable, label: str) -> None:
        self.inputs[key].overlay.set_property("text", label)

    # ------------------------------------------------------------------ layout

    def set_layout(self, layout: Layout, main: Hashable | None = None) -> None:
        """The host's layout and main input (None: follow the active speaker)."""
        self.layout, self.chosen_main = layout, main
        self.apply()

    def set_speaker(self, key: Hashable | None) -> None:
        if key != self.speaker:
            self.speaker = key
            self.apply()

    def tiles(self) -> dict[Hashable, Tile]:
        order = list(self.inputs)
        main = main_input(order, self.chosen_main, self.speaker)
        return arrange(self.layout, order, main, self.canvas.width, self.canvas.height)

    def apply(self) -> None:
        """Move every input to its tile of the current layout (no restart)."""
        tiles = self.tiles()
        for key, entry in self.inputs.items():
            tile = tiles.get(key, HIDDEN)
            visible = key in tiles
            if tile != entry.tile:
                entry.tile = tile
                if entry.flowing:
                    self._resize(entry)
            pad = entry.pad
            pad.set_property("xpos", tile.x)
            pad.set_property("ypos", tile.y)
            pad.set_property("width", tile.width)
            pad.set_property("height", tile.height)
            pad.set_property("alpha", 1.0 if visible else 0.0)

    def _first_picture(self, entry: _Input) -> Any:
        """A probe for the branch's first picture. Until then the source may still be
        negotiating with the branch in its own thread, and a tile size changed meanwhile is
        refused there (not-negotiated, which stops the whole mixer): the tile waits, and is
        given here, in the branch's thread, once the picture is through."""
        gst = Gst()

        def passed(_pad: Any, _info: Any) -> Any:
            entry.flowing = True
            entry.scale_caps.set_property("caps", self._tile_caps(entry.tile))
            return gst.PadProbeReturn.REMOVE

        return passed

    def _resize(self, entry: _Input) -> None:
        """Give the branch's scaler its tile's size once nothing flows past its queue.
        Changed while the branch's thread negotiates (its first pictures, or a change just
        before), the capsfilter refuses the caps the scaler chose a moment earlier: the
        branch stops with not-negotiated, and the whole mixer with it. An IDLE probe runs
        the change when no buffer or event is on its way down the branch; the scaler then
        negotiates the new size before its next picture. The probe reads the tile when it
        runs, so of several quick changes the last one wins."""
        gst = Gst()

        def change(_pad: Any, _info: Any) -> Any:
            entry.scale_caps.set_property("caps", self._tile_caps(entry.tile))
            return gst.PadProbeReturn.REMOVE

        entry.feed.add_probe(gst.PadProbeType.IDLE, change)

    @staticmethod
    def _tile_caps(tile: Tile) -> Any:
        return caps(f"video/x-raw,width={tile.width},height={tile.height},"
                    "pixel-aspect-ratio=1/1")

    # ------------------------------------------------------------------ encoders

    def encoder(self, codec: str) -> Any:
        """The tee of the shared encoder for `codec` (made on first use): request a pad of it
        per leg and call `release_encoder` when the leg leaves."""
        found = self.encoders.get(codec)
        if found is None:
            found = self._make_encoder(codec)
            self.encoders[codec] = found
        found.users += 1
        return found.tee

    def release_encoder(self, codec: str) -> None:
        found = self.encoders.get(codec)
        if found is None:
            return
        found.users -= 1
        if found.users > 0:
            return
        del self.encoders[codec]
        first = found.elements[0].get_static_pad("sink")
        tee_pad = first.get_peer()
        if tee_pad is not None:
            tee_pad.unlink(first)
            self.composed.release_request_pad(tee_pad)
        for element in [*found.elements, found.tee]:
            element.set_state(Gst().State.NULL)
            self.pipeline.remove(element)

    def request_keyframe(self, codec: str) -> None:
        """A terminal lost the picture (PLI): the shared encoder starts a new keyframe."""
        found = self.encoders.get(codec)
        if found is not None:
            from gi.repository import GstVideo

            event = GstVideo.video_event_new_upstream_force_key_unit(
                Gst().CLOCK_TIME_NONE, True, 0)
            found.tee.get_static_pad("sink").push_event(event)

    def _make_encoder(self, codec: str) -> _Encoder:
        settings = self.encoding
        queue = make("queue", max_size_buffers=2, max_size_time=0, max_size_bytes=0,
                     leaky="downstream")
        key_frames = settings.keyframe_seconds * self.canvas.fps
        if codec == H264:
            encoder = make("x264enc", tune="zerolatency", speed_preset=settings.x264_preset,
                           bitrate=settings.h264_kbps, key_int_max=key_frames,
                           bframes=0, threads=2)
            # Constrained baseline, byte-stream: what hardware terminals decode (R24).
            profile = make("capsfilter", caps=caps(
                "video/x-h264,profile=constrained-baseline,stream-format=byte-stream"))
            parse = make("h264parse", config_interval=-1)
            elements = [queue, encoder, profile, parse]
        elif codec == VP8:
            encoder = make("vp8enc", deadline=1, cpu_used=8, threads=2,
                           end_usage="cbr", target_bitrate=settings.vp8_kbps * 1000,
                           keyframe_max_dist=key_frames, error_resilient="default",
                           lag_in_frames=0)
            elements = [queue, encoder]
        else:
            raise ValueError(f"unknown video codec {codec!r}")
        tee = make("tee", allow_not_linked=True)
        for element in [*elements, tee]:
            self.pipeline.add(element)
        link_many(*elements, tee)
        for element in [*elements, tee]:
            element.sync_state_with_parent()
        self.composed.request_pad_simple("src_%u").link(queue.get_static_pad("sink"))
        return _Encoder(codec, elements, tee)
