"""What the mixer asks of one VideoRoom: who publishes (it joins as a participant that never
publishes, and follows the `publishers`/`unpublished`/`leaving` events), RTP forwarders of
their streams to the mixer's ports, and remote publishers for what terminals send.

`rtp_forward` needs the VideoRoom `admin_key` (our config locks forwarders with it) and the
room's secret; the backend holds both and hands them to the mixer (`RoomAccess`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import codecs
from .janus import VIDEOROOM, Event, Handle, JanusError, JanusSession, plugin_data

log = logging.getLogger(__name__)

LOCAL_HOST = "127.0.0.1"  # Janus and the mixer run on the same node


@dataclass(frozen=True)
class RoomAccess:
    """One meeting's room on one Janus node, with the secrets the backend keeps."""

    room: int
    pin: str
    secret: str


@dataclass(frozen=True)
class Stream:
    kind: str  # "audio" | "video"
    mid: str
    codec: str  # as Janus names it: "opus", "pcmu", "vp8", "h264"…


@dataclass(frozen=True)
class Publisher:
    feed: int
    display: str
    streams: tuple[Stream, ...]

    def stream(self, kind: str) -> Stream | None:
        return next((s for s in self.streams if s.kind == kind), None)


def publisher_from(data: dict[str, Any]) -> Publisher:
    streams = tuple(
        Stream(str(s.get("type")), str(s.get("mid")), str(s.get("codec", "")))
        for s in data.get("streams") or []
        if s.get("type") in ("audio", "video") and not s.get("disabled") and s.get("codec"))
    return Publisher(int(data["id"]), str(data.get("display") or ""), streams)


class RoomApi:
    """Synchronous VideoRoom requests on a handle of the mixer's session."""

    def __init__(self, session: JanusSession, access: RoomAccess) -> None:
        self.access = access
        self.admin_key = session.access.admin_key
        self.handle = session.attach(VIDEOROOM)

    def _request(self, body: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
        body = {"room": self.access.room, "secret": self.access.secret, **body}
        if admin and self.admin_key:
            body["admin_key"] = self.admin_key
        return self.handle.message(body)

    def rtp_forward(self, feed: int, ports: dict[str, int], streams: tuple[Stream, ...],
                    rtcp_port: int) -> dict[str, dict[str, Any]]:
        """Forward the feed's streams (kind → our port); kind → Janus's forwarder info
        (`stream_id`, `local_rtcp_port` where it takes keyframe requests)."""
        # The payload type is rewritten to the one the mixer's caps expect: publishers
        # negotiate their own (a jitter buffer drops packets of an unexpected one).
        wanted = [{"mid": s.mid, "port": ports[s.kind], "rtcp_port": rtcp_port,
                   "pt": codecs.PAYLOAD_TYPES.get(s.codec.upper(), 96)}
                  for s in streams if s.kind in ports]
        if not wanted:
            return {}
        answer = self._request({"request": "rtp_forward", "publisher_id": feed,
                                "host": LOCAL_HOST, "host_family": "ipv4",
                                "streams": wanted}, admin=True)
        return {str(f.get("type")): dict(f) for f in answer.get("forwarders") or []}

    def stop_rtp_forward(self, feed: int, stream_id: int) -> None:
        self._request({"request": "stop_rtp_forward", "publisher_id": feed,
                       "stream_id": stream_id}, admin=True)

    def add_remote_publisher(self, feed: int, display: str, *, audio: str = "opus",
                             video: str = "vp8") -> tuple[int, int]:
        """A publisher fed by plain RTP (audio mid "0", SSRC 1000; video mid "1", SSRC
        1010: Janus tells them apart by SSRC); returns (rtp port, rtcp port)."""
        answer = self._request({
            "request": "add_remote_publisher", "id": feed, "display": display,
            "iface": LOCAL_HOST,
            "streams": [{"type": "audio", "mid": "0", "mindex": 0, "codec": audio},
                        {"type": "video", "mid": "1", "mindex": 1, "codec": video}]})
        return int(answer["port"]), int(answer["rtcp_port"])

    def remove_remote_publisher(self, feed: int) -> None:
        self._request({"request": "remove_remote_publisher", "id": feed})

    def moderate(self, feed: int, mid: str, mute: bool) -> None:
        self._request({"request": "moderate", "id": feed, "mid": mid, "mute": mute})

    def close(self) -> None:
        self.handle.detach()


class RoomWatcher:
    """Joins the room as a participant that never publishes, to learn its publishers."""

    def __init__(self, session: JanusSession, access: RoomAccess,
                 on_publisher: Callable[[Publisher], None],
                 on_gone: Callable[[int], None], display: str = "diemcau-mixer") -> None:
        self.on_publisher = on_publisher
        self.on_gone = on_gone
        self.known: set[int] = set()
        self._joined = threading.Event()
        self.error: str = ""
        self.handle: Handle = session.attach(VIDEOROOM, self._event)
        self.handle.message({"request": "join", "ptype": "publisher", "room": access.room,
                             "pin": access.pin, "display": display})

    def wait_joined(self, timeout: float = 10.0) -> None:
        if not self._joined.wait(timeout):
            raise JanusError(0, "the mixer could not join the room")
        if self.error:
            raise JanusError(0, self.error)

    @property
    def feed(self) -> int:
        return self._own_id

    _own_id: int = 0

    def _event(self, event: Event) -> None:
        data = plugin_data(event)
        if "error_code" in data:
            self.error = str(data.get("error"))
            self._joined.set()
            return
        kind = data.get("videoroom")
        if kind == "joined":
            self._own_id = int(data.get("id") or 0)
            self._joined.set()
        for publisher in data.get("publishers") or []:
            found = publisher_from(publisher)
            if found.feed != self._own_id and found.feed not in self.known and found.streams:
                self.known.add(found.feed)
                self.on_publisher(found)
        for key in ("unpublished", "leaving", "kicked"):
            gone = data.get(key)
            if isinstance(gone, int) and gone in self.known:
                self.known.discard(gone)
                self.on_gone(gone)
        if event.get("janus") == "session_gone":
            for feed in list(self.known):
                self.known.discard(feed)
                self.on_gone(feed)

    def close(self) -> None:
        self.handle.detach()
