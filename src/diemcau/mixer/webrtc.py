"""One `webrtcbin` in a mixer pipeline, negotiated with a Janus plugin handle.

No trickle: the offer or answer is handed over once ICE gathering completed, with every
candidate in the SDP (`"trickle": false` in the JSEP), and Janus answers the same way. No
STUN or TURN server: nothing is sent to a public server; ICE uses the node's interfaces
(Janus is told which one: `nat.ice_enforce_list`).

Blocking calls (`create_offer`, `answer`, `stats`) wait on webrtcbin's promises: call them
from a worker thread, never from the main loop. Pipeline changes they need go through the
loop (`loop.call`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .gst import Gst, MainLoop, make

log = logging.getLogger(__name__)

RECV_LATENCY_MS = 60  # webrtcbin's jitter buffer (its default, 200 ms, is a call's worth)


class NegotiationError(RuntimeError):
    pass


def _webrtc() -> Any:
    Gst()
    from gi.repository import GstWebRTC

    return GstWebRTC


def _sdp() -> Any:
    Gst()
    from gi.repository import GstSdp

    return GstSdp


def parse_sdp(text: str) -> Any:
    sdp_module = _sdp()
    ok, message = sdp_module.SDPMessage.new_from_text(text)
    if ok != sdp_module.SDPResult.OK:
        raise NegotiationError("unreadable SDP")
    return message


@dataclass(frozen=True)
class Received:
    """A stream webrtcbin receives: its pad and what it carries."""

    pad: Any
    kind: str  # "audio" | "video"
    encoding: str  # "VP8", "H264", "OPUS", "PCMU", "PCMA", "G722"
    payload: int
    caps: Any


class WebRtcPeer:
    def __init__(self, pipeline: Any, loop: MainLoop, name: str,
                 on_stream: Callable[[Received], None] | None = None,
                 latency_ms: int = RECV_LATENCY_MS) -> None:
        self.pipeline = pipeline
        self.loop = loop
        self.name = name
        self.on_stream = on_stream
        self.senders: list[Any] = []  # webrtcbin sink pads
        self.element = make("webrtcbin", name, bundle_policy="max-compat",
                            latency=latency_ms)
        self.element.connect("pad-added", self._pad_added)
        self.loop.call(self._add)

    def _add(self) -> None:
        self.pipeline.add(self.element)
        self.element.sync_state_with_parent()

    # ------------------------------------------------------------------ media

    def add_sender(self, src_pad: Any) -> Any:
        """Link a payloader's src pad to a new sink pad (call on the loop)."""
        sink = self.element.request_pad_simple("sink_%u")
        result = src_pad.link(sink)
        if result != Gst().PadLinkReturn.OK:
            raise NegotiationError(f"{self.name}: cannot link a sender ({result})")
        self.senders.append(sink)
        return sink

    def wait_sender_caps(self, timeout: float = 10.0) -> None:
        """Until every sender has caps: the offer then carries their `a=ssrc` lines (Janus's
        SIP plugin drops RTP whose SSRC the offer did not announce)."""
        deadline = time.monotonic() + timeout
        while any(_sender_caps(pad) is None for pad in self.senders):
            if time.monotonic() > deadline:
                raise NegotiationError(f"{self.name}: senders got no caps in {timeout}s")
            time.sleep(0.05)

    def _pad_added(self, _element: Any, pad: Any) -> None:
        if pad.get_direction() != Gst().PadDirection.SRC or self.on_stream is None:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        structure = caps.get_structure(0)
        received = Received(pad, str(structure.get_value("media")),
                            str(structure.get_value("encoding-name")).upper(),
                            int(structure.get_value("payload")), caps)
        self.on_stream(received)

    # ------------------------------------------------------------------ negotiation

    def _promise(self, signal: str, *args: Any, timeout: float = 10.0) -> Any:
        done = threading.Event()
        promise = Gst().Promise.new_with_change_func(lambda _p: done.set())
        self.element.emit(signal, *args, promise)
        if not done.wait(timeout):
            raise NegotiationError(f"{self.name}: {signal} did not finish")
        return promise.get_reply()

    def create_offer(self, timeout: float = 15.0) -> str:
        """An offer with every candidate (after set-local-description and gathering)."""
        reply = self._promise("create-offer", None)
        offer = reply.get_value("offer") if reply is not None else None
        if offer is None:
            raise NegotiationError(f"{self.name}: no offer ({reply})")
        self._promise("set-local-description", offer)
        return self._gathered(timeout)

    def set_answer(self, sdp_text: str) -> None:
        webrtc = _webrtc()
        answer = webrtc.WebRTCSessionDescription.new(webrtc.WebRTCSDPType.ANSWER,
                                                     parse_sdp(sdp_text))
        self._promise("set-remote-description", answer)

    def set_offer(self, sdp_text: str) -> None:
        """Take a remote offer: its transceivers exist afterwards (`transceivers()`)."""
        webrtc = _webrtc()
        offer = webrtc.WebRTCSessionDescription.new(webrtc.WebRTCSDPType.OFFER,
                                                    parse_sdp(sdp_text))
        self._promise("set-remote-description", offer)

    def create_answer(self, timeout: float = 15.0) -> str:
        reply = self._promise("create-answer", None)
        answer = reply.get_value("answer") if reply is not None else None
        if answer is None:
            raise NegotiationError(f"{self.name}: no answer ({reply})")
        self._promise("set-local-description", answer)
        return self._gathered(timeout)

    def transceivers(self) -> list[Any]:
        found: list[Any] = []
        index = 0
        while True:
            transceiver = self.element.emit("get-transceiver", index)
            if transceiver is None:
                return found
            found.append(transceiver)
            index += 1

    def _gathered(self, timeout: float) -> str:
        complete = _webrtc().WebRTCICEGatheringState.COMPLETE
        deadline = time.monotonic() + timeout
        while self.element.get_property("ice-gathering-state") != complete:
            if time.monotonic() > deadline:
                raise NegotiationError(f"{self.name}: ICE gathering did not complete")
            time.sleep(0.05)
        description = self.element.get_property("local-description")
        return str(description.sdp.as_text())

    # ------------------------------------------------------------------ state

    def connected(self) -> bool:
        state = self.element.get_property("ice-connection-state")
        webrtc = _webrtc()
        return state in (webrtc.WebRTCICEConnectionState.CONNECTED,
                         webrtc.WebRTCICEConnectionState.COMPLETED)

    def stats(self, timeout: float = 5.0) -> dict[str, dict[str, Any]]:
        """webrtcbin's statistics, by stats id: each a dict with `type` and its fields."""
        reply = self._promise("get-stats", None, timeout=timeout)
        if reply is None:
            return {}
        out: dict[str, dict[str, Any]] = {}

        def each(_field_id: int, value: Any) -> bool:
            if isinstance(value, Gst().Structure):
                row: dict[str, Any] = {}
                for i in range(value.n_fields()):
                    name = value.nth_field_name(i)
                    row[name] = _plain(value.get_value(name))
                out[str(row.get("id", value.get_name()))] = row
            return True

        reply.foreach(each)
        return out

    def close(self) -> None:
        """Remove from the pipeline (on the loop)."""
        def remove() -> None:
            self.element.set_state(Gst().State.NULL)
            if self.element.get_parent() is not None:
                self.pipeline.remove(self.element)

        self.loop.call(remove)


def _sender_caps(sink: Any) -> Any:
    # webrtcbin holds data back until negotiation; the payloader's own caps are what count.
    peer = sink.get_peer()
    return peer.get_current_caps() if peer is not None else None


def _plain(value: Any) -> Any:
    nick = getattr(value, "value_nick", None)  # enums (an int subclass) by their nick
    if nick is not None:
        return nick
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


_FMTP = re.compile(r"^a=fmtp:(\d+) (.*)$", re.M)
_RTPMAP = re.compile(r"^a=rtpmap:(\d+) ([A-Za-z0-9-]+)/(\d+)", re.M)


def offered_codecs(sdp_text: str) -> dict[str, list[tuple[int, str, str]]]:
    """kind → [(payload type, encoding name, fmtp)] in the order of each m-line."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for section in re.split(r"(?=^m=)", sdp_text, flags=re.M)[1:]:
        header = section.split("\n", 1)[0].split()
        kind = header[0][2:]
        rtpmap = {int(pt): name.upper() for pt, name, _rate in _RTPMAP.findall(section)}
        fmtp = {int(pt): params.strip() for pt, params in _FMTP.findall(section)}
        rows = out.setdefault(kind, [])
        for token in header[3:]:
            if token.isdigit():
                pt = int(token)
                static = {0: "PCMU", 8: "PCMA", 9: "G722"}.get(pt, "")
                rows.append((pt, rtpmap.get(pt, static), fmtp.get(pt, "")))
    return out
