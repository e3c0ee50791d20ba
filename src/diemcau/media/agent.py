"""The mixer agent of one MCU node (`diemcau mixer run --node NAME`): the database is the
truth, the agent brings the node's mixers in line with it (R23–R25).

Every `POLL_SECONDS` it reads the node's SIP calls and live rooms and acts:

- a call requested (by the host, an operator, or the session's start) is dialled: the room
  is made sure of on Janus, then the mixer calls the terminal's address (KH Đ11.7) or the
  upstream MCU (R23), offering the node's codecs;
- a call whose hang-up was asked for, or whose participation closed (the host removed the
  terminal, the meeting ended, a browser of the same endpoint took its place), is hung up;
  an upstream link test is hung up a few seconds after it answers (KH Đ16.1);
- each running room mixer gets the room's layout and main picture (R25), the endpoints'
  names as tile labels, and who is muted (muted endpoints are not mixed, KH Đ11.6).

What the mixer reports (calling, ringing, answered, busy, failed, ended) becomes a service
call (`services.sip`): an answered terminal is a participation, muted on entry; its line
quality from RTCP goes to the consoles every `QUALITY_SECONDS` (`services.telemetry`).
Dial-in (`<meeting code>@<node>`) is answered by the admission service when the engine
offers it (`MixerHost.listen`).

The engine's callbacks come on its own threads: they only queue what happened; all the
database work runs on the agent's loop (and on the short-lived dial threads, which close
their connection when done). Janus is never called inside a transaction.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils.translation import gettext as _

from diemcau.mcu.janus_client import JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode

from .models import (
    ACTIVE_CALL_STATES,
    CallDirection,
    CallKind,
    CallState,
    Participation,
    Room,
    SipCall,
)
from .services import participations, sip, telemetry
from .services.rooms import ensure_room

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
QUALITY_SECONDS = 5.0
# An upstream link test stays up this long once answered, then hangs up (KH Đ16.1).
TEST_SECONDS = 3.0
# A call this agent handled that the mixer no longer carries, without having said why, is
# given up after this long.
LOST_AFTER_SECONDS = 15.0

# The mixer's leg states → the call's.
_ENDINGS = {"busy": CallState.BUSY, "failed": CallState.FAILED, "declined": CallState.REFUSED,
            "hangup": CallState.ENDED}
_PROGRESS = {"calling": CallState.CALLING, "ringing": CallState.RINGING}


def call_id_of(leg_id: str) -> int | None:
    prefix, _sep, number = leg_id.partition("-")
    return int(number) if prefix == "call" and number.isdigit() else None


@dataclass
class _RoomPushed:
    """What the agent last told one room's mixer."""

    layout: tuple[str, int | None] | None = None
    labels: dict[int, str] = field(default_factory=dict)
    muted: dict[int, bool] = field(default_factory=dict)


@dataclass
class _Line:
    received: int = 0
    lost: int = 0
    at: float = 0.0


class MixerAgent:
    def __init__(self, node: McuNode, *, host: Any | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.node_id = node.pk
        self.node_name = node.name
        self.poll_seconds = poll_seconds
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.host = host if host is not None else build_host(node, self._on_update)
        if host is not None:
            host.on_update = self._on_update
        self.known: set[int] = set()  # calls this agent dialled, admitted or carries
        self.busy: dict[int, threading.Thread] = {}  # a dial or hang-up under way
        self.hung_up: set[int] = set()
        self.missing_since: dict[int, float] = {}
        self.rooms: dict[int, _RoomPushed] = {}
        self.lines: dict[int, _Line] = {}
        self.next_quality = 0.0
        self.dial_in: Any = None
        self.front: Any = None  # the SIP front (Kamailio) dial-in comes through
        self.started = threading.Event()
        self._stop = threading.Event()

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Calls the database says are under way on this node are not the mixer's any more
        (the agent or the machine restarted): they end. Then dial-in is opened."""
        node = McuNode.objects.get(pk=self.node_id)
        forgotten = sip.forget_node_calls(node, reason=_("The node's mixer restarted."))
        if forgotten:
            log.info("node %s: %d calls of a previous run ended", self.node_name, len(forgotten))
            remove_stale_publishers(node, forgotten)
        self.dial_in = open_dial_in(self, node)
        self.started.set()

    def run(self) -> None:
        """Until `stop()`: one reconciliation every `poll_seconds`."""
        self.start()
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:  # one bad round must not stop the node's calls
                    log.exception("node %s: mixer agent round failed", self.node_name)
                self._stop.wait(self.poll_seconds)
        finally:
            self.close()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.host.close()
        if self.front is not None:
            with contextlib.suppress(Exception):
                self.front.stop()
        self.drain()
        close_old_connections()

    # ------------------------------------------------------------------ one round

    def step(self) -> None:
        close_old_connections()
        self.drain()
        calls = list(SipCall.objects.filter(node_id=self.node_id, state__in=ACTIVE_CALL_STATES)
                     .select_related("meeting", "endpoint", "participation"))
        for call in calls:
            self._reconcile_call(call)
        self._reconcile_rooms()
        if time.monotonic() >= self.next_quality:
            self.next_quality = time.monotonic() + QUALITY_SECONDS
            self._report_quality(calls)
        self.drain()

    def drain(self) -> None:
        """Turn what the mixer reported into service calls."""
        while True:
            try:
                kind, data = self.events.get_nowait()
            except queue.Empty:
                return
            try:
                if kind == "update":
                    self._apply_update(data)
                elif kind == "failed":
                    call_id, reason = data
                    sip.record_ended(call_id, CallState.FAILED, reason=reason)
            except Exception:
                log.exception("node %s: a mixer report could not be recorded", self.node_name)

    # ------------------------------------------------------------------ the mixer's reports

    def _on_update(self, update: Any) -> None:
        """The mixer's callback (its own thread): queue it, nothing more."""
        self.events.put(("update", update))

    def _apply_update(self, update: Any) -> None:
        call_id = call_id_of(str(update.leg_id))
        if call_id is None:
            return
        state = str(getattr(update.state, "value", update.state))
        code = update.code
        reason = str(update.reason or "")
        log.info("node %s: call %s %s %s", self.node_name, call_id, state,
                 f"({code} {reason})" if code or reason else "")
        if state in _PROGRESS:
            sip.record_progress(call_id, _PROGRESS[state])
        elif state == "accepted":
            found = self.host.leg(f"call-{call_id}")
            if found is None:
                return  # ended already: its ending follows
            answered = sip.record_answered(call_id, feed=int(found[1].feed))
            if answered.replaced is not None:
                participations.kick_quietly(answered.replaced)
        elif state in _ENDINGS:
            sip.record_ended(call_id, _ENDINGS[state], code=code, reason=reason)
            self.lines.pop(call_id, None)

    # ------------------------------------------------------------------ calls

    def _leg(self, call: SipCall) -> Any:
        found = self.host.leg(call.leg_id)
        return found[1] if found is not None else None

    def _reconcile_call(self, call: SipCall) -> None:
        if call.pk in self.busy and self.busy[call.pk].is_alive():
            return
        self.busy.pop(call.pk, None)
        leg = self._leg(call)
        if self._wants_hangup(call):
            if leg is not None:
                if call.pk not in self.hung_up:
                    self.hung_up.add(call.pk)
                    self._in_thread(call.pk, "hangup", self.host.hangup, call.leg_id)
            elif call.pk not in self.known or call.state == CallState.REQUESTED:
                sip.record_ended(call.pk, CallState.ENDED, reason=_("Hung up."))
            else:
                self._maybe_lost(call)
            return
        if call.state == CallState.REQUESTED and call.direction == CallDirection.OUT:
            if call.pk not in self.known:
                self.known.add(call.pk)
                self._dial(call)
            return
        if leg is None:
            self._maybe_lost(call)
        else:
            self.missing_since.pop(call.pk, None)

    def _wants_hangup(self, call: SipCall) -> bool:
        if call.hangup_requested_at is not None:
            return True
        part = call.participation
        # Removed, replaced by a browser of the same endpoint, or the meeting ended.
        return part is not None and part.left_at is not None

    def _maybe_lost(self, call: SipCall) -> None:
        if call.pk not in self.known:
            # Not this agent's (its previous run's were ended at the start): leave it to the
            # agent that carries it, unless it was never dialled by anyone.
            if call.state != CallState.REQUESTED:
                self.known.add(call.pk)
            return
        since = self.missing_since.setdefault(call.pk, time.monotonic())
        if time.monotonic() - since >= LOST_AFTER_SECONDS:
            self.missing_since.pop(call.pk, None)
            sip.record_ended(call.pk, CallState.FAILED,
                             reason=_("The node's mixer no longer carries this call."))

    def _dial(self, call: SipCall) -> None:
        meeting = call.meeting
        if call.kind == CallKind.UPSTREAM and call.is_test:
            self._in_thread(call.pk, "test", self._test_now, call.pk, meeting.pk,
                            call.remote_uri)
            return
        if call.kind == CallKind.UPSTREAM:
            label, muted = sip.upstream_display(), False
        else:
            assert call.endpoint is not None
            label = call.endpoint.name
            from diemcau.rulebooks import active_rulebook

            muted = bool(active_rulebook().session.participants_join_muted
                         and call.endpoint_id != meeting.host_endpoint_id)
        self._in_thread(call.pk, "dial", self._dial_now, call.pk, meeting.pk, label, muted,
                        call.remote_uri)

    def _dial_now(self, call_id: int, meeting_id: int, label: str, muted: bool,
                  uri: str) -> None:
        from diemcau.mixer.legs import LegSpec
        from diemcau.scheduling.models import Meeting

        log.info("node %s: calling %s (call %s)", self.node_name, uri, call_id)
        try:
            room = ensure_room(Meeting.objects.get(pk=meeting_id))
            spec = LegSpec(f"call-{call_id}", label, leg_codecs(), muted_on_entry=muted)
            self.host.dial_out(room_access(room), spec, uri)
        except (JanusError, JanusUnavailable, RuntimeError, ValueError, OSError) as exc:
            log.warning("node %s: call %s to %s failed: %s", self.node_name, call_id, uri, exc)
            self.events.put(("failed", (call_id, str(exc)[:200] or exc.__class__.__name__)))
        except Exception as exc:  # noqa: BLE001 - the call must end, whatever the engine raised
            log.exception("node %s: call %s to %s failed", self.node_name, call_id, uri)
            self.events.put(("failed", (call_id, str(exc)[:200] or exc.__class__.__name__)))

    def _test_now(self, call_id: int, meeting_id: int, uri: str) -> None:
        """KH Đ16.1: test the upstream link before the session — the engine dials it, holds
        the call a few seconds with media both ways, reads the line and hangs up."""
        from diemcau.scheduling.models import Meeting

        log.info("node %s: testing the upstream link %s (call %s)", self.node_name, uri,
                 call_id)
        try:
            room = ensure_room(Meeting.objects.get(pk=meeting_id))
            sip.record_progress(call_id, CallState.CALLING)
            report = self.host.check_link(room_access(room), uri, sip.upstream_display(),
                                          leg_codecs(), seconds=TEST_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the test failed, whatever the engine raised
            log.warning("node %s: link test %s failed: %s", self.node_name, call_id, exc)
            sip.record_link_test(call_id, answered=False, ok=False,
                                 reason=str(exc)[:200] or exc.__class__.__name__)
            return
        sip.record_link_test(call_id, answered=report.answered_after is not None,
                             ok=bool(report.ok), code=report.code, reason=link_summary(report))

    def _in_thread(self, call_id: int, what: str, target: Callable[..., Any],
                   *args: Any) -> None:
        def run() -> None:
            try:
                target(*args)
            except Exception:
                log.exception("node %s: %s of call %s failed", self.node_name, what, call_id)
            finally:
                connection.close()

        thread = threading.Thread(target=run, daemon=True, name=f"agent-{what}-{call_id}")
        self.busy[call_id] = thread
        thread.start()

    # ------------------------------------------------------------------ rooms

    def _reconcile_rooms(self) -> None:
        running = {room_id for room_id in list(self.host.rooms) if self.host.running(room_id)}
        for room_id in set(self.rooms) - running:
            del self.rooms[room_id]
        if not running:
            return
        rooms = (Room.objects.filter(node_id=self.node_id, janus_room_id__in=running,
                                     destroyed_at__isnull=True)
                 .select_related("spotlight"))
        for room in rooms:
            self._push_room(room)

    def _push_room(self, room: Room) -> None:
        from diemcau.mixer.layout import Layout

        pushed = self.rooms.setdefault(room.janus_room_id, _RoomPushed())
        spotlight = room.spotlight
        main = spotlight.janus_id if spotlight is not None and spotlight.left_at is None else None
        wanted = (room.layout, main)
        if pushed.layout != wanted:
            self.host.set_layout(room.janus_room_id, Layout(room.layout), main)
            pushed.layout = wanted
        open_ones = (Participation.objects.filter(meeting_id=room.meeting_id,
                                                  left_at__isnull=True)
                     .select_related("endpoint"))
        for part in open_ones:
            label = part.endpoint.name
            if pushed.labels.get(part.janus_id) != label:
                self.host.set_label(room.janus_room_id, part.janus_id, label)
                pushed.labels[part.janus_id] = label
            if pushed.muted.get(part.janus_id) != part.audio_muted:
                # The mixer only: Janus's `moderate` was sent by the control services.
                self.host.set_muted(room.janus_room_id, part.janus_id, part.audio_muted)
                pushed.muted[part.janus_id] = part.audio_muted

    # ------------------------------------------------------------------ line quality

    def _report_quality(self, calls: list[SipCall]) -> None:
        """R16: each terminal's line as the consoles show a browser's (RTCP, through the
        mixer's WebRTC leg with Janus's SIP plugin)."""
        now = time.monotonic()
        for call in calls:
            part = call.participation
            if call.state != CallState.ANSWERED or part is None or part.left_at is not None:
                continue
            quality = self.host.quality(call.leg_id)
            if quality is None:
                continue
            line = self.lines.setdefault(call.pk, _Line(at=now))
            received = quality.packets_received - line.received
            lost = quality.packets_lost - line.lost
            loss = None
            if quality.fraction_lost is not None:
                loss = 100.0 * float(quality.fraction_lost)
            elif received + lost > 0:
                loss = 100.0 * max(lost, 0) / (received + max(lost, 0))
            self.lines[call.pk] = _Line(quality.packets_received, quality.packets_lost, now)
            telemetry.report_quality(
                part, rtt_ms=None if quality.rtt_ms is None else int(quality.rtt_ms),
                loss_percent=loss, bitrate_kbps=None)


def remove_stale_publishers(node: McuNode, calls: list[SipCall]) -> None:
    """A remote publisher belongs to no Janus session: one left by a mixer that died stays
    in its room, showing a frozen terminal. Remove those of the calls a previous run left."""
    from .services.rooms import videoroom

    for call in calls:
        room = Room.objects.filter(meeting_id=call.meeting_id, node=node,
                                   destroyed_at__isnull=True).first()
        if call.feed is None or room is None:
            continue
        try:
            with videoroom(node) as handle:
                handle.request({"request": "remove_remote_publisher",
                                "room": room.janus_room_id, "secret": room.room_secret,
                                "id": call.feed})
        except (JanusError, JanusUnavailable) as exc:
            log.info("node %s: remote publisher %s not removed: %s", node.name, call.feed, exc)


# ---------------------------------------------------------------------------- the engine


def link_summary(report: Any) -> str:
    """What the consoles say of a link test: what arrived from the upstream, and the line."""
    if report.answered_after is None:
        return str(report.reason or "") or _("The upstream MCU did not answer.")
    missing = [kind for kind, ok in sorted(report.received.items()) if not ok]
    parts = [_("answered in %(seconds).1f s") % {"seconds": report.answered_after}]
    if missing:
        parts.append(_("nothing received: %(kinds)s") % {"kinds": ", ".join(missing)})
    else:
        parts.append(_("picture and sound both ways"))
    quality = report.quality
    if quality is not None and quality.rtt_ms is not None:
        parts.append(_("round trip %(ms)d ms") % {"ms": quality.rtt_ms})
    if quality is not None and quality.fraction_lost is not None:
        parts.append(_("loss %(percent).1f%%") % {"percent": 100 * quality.fraction_lost})
    return "; ".join(parts)


def room_access(room: Room) -> Any:
    from diemcau.mixer.roomapi import RoomAccess

    return RoomAccess(room.janus_room_id, room.room_pin, room.room_secret)


def leg_codecs() -> Any:
    """What the mixer offers a terminal it calls: one video and one sound codec (Janus's SIP
    plugin does not transcode, so the offer decides), H.264 and G.711 by default."""
    from diemcau.mixer.codecs import LegCodecs

    return LegCodecs(video=settings.MIXER_VIDEO_CODEC, audio=settings.MIXER_AUDIO_CODEC)


def mixer_settings(node: McuNode) -> Any:
    from diemcau.mixer.room import MixerSettings
    from diemcau.mixer.video import Canvas, EncoderSettings

    width, height, fps = settings.MIXER_CANVAS
    return MixerSettings(
        node_address=node.sip_host,
        canvas=Canvas(width, height, fps),
        encoding=EncoderSettings(h264_kbps=settings.MIXER_H264_KBPS,
                                 vp8_kbps=settings.MIXER_VP8_KBPS),
        sip_display=f"diemcau {node.name}",
    )


def build_host(node: McuNode, on_update: Callable[[Any], None]) -> Any:
    from diemcau.mixer.host import MixerHost

    if not node.sip_address:
        raise ValueError(f"MCU node {node.name} has no SIP address: terminals cannot reach it")
    if not node.is_managed:
        raise ValueError(f"MCU node {node.name} has no Janus API URL")
    return MixerHost(node.access(), mixer_settings(node), on_update=on_update)


def open_dial_in(agent: MixerAgent, node: McuNode) -> Any:
    """Take terminals' calls to `<meeting code>@<node>` (R24): the SIP front (Kamailio, from
    Debian) on the node's SIP address hands every INVITE to the mixer's listener, which asks
    `decide`. None, with the reason logged, when this machine cannot: the MCU still calls
    the terminals."""
    from diemcau.mixer import sipfront

    reason = sipfront.unavailable_reason()
    if reason:
        log.warning("node %s: no dial-in: %s; terminals are called by the MCU only",
                    node.name, reason)
        return None
    front = None
    try:
        settings_ = sipfront.FrontSettings(node.sip_host, node.sip_port)
        front = sipfront.SipFront(Path(settings.VAR_DIR) / "sipfront" / node.name,
                                  settings_).start()
        agent.front = front
        return agent.host.listen(lambda call: decide(agent, call), front=settings_)
    except Exception as exc:  # noqa: BLE001 - no dial-in is no reason to stop dialling out
        log.warning("node %s: dial-in could not be opened: %s", node.name, exc)
        if front is not None:
            front.stop()
            agent.front = None
        return None


def decide(agent: MixerAgent, incoming: Any) -> Any:
    """The engine asks about an incoming call (its thread): the admission service answers."""
    from diemcau.mixer.dialin import Admit, Refuse
    from diemcau.mixer.legs import LegSpec

    log.info("node %s: dial-in from %s (address %s)", agent.node_name, incoming.caller,
             incoming.source)
    try:
        node = McuNode.objects.get(pk=agent.node_id)
        decision = sip.admit_dial_in(node, dialled=str(incoming.dialled),
                                     caller=str(incoming.caller), source=str(incoming.source),
                                     display=str(getattr(incoming, "display", "")))
        if not decision.admitted or decision.call is None:
            return Refuse(decision.code, _sip_reason(decision.code))
        call = decision.call
        agent.known.add(call.pk)
        # Made sure of on Janus: a room Janus lost (a restart) comes back with the same id.
        room = ensure_room(call.meeting)
        return Admit(room_access(room), LegSpec(call.leg_id, decision.label,
                                                muted_on_entry=decision.muted_on_entry))
    finally:
        connection.close()


def _sip_reason(code: int) -> str:
    return {404: "Not Found", 403: "Forbidden", 486: "Busy Here",
            503: "Service Unavailable"}.get(code, "Forbidden")


# ---------------------------------------------------------------------------- Janus's SIP plugin


def janus_sip_files(config: Any) -> list[Any]:
    """`diemcau janus config|run` extension (registered in `MediaConfig.ready`): Janus's SIP
    plugin on the node's address (`DIEMCAU_SIP_ADDRESS`, else the ICE interface's), with its
    own RTP ports (`DIEMCAU_SIP_RTP_PORT_RANGE`); nothing when SIP is off or no address."""
    from diemcau.mcu import janus_config
    from diemcau.mixer import sipconfig

    host = janus_config.sip_host(config)
    if not host:
        return []
    ports = janus_config.parse_port_range(settings.SIP_RTP_PORT_RANGE)
    return sipconfig.enable_sip(config, sipconfig.SipSettings(host, rtp_port_range=ports))
