"""SIP calls of a meeting (R23, R24): hardware terminals and the upstream MCU.

The database is the truth; the node's mixer agent (`diemcau mixer run`, `media.agent`) does
what is asked here and reports back. Each function is one transaction with its audit event:

- the host's and the operator's requests: `request_call` (KH Đ11.7: the central MCU calls
  the endpoint's registered VCS address), `request_hangup`, `call_upstream` and
  `test_upstream_link` (KH Đ16.1: the link is tested before the session);
- the session's start (the lifecycle's GO_LIVE, through `meeting_status`):
  `call_invited_terminals` calls every invited hardware endpoint not yet connected, and the
  upstream link;
- the agent's reports: `record_progress` (calling, ringing), `record_answered` (a terminal
  becomes a participation, muted on entry, KH Đ11.6), `record_ended`;
- dial-in: `admit_dial_in` admits a terminal that dials `<meeting code>@<node>` only when it
  is an admitted endpoint invited to that meeting, matched by its registered address or its
  SIP account, and refuses anything else with a clear, audited refusal.

A SIP leg's participation is like any other: the host's floor, mute, mute-all and main
picture act on its feed (`control`), and removing it hangs the call up (`hang_up_for`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import (
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    RuleViolation,
)
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.core.sip import normalize_sip_uri, same_account, sip_parts
from diemcau.directory.choices import TerminalKind
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.planning import hardware_endpoints

from .. import broadcast
from ..models import (
    ACTIVE_CALL_STATES,
    CallDirection,
    CallKind,
    CallState,
    LeaveReason,
    Participation,
    Room,
    SipCall,
    Transport,
)
from ..permissions import is_operator
from .control import require_control
from .grants import check_may_enter
from .join_links import LINK_GRACE_AFTER_END
from .participations import close_participation, hash_secret, snapshot

log = logging.getLogger(__name__)

OPEN_STATUSES = (MeetingStatus.ACCEPTED, MeetingStatus.LIVE)
CALL_FIELDS = [
    "meeting_id", "node_id", "endpoint_id", "kind", "direction", "is_test", "remote_uri",
    "source_address", "state", "sip_code", "reason", "participation_id", "feed", "requested_by_id",
    "answered_at", "ended_at", "hangup_requested_at",
]
# The order calls move through; a report never moves a call back.
_PROGRESS: list[str] = [CallState.REQUESTED, CallState.CALLING, CallState.RINGING,
                        CallState.ANSWERED]
# The feeds of a terminal's remote publisher (the mixer publishes audio as mid 0, video as 1).
SIP_AUDIO_MID, SIP_VIDEO_MID = "0", "1"


def call_snapshot(call: SipCall) -> dict[str, object]:
    return audit.snapshot(call, CALL_FIELDS)


def dial_target(endpoint: Endpoint) -> str:
    """Where the MCU calls a terminal (KH Đ11.7): its SIP account when it has one, else its
    registered VCS IP address."""
    if endpoint.sip_uri:
        return endpoint.sip_uri
    if endpoint.vcs_ip:
        host = endpoint.vcs_ip
        return f"sip:[{host}]" if ":" in host else f"sip:{host}"
    raise InvalidInput({"endpoint": [
        _("This endpoint has no VCS address or SIP account to call.")
    ]})


def is_hardware(endpoint: Endpoint) -> bool:
    """A VCS the MCU can call or recognise (R24)."""
    return endpoint.terminal_kind == TerminalKind.VCS and bool(endpoint.vcs_ip or endpoint.sip_uri)


def upstream_display() -> str:
    """The upstream MCU's name in the room, from the rulebook (R23)."""
    return active_rulebook().interconnection.upstream_display_vi


def participant_display(endpoint: Endpoint) -> str:
    return f"{endpoint.name} — {endpoint.agency.name}"[:160]


# ---------------------------------------------------------------------------- checks


def _lock_meeting(meeting_id: int) -> Meeting:
    return (Meeting.objects.select_for_update(of=("self",))
            .select_related("node", "host_agency").get(pk=meeting_id))


def _sip_node(meeting: Meeting) -> McuNode:
    node = meeting.node
    if node is None:
        raise InvalidTransition(_("The meeting has no MCU node."))
    if not node.sip_address:
        raise InvalidTransition(
            _("The MCU node %(node)s takes no SIP terminals: it has no SIP address.")
            % {"node": node.name})
    return node


def _check_open(meeting: Meeting) -> None:
    if meeting.status not in OPEN_STATUSES:
        raise InvalidTransition(_("This meeting is not open: it is %(status)s.")
                                % {"status": meeting.get_status_display()})
    if meeting.ends_at + LINK_GRACE_AFTER_END <= timezone.now():
        raise InvalidTransition(_("This meeting is over."))


def _check_capacity(meeting: Meeting, node: McuNode, *, participant: bool) -> None:
    """The node's hardware maxima (R11): a SIP leg is a connected endpoint, and a meeting's
    first call starts one of the node's mixers."""
    if participant:
        connected = Participation.objects.filter(node=node, left_at__isnull=True).count()
        if connected >= node.max_endpoints:
            raise InvalidTransition(
                _("The MCU node %(node)s already carries its maximum of %(max)s endpoints.")
                % {"node": node.name, "max": node.max_endpoints})
    mixing = set(SipCall.objects.filter(node=node, state__in=ACTIVE_CALL_STATES)
                 .values_list("meeting_id", flat=True))
    if meeting.pk not in mixing and len(mixing) >= node.max_mixers:
        raise InvalidTransition(
            _("The MCU node %(node)s already runs its maximum of %(max)s mixers.")
            % {"node": node.name, "max": node.max_mixers})


def _create(meeting: Meeting, node: McuNode, *, actor: User | None, action: str,
            **fields: object) -> SipCall:
    try:
        with transaction.atomic():
            call = SipCall.objects.create(meeting=meeting, node=node, requested_by=actor,
                                          **fields)
    except IntegrityError:
        raise InvalidTransition(
            _("This endpoint is already being called or is in the meeting.")
            if fields.get("kind", CallKind.TERMINAL) == CallKind.TERMINAL
            else _("The upstream link is already being called or is connected.")
        ) from None
    audit.record(action, call, actor=actor, after=call_snapshot(call))
    broadcast.meeting_changed(meeting.pk, participants=False)
    return call


# ---------------------------------------------------------------------------- requests


def request_call(meeting: Meeting, endpoint: Endpoint, *, actor: User) -> SipCall:
    """KH Đ11.7: the host or an operator has the MCU call an invited endpoint's VCS."""
    require_control(actor, meeting)
    with transaction.atomic():
        meeting = _lock_meeting(meeting.pk)
        endpoint = Endpoint.objects.select_related("agency").get(pk=endpoint.pk)
        node = _sip_node(meeting)
        check_may_enter(meeting, endpoint)
        target = dial_target(endpoint)
        _check_capacity(meeting, node, participant=True)
        return _create(meeting, node, actor=actor, action="sip.call", endpoint=endpoint,
                       kind=CallKind.TERMINAL, direction=CallDirection.OUT,
                       remote_uri=target)


def call_invited_terminals(meeting: Meeting, *, actor: User | None) -> list[SipCall]:
    """The session starts: call every invited hardware endpoint that is neither connected
    nor being called, and the upstream link (inside the lifecycle's transaction). An
    endpoint that may not enter now (not admitted, R20) is skipped, as it would be refused."""
    node = meeting.node
    if node is None or not node.sip_address:
        return []
    invited = [meeting.host_endpoint_id, *meeting.participants.values_list("pk", flat=True)]
    busy = set(Participation.objects.filter(meeting=meeting, left_at__isnull=True)
               .values_list("endpoint_id", flat=True))
    busy |= set(SipCall.objects.filter(meeting=meeting, state__in=ACTIVE_CALL_STATES,
                                       endpoint__isnull=False)
                .values_list("endpoint_id", flat=True))
    made: list[SipCall] = []
    for endpoint in hardware_endpoints(meeting).select_related("agency").order_by("name"):
        if endpoint.pk in busy or endpoint.pk not in invited:
            continue
        try:
            check_may_enter(meeting, endpoint)
            _check_capacity(meeting, node, participant=True)
            made.append(_create(meeting, node, actor=actor, action="sip.call",
                                endpoint=endpoint, kind=CallKind.TERMINAL,
                                direction=CallDirection.OUT, remote_uri=dial_target(endpoint)))
        except (InvalidTransition, InvalidInput, PermissionDenied, RuleViolation) as exc:
            log.info("meeting %s: endpoint %s not called at the start: %s", meeting.pk,
                     endpoint.pk, exc)
    if meeting.upstream_uri and not SipCall.objects.filter(
            meeting=meeting, kind=CallKind.UPSTREAM, state__in=ACTIVE_CALL_STATES).exists():
        try:
            made.append(_create(meeting, node, actor=actor, action="sip.call_upstream",
                                kind=CallKind.UPSTREAM, direction=CallDirection.OUT,
                                remote_uri=meeting.upstream_uri))
        except InvalidTransition as exc:
            log.info("meeting %s: upstream not called: %s", meeting.pk, exc)
    return made


def call_upstream(meeting: Meeting, *, actor: User, test: bool = False) -> SipCall:
    """Call the meeting's upstream MCU (R23): for the session, by its controllers, or as a
    test of the link before it (KH Đ16.1), by the MCU operators; a test call hangs up once
    it is answered."""
    if test:
        if not is_operator(actor):
            raise PermissionDenied(str(Action.MANAGE_MCU),
                                   _("Only MCU operators test the upstream link."))
    else:
        require_control(actor, meeting)
    with transaction.atomic():
        meeting = _lock_meeting(meeting.pk)
        if not meeting.upstream_uri:
            raise InvalidTransition(_("This meeting has no upstream link."))
        _check_open(meeting)
        node = _sip_node(meeting)
        _check_capacity(meeting, node, participant=False)
        return _create(meeting, node, actor=actor,
                       action="sip.test_upstream" if test else "sip.call_upstream",
                       kind=CallKind.UPSTREAM, direction=CallDirection.OUT,
                       remote_uri=meeting.upstream_uri, is_test=test)


def test_upstream_link(meeting: Meeting, *, actor: User) -> SipCall:
    return call_upstream(meeting, actor=actor, test=True)


def request_hangup(call: SipCall, *, actor: User) -> SipCall:
    """End a call (the host's "hang up"): a call not dialled yet ends at once, the others
    are hung up by the agent."""
    require_control(actor, Meeting.objects.select_related("host_agency").get(pk=call.meeting_id))
    with transaction.atomic():
        current = SipCall.objects.select_for_update().get(pk=call.pk)
        if not current.is_active or current.hangup_requested_at is not None:
            return current
        _hang_up(current, actor=actor)
    return current


def _hang_up(call: SipCall, *, actor: User | None) -> None:
    """Inside the caller's transaction, with the call locked."""
    before = call_snapshot(call)
    now = timezone.now()
    call.hangup_requested_at = now
    fields = ["hangup_requested_at"]
    if call.state == CallState.REQUESTED:  # never dialled: nothing for the agent to do
        call.state, call.ended_at, call.reason = CallState.ENDED, now, _("Cancelled.")
        fields += ["state", "ended_at", "reason"]
    call.save(update_fields=fields)
    audit.record("sip.hangup", call, actor=actor, before=before, after=call_snapshot(call))
    broadcast.meeting_changed(call.meeting_id, participants=False)


def hang_up_all(meeting: Meeting, *, actor: User | None) -> int:
    """The meeting stops holding its node (ended, revoked, cancelled): every call of it ends
    (inside the lifecycle's transaction); returns how many."""
    calls = list(SipCall.objects.select_for_update().filter(
        meeting=meeting, state__in=ACTIVE_CALL_STATES, hangup_requested_at__isnull=True))
    for call in calls:
        _hang_up(call, actor=actor)
    return len(calls)


def hang_up_for(participation: Participation, *, actor: User | None) -> None:
    """The host removed a terminal (inside `control.kick`'s transaction): its call ends."""
    call = SipCall.objects.select_for_update().filter(participation=participation).first()
    if call is not None and call.is_active and call.hangup_requested_at is None:
        _hang_up(call, actor=actor)


# ---------------------------------------------------------------------------- the agent


def _lock_call(call_id: int) -> SipCall:
    # Only the call's row is locked: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join to an upstream link's missing endpoint.
    return SipCall.objects.select_for_update(of=("self",)).select_related(
        "meeting", "endpoint__agency", "node").get(pk=call_id)


def record_progress(call_id: int, state: str, *, reason: str = "") -> SipCall:
    """The agent dials, or the far end rings."""
    with transaction.atomic():
        call = _lock_call(call_id)
        if (state not in _PROGRESS or call.state not in _PROGRESS
                or _PROGRESS.index(state) <= _PROGRESS.index(call.state)):
            return call
        before = call_snapshot(call)
        call.state = state
        if reason:
            call.reason = reason[:200]
        call.save(update_fields=["state", "reason"])
        audit.record(f"sip.{state}", call, actor=None, before=before, after=call_snapshot(call))
        broadcast.meeting_changed(call.meeting_id, participants=False)
    return call


@dataclass(frozen=True)
class Answered:
    call: SipCall
    participation: Participation | None
    replaced: Participation | None  # a browser of the same endpoint, to drop from Janus


def record_answered(call_id: int, *, feed: int) -> Answered:
    """The far end answered: a terminal becomes a participation, muted on entry unless it is
    the host's (KH Đ11.6), whose `janus_id` is the feed of its remote publisher. A call that
    was hung up meanwhile stays ended (the agent hangs it up)."""
    with transaction.atomic():
        call = _lock_call(call_id)
        if call.state not in _PROGRESS or call.hangup_requested_at is not None:
            return Answered(call, None, None)
        before = call_snapshot(call)
        now = timezone.now()
        participation = replaced = None
        if call.kind == CallKind.TERMINAL and call.endpoint is not None:
            participation, replaced = _join(call, feed, now)
        call.state, call.answered_at, call.participation = CallState.ANSWERED, now, participation
        call.feed = feed or None
        call.save(update_fields=["state", "answered_at", "participation", "feed"])
        audit.record("sip.answered", call, actor=None, before=before, after=call_snapshot(call))
        broadcast.meeting_changed(call.meeting_id)
    return Answered(call, participation, replaced)


def _join(call: SipCall, feed: int, now: dt.datetime) -> tuple[Participation, Participation | None]:
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=call.meeting_id)
    endpoint = call.endpoint
    assert endpoint is not None
    # One connection per endpoint (as for browsers): the terminal takes the place over.
    replaced = (Participation.objects.select_for_update()
                .filter(meeting=meeting, endpoint=endpoint, left_at__isnull=True).first())
    if replaced is not None:
        close_participation(replaced, LeaveReason.LEFT, actor=None, action="live.replaced")
    muted = (active_rulebook().session.participants_join_muted
             and endpoint.pk != meeting.host_endpoint_id)
    participation = Participation.objects.create(
        meeting=meeting, endpoint=endpoint, user=None, node=call.node,
        transport=Transport.SIP, display=participant_display(endpoint), janus_id=feed,
        key_hash=hash_secret(secrets.token_urlsafe(24)), janus_token_secret="",
        audio_mid=SIP_AUDIO_MID, video_mid=SIP_VIDEO_MID, joined_at=now, audio_muted=muted,
    )
    audit.record("live.join", participation, actor=None, after=snapshot(participation))
    return participation, replaced


# Call states the agent reports at the end of a call.
ENDINGS = (CallState.ENDED, CallState.BUSY, CallState.FAILED, CallState.REFUSED)


def record_ended(call_id: int, state: str, *, code: int | None = None,
                 reason: str = "") -> SipCall:
    """The call is over: busy, failed, refused by the far end, or ended after being answered
    (or hung up before it was). Its participation closes: the terminal left, unless the host
    had removed it already."""
    assert state in ENDINGS, state
    with transaction.atomic():
        call = _lock_call(call_id)
        if not call.is_active:
            return call
        before = call_snapshot(call)
        if call.hangup_requested_at is not None or call.state == CallState.ANSWERED:
            state = CallState.ENDED  # hung up by us, or a call that went on and ended
        call.state, call.ended_at = state, timezone.now()
        call.sip_code = code if code and 100 <= code < 700 else None
        call.reason = (reason or call.reason)[:200]
        call.save(update_fields=["state", "ended_at", "sip_code", "reason"])
        if call.participation_id:
            current = Participation.objects.select_for_update().get(pk=call.participation_id)
            if current.left_at is None:
                close_participation(current, LeaveReason.LEFT, actor=None, action="live.leave")
        audit.record("sip.ended", call, actor=None, before=before, after=call_snapshot(call))
        broadcast.meeting_changed(call.meeting_id)
    return call


def record_link_test(call_id: int, *, answered: bool, ok: bool, code: int | None = None,
                     reason: str = "") -> SipCall:
    """KH Đ16.1: the outcome of an upstream link test. It passed when the upstream MCU
    answered and picture and sound flowed both ways (the call is then hung up: ended); else
    it failed, with what the far end said or what did not arrive."""
    with transaction.atomic():
        call = _lock_call(call_id)
        if not call.is_active:
            return call
        before = call_snapshot(call)
        now = timezone.now()
        if answered and call.answered_at is None:
            call.answered_at = now
        call.state = CallState.ENDED if ok else CallState.FAILED
        call.ended_at = now
        call.sip_code = code if code and 100 <= code < 700 else None
        call.reason = reason[:200]
        call.save(update_fields=["state", "answered_at", "ended_at", "sip_code", "reason"])
        audit.record("sip.link_test", call, actor=None, before=before,
                     after=call_snapshot(call))
        broadcast.meeting_changed(call.meeting_id, participants=False)
    return call


def forget_node_calls(node: McuNode, *, reason: str) -> list[SipCall]:
    """The agent (re)starts with no legs: calls the database still thinks under way on its
    node have ended (their participations close as lost); returns them (their remote
    publishers may still be in the rooms)."""
    ended: list[SipCall] = []
    for call_id in SipCall.objects.filter(node=node, state__in=[
            CallState.CALLING, CallState.RINGING, CallState.ANSWERED]).values_list("pk", flat=True):
        with transaction.atomic():
            call = _lock_call(call_id)
            if not call.is_active:
                continue
            before = call_snapshot(call)
            call.state, call.ended_at = (
                CallState.ENDED if call.state == CallState.ANSWERED else CallState.FAILED,
                timezone.now())
            call.reason = reason[:200]
            call.save(update_fields=["state", "ended_at", "reason"])
            if call.participation_id:
                current = Participation.objects.select_for_update().get(pk=call.participation_id)
                if current.left_at is None:
                    close_participation(current, LeaveReason.LOST, actor=None,
                                        action="live.leave")
            audit.record("sip.ended", call, actor=None, before=before, after=call_snapshot(call))
            broadcast.meeting_changed(call.meeting_id)
        ended.append(call)
    return ended


# ---------------------------------------------------------------------------- dial-in


@dataclass(frozen=True)
class DialInDecision:
    """The answer to a terminal dialling a meeting. `call` is the admitted call, or the
    refused one's record when the meeting is known; a refusal carries its SIP code and the
    reason the console and the audit log show."""

    admitted: bool
    call: SipCall | None = None
    room: Room | None = None
    code: int = 200
    reason: str = ""

    @property
    def label(self) -> str:
        if self.call is None:
            return ""
        if self.call.endpoint is not None:
            return self.call.endpoint.name
        return upstream_display()

    @property
    def muted_on_entry(self) -> bool:
        call = self.call
        if call is None or call.endpoint_id is None:
            return False
        return bool(active_rulebook().session.participants_join_muted
                    and call.endpoint_id != call.meeting.host_endpoint_id)


NOT_FOUND, FORBIDDEN, BUSY_HERE, UNAVAILABLE = 404, 403, 486, 503


def admit_dial_in(node: McuNode, *, dialled: str, caller: str, source: str = "",
                  display: str = "") -> DialInDecision:
    """A terminal dialled `<dialled>@<node>`: admit it only when `dialled` is the code of an
    open meeting on this node and the caller is an admitted endpoint invited to it (matched
    by its registered VCS address or its SIP account), or the meeting's upstream MCU."""
    try:
        caller_uri = normalize_sip_uri(caller)
    except ValueError:
        caller_uri = caller.strip()[:200]
    address = _address(source)
    with transaction.atomic():
        meeting = (Meeting.objects.select_for_update(of=("self",))
                   .select_related("host_agency", "node")
                   .filter(code=dialled.strip() or None, node=node).first())
        if meeting is None or meeting.status not in OPEN_STATUSES:
            # R13: the dialled digits are not kept: they may be near a real code.
            audit.record("sip.refuse", node, actor=None, after={
                "caller": caller_uri, "source": address,
                "reason": "unknown meeting code"})
            return DialInDecision(False, code=NOT_FOUND,
                                  reason=_("No open meeting has this code on this node."))
        if meeting.upstream_uri and (same_account(caller_uri, meeting.upstream_uri)
                                     or _host_is(meeting.upstream_uri, address)):
            return _admit_upstream(meeting, node, caller_uri, address)
        endpoint = _match(meeting, caller_uri, address)
        if endpoint is None:
            return _refuse(meeting, node, None, caller_uri, address, FORBIDDEN,
                           _("The caller is not an endpoint invited to this meeting."))
        try:
            check_may_enter(meeting, endpoint)
        except (InvalidTransition, PermissionDenied, RuleViolation) as exc:
            return _refuse(meeting, node, endpoint, caller_uri, address, FORBIDDEN, str(exc))
        try:
            _check_capacity(meeting, node, participant=True)
        except InvalidTransition as exc:
            return _refuse(meeting, node, endpoint, caller_uri, address, UNAVAILABLE, str(exc))
        room = Room.objects.filter(meeting=meeting, destroyed_at__isnull=True).first()
        if room is not None and room.locked:
            return _refuse(meeting, node, endpoint, caller_uri, address, FORBIDDEN,
                           _("The host has locked the meeting: no one else may join."))
        if SipCall.objects.filter(meeting=meeting, endpoint=endpoint,
                                  state__in=ACTIVE_CALL_STATES).exists():
            return _refuse(meeting, node, endpoint, caller_uri, address, BUSY_HERE,
                           _("This endpoint is already being called or is in the meeting."))
        call = _create(meeting, node, actor=None, action="sip.dial_in", endpoint=endpoint,
                       kind=CallKind.TERMINAL, direction=CallDirection.IN,
                       remote_uri=caller_uri, source_address=address, state=CallState.CALLING)
        return DialInDecision(True, call, room)


def _admit_upstream(meeting: Meeting, node: McuNode, caller: str, address: str | None
                    ) -> DialInDecision:
    """R23: the upstream MCU may call the meeting rather than be called."""
    if SipCall.objects.filter(meeting=meeting, kind=CallKind.UPSTREAM,
                              state__in=ACTIVE_CALL_STATES).exists():
        return _refuse(meeting, node, None, caller, address, BUSY_HERE,
                       _("The upstream link is already being called or is connected."),
                       kind=CallKind.UPSTREAM)
    try:
        _check_open(meeting)
        _check_capacity(meeting, node, participant=False)
    except InvalidTransition as exc:
        return _refuse(meeting, node, None, caller, address, UNAVAILABLE, str(exc),
                       kind=CallKind.UPSTREAM)
    room = Room.objects.filter(meeting=meeting, destroyed_at__isnull=True).first()
    call = _create(meeting, node, actor=None, action="sip.dial_in", kind=CallKind.UPSTREAM,
                   direction=CallDirection.IN, remote_uri=caller, source_address=address,
                   state=CallState.CALLING)
    return DialInDecision(True, call, room)


def _refuse(meeting: Meeting, node: McuNode, endpoint: Endpoint | None, caller: str,
            address: str | None, code: int, reason: str,
            kind: str = CallKind.TERMINAL) -> DialInDecision:
    """A refused dial-in, kept as a call of the meeting (the console shows it) and audited."""
    now = timezone.now()
    call = SipCall.objects.create(
        meeting=meeting, node=node, endpoint=endpoint, kind=kind, direction=CallDirection.IN,
        remote_uri=caller[:200], source_address=address, state=CallState.REFUSED,
        sip_code=code, reason=reason[:200], ended_at=now)
    audit.record("sip.refuse", call, actor=None, after=call_snapshot(call))
    broadcast.meeting_changed(meeting.pk, participants=False)
    return DialInDecision(False, call, None, code, reason)


def _address(source: str) -> str | None:
    text = source.strip().strip("[]")
    if ":" in text and text.count(":") == 1:  # "10.1.2.3:5060"
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _host_is(uri: str, address: str | None) -> bool:
    if address is None:
        return False
    try:
        return sip_parts(uri).host.strip("[]") == address
    except ValueError:
        return False


def _match(meeting: Meeting, caller: str, address: str | None) -> Endpoint | None:
    """The invited hardware endpoint the caller is: by its SIP account first (an account is
    specific), else by the address it called from being its registered VCS address."""
    invited = [meeting.host_endpoint_id, *meeting.participants.values_list("pk", flat=True)]
    candidates = list(Endpoint.objects.filter(pk__in=invited).select_related("agency"))
    for endpoint in candidates:
        if endpoint.sip_uri and same_account(endpoint.sip_uri, caller):
            return endpoint
    if address is not None:
        for endpoint in candidates:
            if endpoint.vcs_ip and str(ipaddress.ip_address(endpoint.vcs_ip)) == address:
                return endpoint
    return None
