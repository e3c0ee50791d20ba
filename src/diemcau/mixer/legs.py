"""A SIP leg: one terminal (or the upstream MCU) in a call through Janus's SIP plugin.

The mixer is the plugin's WebRTC peer (a `webrtcbin`): it sends the room's composed picture
(the shared encoder of the leg's codec) and a mix of everyone but the terminal itself, and
what the terminal sends is published into the room (`publish.RoomPublisher`), whose forwarder
brings it back into the mixer as one more input.

    dial-out (KH Đ11.7: the central MCU dials the endpoint's VCS address):
        register (guest) → offer → call → calling, ringing → accepted (answer) | hangup
    dial-in: `incomingcall` with the terminal's offer → answer → accept | decline

States are reported to `on_update(LegUpdate)` from Janus's event thread: keep it short.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import codecs
from .codecs import LegCodecs
from .gst import Gst, add_chain, caps, make, start_chain
from .janus import SIP, Event, Handle, JanusError, JanusUnavailable, plugin_data
from .publish import RoomPublisher
from .webrtc import NegotiationError, Received, WebRtcPeer

log = logging.getLogger(__name__)


class LegState(StrEnum):
    NEW = "new"
    INCOMING = "incoming"  # dial-in, being answered
    CALLING = "calling"
    RINGING = "ringing"
    ACCEPTED = "accepted"  # in the call
    BUSY = "busy"
    FAILED = "failed"
    DECLINED = "declined"  # refused before answering (dial-in refusal, or 603)
    HANGUP = "hangup"  # ended after being accepted

    @property
    def ended(self) -> bool:
        return self in (LegState.BUSY, LegState.FAILED, LegState.DECLINED, LegState.HANGUP)


@dataclass(frozen=True)
class LegUpdate:
    leg_id: str
    state: LegState
    code: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class LineQuality:
    """What the mixer receives from the terminal (through Janus): RTCP-based numbers."""

    packets_received: int
    packets_lost: int
    fraction_lost: float | None  # as the far end reported it (0..1), where available
    jitter_ms: float | None
    rtt_ms: float | None


@dataclass(frozen=True)
class LegSpec:
    leg_id: str
    label: str  # the endpoint's name: its tile label and its display in the room
    codecs: LegCodecs = field(default_factory=LegCodecs)
    muted_on_entry: bool = True  # KH Đ11.6: participants enter with microphones off


def new_feed_id() -> int:
    # The remote publisher's id in the room, chosen here so the mix-minus can exclude it
    # before Janus knows it (JavaScript-safe: below 2**53).
    return secrets.randbelow(2**52) + 1


class SipLeg:
    def __init__(self, room: Any, spec: LegSpec,
                 on_update: Callable[[LegUpdate], None] | None = None) -> None:
        self.room = room  # room.RoomMixer: its pipeline, loop, session, api, SIP identity
        self.spec = spec
        self.on_update = on_update
        self.feed = new_feed_id()
        self.state = LegState.NEW
        self.uri = ""
        self.handle: Handle | None = None
        self.peer: WebRtcPeer | None = None
        self.publisher = RoomPublisher(room.mixer.pipeline, room.loop, room.api, self.feed,
                                       spec.label)
        self.elements: list[Any] = []
        # dial-in: the listener's handle goes back to it when the call ends (else detached)
        self.release_handle: Callable[[Handle], None] | None = None
        self.updates: list[LegUpdate] = []
        self.received: set[str] = set()  # "audio"/"video": what has arrived from the far end
        self._profile_level_id = ""  # the offered H.264 profile, when answering
        self._encoder = ""  # the shared encoder this leg uses
        self._registered = threading.Event()
        self._ended = threading.Event()
        self._cleaned = False
        self._lock = threading.Lock()

    @property
    def leg_id(self) -> str:
        return self.spec.leg_id

    # ------------------------------------------------------------------ dial-out

    def dial(self, uri: str) -> None:
        """Call `uri` (blocking until the INVITE is sent; the rest comes as updates)."""
        self.uri = uri
        try:
            self.handle = self.room.session.attach(SIP, self._event)
            self.handle.message({"request": "register", "type": "guest",
                                 "username": self.room.sip_identity,
                                 "display_name": self.room.sip_display})
            if not self._registered.wait(10):
                raise NegotiationError("the SIP plugin did not register the guest")
            self._make_peer()
            self.room.loop.call(self._link_senders, None)
            assert self.peer is not None
            self.peer.wait_sender_caps()
            offer = self.peer.create_offer()
            log.debug("leg %s: our offer:\n%s", self.leg_id, offer)
            self._set_state(LegState.CALLING)
            self.handle.message({"request": "call", "uri": uri, "autoaccept_reinvites": True},
                                {"type": "offer", "sdp": offer, "trickle": False})
        except (NegotiationError, JanusError, JanusUnavailable) as exc:
            log.warning("leg %s: dial %s failed: %s", self.leg_id, uri, exc)
            self._finish(LegState.FAILED, None, str(exc))
            raise

    # ------------------------------------------------------------------ dial-in

    def answer(self, handle: Handle, offer_sdp: str, caller: str) -> None:
        """Take an incoming call already accepted by the decision: answer its offer with
        our preferred codecs among those offered, then `accept`."""
        self.uri = caller
        self.handle = handle
        handle.on_event = self._event
        self._set_state(LegState.INCOMING)
        try:
            self._make_peer()
            assert self.peer is not None
            offer = self.room.loop.call(self._link_answer_senders, offer_sdp)
            self.peer.wait_sender_caps()
            self.peer.set_offer(offer)
            self.publisher.start()
            answer = self.peer.create_answer()
            log.debug("leg %s: offer from %s:\n%s\nour answer:\n%s", self.leg_id, caller,
                      offer_sdp, answer)
            handle.message({"request": "accept", "autoaccept_reinvites": True},
                           {"type": "answer", "sdp": answer, "trickle": False})
        except (NegotiationError, JanusError, JanusUnavailable, ValueError) as exc:
            log.warning("leg %s: answering %s failed: %s", self.leg_id, caller, exc)
            self._finish(LegState.FAILED, None, str(exc))
            raise

    # ------------------------------------------------------------------ control

    def hangup(self) -> None:
        """End the call (the host's "remove"); the update follows as HANGUP."""
        if self.handle is not None and not self.state.ended:
            try:
                self.handle.message({"request": "hangup"})
            except (JanusError, JanusUnavailable) as exc:
                log.info("leg %s: hangup: %s", self.leg_id, exc)
                self._finish(LegState.HANGUP, None, "hung up")
                return
            if not self._ended.wait(10):
                self._finish(LegState.HANGUP, None, "hung up")

    def wait_ended(self, timeout: float) -> bool:
        return self._ended.wait(timeout)

    def quality(self) -> LineQuality | None:
        if self.peer is None or self.state != LegState.ACCEPTED:
            return None
        return line_quality(self.peer.stats())

    # ------------------------------------------------------------------ media

    def _make_peer(self) -> None:
        self.peer = WebRtcPeer(self.room.mixer.pipeline, self.room.loop,
                               f"leg-{self.leg_id}", on_stream=self._stream)

    def _link_senders(self, pts: dict[str, int] | None) -> None:
        """Picture and sound to the terminal (on the loop). Our offer: video then audio.
        Answering (`pts`: kind → the offered payload type we chose): in the offer's m-line
        order, since webrtcbin gives each offered m-line the next transceiver not yet
        associated."""
        if pts is None:
            self._link_video(None)
            self._link_audio(None)
            return
        for kind in pts:  # insertion order = m-line order
            (self._link_video if kind == "video" else self._link_audio)(pts[kind])

    def _link_video(self, pt: int | None) -> None:
        assert self.peer is not None
        mixer, codec = self.room.mixer, self.spec.codecs.video
        # Encoded pictures: dropping one spoils the picture until the next keyframe, so the
        # queue only leaks while webrtcbin holds data back before the call is answered
        # (a full second); a shared encoder is never blocked by one leg.
        queue = make("queue", max_size_buffers=0, max_size_time=1_000_000_000,
                     max_size_bytes=0, leaky="downstream")
        chain = [queue, codecs.video_payloader(codec, codecs.random_ssrc(), pt)]
        if self._profile_level_id:
            # webrtcbin matches our H.264 caps against the offer's whole fmtp: announce the
            # offered profile-level-id (constrained baseline either way; a decoder reads
            # the real level from the SPS).
            chain.append(make("capssetter", caps=caps(
                f"application/x-rtp,profile-level-id=(string){self._profile_level_id}")))
        add_chain(mixer.pipeline, *chain, start=False)
        self.peer.add_sender(chain[-1].get_static_pad("src"))
        start_chain(*chain)
        tee = mixer.video.encoder(codec)
        tee.request_pad_simple("src_%u").link(queue.get_static_pad("sink"))
        mixer.video.request_keyframe(codec)  # the new leg starts with a whole picture
        self.elements += chain
        self._encoder = codec

    def _link_audio(self, pt: int | None) -> None:
        assert self.peer is not None
        mixer = self.room.mixer
        queue = make("queue", max_size_time=200_000_000, max_size_buffers=0,
                     max_size_bytes=0, leaky="downstream")
        encoder = codecs.audio_encoder(self.spec.codecs.audio, codecs.random_ssrc(), pt)
        add_chain(mixer.pipeline, queue, *encoder, start=False)
        self.peer.add_sender(encoder[-1].get_static_pad("src"))
        start_chain(queue, *encoder)
        # everyone but itself: its own input (its remote publisher) is excluded
        mixer.audio.add_mix(self.leg_id, self.feed, queue.get_static_pad("sink"))
        self.elements += [queue, *encoder]

    def _link_answer_senders(self, offer_sdp: str) -> str:
        """Choose our codecs among the offer's (our preference order), link the senders for
        the offer's m-lines (on the loop, before the offer is set) and return the offer as
        webrtcbin should see it: only the chosen codec per m-line.

        Janus's SIP plugin lets its SIP stack build the answer the terminal gets, which
        takes a codec's *first* payload type in the offer (whatever its fmtp says): a
        terminal offering H.264 mode 0 as 96 and mode 1 as 97 gets 96. So the chosen codec
        keeps that first payload type, with the fmtp of the variant we send."""
        picks: dict[str, tuple[int, str, str]] = {}  # kind → (pt, codec, fmtp): m-line order
        for kind, rows in _offered_in_order(offer_sdp):
            preference = (codecs.VIDEO_PREFERENCE if kind == "video"
                          else codecs.AUDIO_PREFERENCE)
            for codec in preference:
                variant = next(((pt, fmtp) for pt, name, fmtp in rows if name == codec and (
                    codec != codecs.H264 or "packetization-mode=1" in fmtp)), None)
                if variant is not None and kind not in picks:
                    first = next(pt for pt, name, _fmtp in rows if name == codec)
                    picks[kind] = (first, codec, variant[1])
                    if codec == codecs.H264:
                        found = re.search(r"profile-level-id=([0-9A-Fa-f]{6})", variant[1])
                        self._profile_level_id = found.group(1).lower() if found else ""
                    break
        if "audio" not in picks:
            raise ValueError("the terminal offers no audio codec the mixer speaks")
        chosen = LegCodecs(video=picks["video"][1] if "video" in picks else codecs.H264,
                           audio=picks["audio"][1])
        self.spec = LegSpec(self.spec.leg_id, self.spec.label, chosen, self.spec.muted_on_entry)
        self._link_senders({kind: pt for kind, (pt, _codec, _fmtp) in picks.items()})
        return _only_chosen(offer_sdp, picks)

    def _stream(self, received: Received) -> None:
        log.debug("leg %s: receiving %s %s", self.leg_id, received.kind, received.encoding)
        # Linked at once, in webrtcbin's streaming thread (as decodebin users do): data
        # pushed into an unlinked pad would stop the leg's transport with not-linked.
        self.received.add(received.kind)
        self.publisher.link(received)

    def receiving(self) -> dict[str, bool]:
        """Whether the far end's sound and picture have arrived."""
        return {kind: kind in self.received for kind in ("audio", "video")}

    # ------------------------------------------------------------------ signalling

    def _event(self, event: Event) -> None:
        if event.get("janus") == "hangup":  # the WebRTC side went down
            if self.state == LegState.ACCEPTED:
                self._finish(LegState.HANGUP, None, str(event.get("reason", "")))
            return
        data = plugin_data(event)
        if "error_code" in data:
            self._finish(LegState.FAILED, int(data["error_code"]), str(data.get("error")))
            return
        result = data.get("result") or {}
        name = result.get("event")
        jsep = event.get("jsep")
        if name == "registered":
            self._registered.set()
        elif name in ("ringing", "proceeding") and self.state == LegState.CALLING:
            self._set_state(LegState.RINGING)
        elif name in ("progress", "accepted"):
            if jsep and jsep.get("type") == "answer":
                threading.Thread(target=self._accepted, args=(jsep["sdp"],), daemon=True,
                                 name=f"leg-{self.leg_id}-answer").start()
            elif name == "accepted":  # dial-in, or after a 183 that carried the answer
                self._set_state(LegState.ACCEPTED)
        elif name == "hangup":
            code = int(result.get("code") or 0)
            reason = str(result.get("reason") or "")
            if self.state == LegState.ACCEPTED:
                state = LegState.HANGUP
            elif code == 486 or code == 600:
                state = LegState.BUSY
            elif code in (603, 403):
                state = LegState.DECLINED
            else:
                state = LegState.FAILED
            self._finish(state, code or None, reason)

    def _accepted(self, answer_sdp: str) -> None:
        try:
            self.publisher.start()
            assert self.peer is not None
            self.peer.set_answer(answer_sdp)
        except (NegotiationError, JanusError, JanusUnavailable) as exc:
            log.warning("leg %s: answer not usable: %s", self.leg_id, exc)
            self.hangup()
            return
        self._set_state(LegState.ACCEPTED)

    def _set_state(self, state: LegState, code: int | None = None, reason: str = "") -> None:
        with self._lock:
            if self.state == state or self.state.ended:
                return
            self.state = state
        if state == LegState.ACCEPTED:
            if self._encoder:  # what was held back before the answer may be gone
                self.room.loop.soon(self.room.mixer.video.request_keyframe, self._encoder)
            if self.spec.muted_on_entry:
                self.room.mute_feed(self.feed, True)
        update = LegUpdate(self.leg_id, state, code, reason)
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)

    def _finish(self, state: LegState, code: int | None, reason: str) -> None:
        self._set_state(state, code, reason)
        threading.Thread(target=self._cleanup, daemon=True,
                         name=f"leg-{self.leg_id}-cleanup").start()

    def _cleanup(self) -> None:
        with self._lock:
            if self._cleaned:
                return
            self._cleaned = True
        self.publisher.stop()
        mixer = self.room.mixer

        def remove() -> None:
            mixer.audio.remove_mix(self.leg_id)
            for element in self.elements:
                element.set_state(Gst().State.NULL)
            for element in self.elements:
                if element.get_parent() is not None:
                    mixer.pipeline.remove(element)
            if self._encoder:
                mixer.video.release_encoder(self._encoder)
                self._encoder = ""
            self.elements.clear()

        try:
            # webrtcbin first: before the call is answered it holds our senders' streaming
            # threads in a blocking probe, and stopping them first would wait forever.
            if self.peer is not None:
                self.peer.close()
            self.room.loop.call(remove)
        finally:
            if self.handle is not None:
                if self.release_handle is not None:
                    self.release_handle(self.handle)
                else:
                    self.handle.detach()
            self._ended.set()
            self.room.leg_ended(self)


def _offered_in_order(sdp_text: str) -> list[tuple[str, list[tuple[int, str, str]]]]:
    from .webrtc import offered_codecs

    rows = []
    for section in re.split(r"(?=^m=)", sdp_text, flags=re.M)[1:]:
        kind = section.split(" ", 1)[0][2:].strip()
        port = section.split(" ", 2)[1]
        found = offered_codecs("v=0\n" + section).get(kind, [])
        rows.append((kind, found if port != "0" else []))
    return rows


def _only_chosen(sdp_text: str, picks: dict[str, tuple[int, str, str]]) -> str:
    """The SDP with, in each audio/video m-line, only the chosen payload type (with the
    chosen variant's fmtp); m-lines with nothing chosen are left as they are."""
    eol = "\r\n" if "\r\n" in sdp_text else "\n"
    sections = re.split(r"(?=^m=)", sdp_text.replace("\r\n", "\n"), flags=re.M)
    out = [sections[0]]
    for section in sections[1:]:
        lines = section.rstrip("\n").split("\n")
        kind = lines[0][2:].split(" ", 1)[0]
        if kind not in picks:
            out.append(section)
            continue
        pt, _codec, fmtp = picks[kind]
        head = lines[0].split(" ")
        kept = [" ".join([*head[:3], str(pt)])]
        for line in lines[1:]:
            found = re.match(r"^a=(rtpmap|fmtp|rtcp-fb):(\d+|\*)[ ]", line)
            keep = found is None or (found.group(2) in (str(pt), "*")
                                     and found.group(1) != "fmtp")
            if line.startswith("a=ssrc-group:FID"):  # its retransmission codec is gone
                keep = False
            if keep:
                kept.append(line)
        if fmtp:
            kept.append(f"a=fmtp:{pt} {fmtp}")
        out.append("\n".join(kept) + "\n")
    return "".join(out).replace("\n", eol)


def line_quality(stats: dict[str, dict[str, Any]]) -> LineQuality:
    received = lost = 0
    jitters: list[float] = []
    rtts: list[float] = []
    fractions: list[float] = []
    for row in stats.values():
        kind = str(row.get("type", ""))
        if kind == "inbound-rtp":
            received += int(row.get("packets-received") or 0)
            lost += max(int(row.get("packets-lost") or 0), 0)
            if row.get("jitter") is not None:
                jitters.append(float(row["jitter"]) * 1000)
        elif kind == "remote-inbound-rtp":
            if row.get("round-trip-time") is not None:
                rtts.append(float(row["round-trip-time"]) * 1000)
            if row.get("fraction-lost") is not None:
                fractions.append(float(row["fraction-lost"]))
    return LineQuality(received, lost, max(fractions) if fractions else None,
                       max(jitters) if jitters else None, max(rtts) if rtts else None)
