"""One room's mixer: its pipeline, the room's publishers as inputs, and its SIP legs.

Inputs come from the VideoRoom through RTP forwarders (see docs/mixer.md for why not a
WebRTC subscription): the mixer joins the room as a participant that never publishes, and
forwards every publisher's streams, the terminals' own remote publishers included, to ports
of its pipeline. A leg hears the mix of every input but its own feed.

A `RoomMixer` starts with its first consumer (a SIP leg or an upstream link) and stops when
the last one has gone (`MixerHost` keeps one per room while it runs).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from . import rtcp
from .gst import MainLoop
from .janus import JanusAccess, JanusError, JanusSession, JanusUnavailable
from .layout import Layout
from .legs import LegSpec, LegUpdate, LineQuality, SipLeg
from .pipeline import MixerPipeline
from .roomapi import LOCAL_HOST, Publisher, RoomAccess, RoomApi, RoomWatcher
from .video import Canvas, EncoderSettings

log = logging.getLogger(__name__)

KEYFRAME_REQUEST_GAP = 1.0  # seconds between two PLIs for one input


@dataclass(frozen=True)
class MixerSettings:
    node_address: str  # the SIP identity's host (the node's real address)
    canvas: Canvas = field(default_factory=Canvas)
    encoding: EncoderSettings = field(default_factory=EncoderSettings)
    sip_user: str = "mcu"
    sip_display: str = "diemcau MCU"
    layout: Layout = Layout.GRID


@dataclass
class _Forwarded:
    publisher: Publisher
    forwarders: dict[str, dict[str, Any]]
    last_pli: float = 0.0


class RoomMixer:
    def __init__(self, janus: JanusAccess, access: RoomAccess, settings: MixerSettings,
                 loop: MainLoop, *, on_update: Callable[[LegUpdate], None] | None = None,
                 on_speaker: Callable[[Hashable | None], None] | None = None,
                 on_stopped: Callable[[RoomMixer], None] | None = None) -> None:
        self.janus = janus
        self.access = access
        self.settings = settings
        self.loop = loop
        self.on_update = on_update
        self.on_stopped = on_stopped
        self.sip_identity = f"sip:{settings.sip_user}@{settings.node_address}"
        self.sip_display = settings.sip_display
        self.legs: dict[str, SipLeg] = {}
        self.inputs: dict[int, _Forwarded] = {}
        self.labels: dict[int, str] = {}
        self.muted: set[int] = set()
        self.stopped = False
        self._lock = threading.RLock()
        self.mixer = MixerPipeline(loop, settings.canvas, settings.encoding,
                                   on_speaker=on_speaker,
                                   on_keyframe_request=self._keyframe_request)
        self.mixer.video.layout = settings.layout
        self._rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._rtcp.bind((LOCAL_HOST, 0))
        self.session = JanusSession(janus).start()
        try:
            self.api = RoomApi(self.session, access)
            self.mixer.start()
            self.watcher = RoomWatcher(self.session, access, self._publisher, self._gone,
                                       display=settings.sip_display)
            self.watcher.wait_joined()
        except BaseException:
            self._teardown()
            raise

    # ------------------------------------------------------------------ inputs

    def _publisher(self, publisher: Publisher) -> None:
        """A publisher appeared in the room (Janus's event thread)."""
        with self._lock:
            if self.stopped or publisher.feed in self.inputs:
                return
            audio, video = publisher.stream("audio"), publisher.stream("video")
            label = self.labels.get(publisher.feed, publisher.display)
            ports = self.mixer.add_rtp_input(
                publisher.feed, label, audio_codec=audio.codec if audio else None,
                video_codec=video.codec if video else None,
                muted=publisher.feed in self.muted)
            wanted = {kind: port for kind, port in (("audio", ports.audio),
                                                     ("video", ports.video)) if port}
            try:
                forwarders = self.api.rtp_forward(publisher.feed, wanted, publisher.streams,
                                                  self._rtcp.getsockname()[1])
            except (JanusError, JanusUnavailable) as exc:
                log.warning("room %s: cannot forward feed %s: %s", self.access.room,
                            publisher.feed, exc)
                self.mixer.remove_input(publisher.feed)
                return
            self.inputs[publisher.feed] = _Forwarded(publisher, forwarders)
        self._keyframe_request(publisher.feed)

    def _gone(self, feed: int) -> None:
        with self._lock:
            forwarded = self.inputs.pop(feed, None)
        if forwarded is not None:
            for info in forwarded.forwarders.values():
                with contextlib.suppress(JanusError, JanusUnavailable):
                    self.api.stop_rtp_forward(feed, int(info.get("stream_id", 0)))
            self.mixer.remove_input(feed)

    def _keyframe_request(self, feed: Hashable) -> None:
        forwarded = self.inputs.get(int(feed))  # type: ignore[call-overload]
        if forwarded is None:
            return
        now = time.monotonic()
        if now - forwarded.last_pli < KEYFRAME_REQUEST_GAP:
            return
        forwarded.last_pli = now
        port = (forwarded.forwarders.get("video") or {}).get("local_rtcp_port")
        log.debug("room %s: keyframe for feed %s (rtcp port %s)", self.access.room, feed, port)
        if port:
            with contextlib.suppress(OSError):
                self._rtcp.sendto(rtcp.pli(0), (LOCAL_HOST, int(port)))

    # ------------------------------------------------------------------ legs

    def dial(self, spec: LegSpec, uri: str) -> SipLeg:
        leg = self.new_leg(spec)
        try:
            leg.dial(uri)
        except Exception:
            self.leg_ended(leg)
            raise
        return leg

    def new_leg(self, spec: LegSpec) -> SipLeg:
        with self._lock:
            if self.stopped:
                raise RuntimeError(f"the mixer of room {self.access.room} has stopped")
            if spec.leg_id in self.legs:
                raise ValueError(f"leg {spec.leg_id!r} exists")
            leg = SipLeg(self, spec, self._update)
            self.legs[spec.leg_id] = leg
            self.labels[leg.feed] = spec.label
        return leg

    def _update(self, update: LegUpdate) -> None:
        if self.on_update is not None:
            self.on_update(update)

    def leg_ended(self, leg: SipLeg) -> None:
        """Called by a leg once it is cleaned up: the last one stops the mixer."""
        with self._lock:
            if self.legs.get(leg.leg_id) is leg:
                del self.legs[leg.leg_id]
            last = not self.legs and not self.stopped
        if last:
            threading.Thread(target=self.stop, daemon=True, name="mixer-stop").start()

    def hangup(self, leg_id: str) -> None:
        leg = self.legs.get(leg_id)
        if leg is not None:
            leg.hangup()

    def quality(self, leg_id: str) -> LineQuality | None:
        leg = self.legs.get(leg_id)
        return leg.quality() if leg is not None else None

    # ------------------------------------------------------------------ controls

    def set_layout(self, layout: Layout, main: int | None = None) -> None:
        """ĐN Đ12.2b / KH Đ14.3b: the host chooses what the composed picture shows; `main`
        is a feed (None: the active speaker)."""
        self.mixer.set_layout(layout, main)

    def set_label(self, feed: int, label: str) -> None:
        self.labels[feed] = label
        self.mixer.set_label(feed, label)

    def set_muted(self, feed: int, muted: bool) -> None:
        """Mix `feed` or not (the mixer only: the host's mute of a browser goes through
        Janus's `moderate`, which also stops its forwarder)."""
        (self.muted.add if muted else self.muted.discard)(feed)
        self.mixer.set_muted(feed, muted)

    def mute_feed(self, feed: int, muted: bool) -> None:
        """Mute a terminal's feed for everyone: in the mixer and, through `moderate`, for
        the browsers (KH Đ11.6: a terminal enters muted like any participant)."""
        self.set_muted(feed, muted)
        try:
            self.api.moderate(feed, "0", muted)
        except (JanusError, JanusUnavailable) as exc:
            log.warning("room %s: cannot %s feed %s: %s", self.access.room,
                        "mute" if muted else "unmute", feed, exc)

    def feed_of(self, leg_id: str) -> int | None:
        leg = self.legs.get(leg_id)
        return leg.feed if leg is not None else None

    # ------------------------------------------------------------------ life

    def stop(self) -> None:
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
            legs = list(self.legs.values())
        for leg in legs:
            with contextlib.suppress(Exception):
                leg.hangup()
        self._teardown()
        if self.on_stopped is not None:
            self.on_stopped(self)

    def _teardown(self) -> None:
        for feed in list(self.inputs):
            self._gone(feed)
        with contextlib.suppress(Exception):
            self.mixer.stop()
        self.session.close()
        with contextlib.suppress(OSError):
            self._rtcp.close()
