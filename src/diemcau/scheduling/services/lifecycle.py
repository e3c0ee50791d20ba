"""The life of a meeting: every change of its status happens here, and only here.

    draft ──submit──▶ submitted ──accept──▶ accepted ──go live──▶ live
      │                 │    └──refuse──▶ refused  │  └─revoke─▶ revoked  │
      └─────cancel──────┴──────cancel──────────────┴─▶ cancelled          │
                                           accepted, live ──end, end by the system──▶ ended

`TRANSITIONS` is the one table of what may follow what. Each service below locks the meeting,
checks the actor's right and the table, changes the status (`_move`), writes the audit event
and tells the observers, in one transaction. A meeting that stops holding (revoked, cancelled,
ended) releases its bookings, capacity and scheduled checks in the same transaction.

The live plane (`media`) must act when a meeting changes state (make or destroy its room,
close the connections with the right reason). It subscribes to `StatusChange`s in its
`AppConfig.ready` (`subscribe`); this module never imports it. Observers run inside the
transaction, so what they write commits or rolls back with the change, and they defer their
calls to Janus to `transaction.on_commit`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from diemcau.core import audit, calendar
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import notices, planning, reasons
from ..choices import HOLDING_STATUSES, MeetingStatus
from ..feeds import public_title
from ..models import Meeting
from ..permissions import can_control, can_manage_meeting, control_refusal
from ..rules import refuse_refusal
from . import holdings
from .approval import lock_capacity, refusal, stamp_reply
from .snapshots import meeting_snapshot


class Transition(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    REFUSE = "refuse"
    REVOKE = "revoke"
    CANCEL = "cancel"
    GO_LIVE = "start"
    END = "end"
    END_BY_SYSTEM = "end_by_system"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[MeetingStatus]
    target: MeetingStatus
    refusal: Any  # lazy text, said when the meeting is in another status (the reader's language)
    audit_action: str


S = MeetingStatus
TRANSITIONS: dict[Transition, Rule] = {
    Transition.SUBMIT: Rule(
        frozenset({S.DRAFT}), S.SUBMITTED,
        gettext_lazy("Only a draft can be submitted."), "meeting.submit"),
    Transition.ACCEPT: Rule(
        frozenset({S.SUBMITTED}), S.ACCEPTED,
        gettext_lazy("Only a submitted meeting can be accepted."), "meeting.accept"),
    Transition.REFUSE: Rule(
        frozenset({S.SUBMITTED}), S.REFUSED,
        gettext_lazy("Only a submitted meeting can be refused."), "meeting.refuse"),
    # KH Đ12.4b: an accepted code may be revoked for a higher-level body's meeting.
    Transition.REVOKE: Rule(
        frozenset({S.ACCEPTED}), S.REVOKED,
        gettext_lazy("Only an accepted meeting can be revoked."), "meeting.revoke"),
    Transition.CANCEL: Rule(
        frozenset({S.DRAFT, S.SUBMITTED, S.ACCEPTED}), S.CANCELLED,
        gettext_lazy("This meeting can no longer be cancelled."), "meeting.cancel"),
    Transition.GO_LIVE: Rule(
        frozenset({S.ACCEPTED}), S.LIVE,
        gettext_lazy("Only an accepted meeting can start."), "meeting.start"),
    Transition.END: Rule(
        frozenset({S.ACCEPTED, S.LIVE}), S.ENDED,
        gettext_lazy("Only an accepted or live meeting can end."), "meeting.end"),
    Transition.END_BY_SYSTEM: Rule(
        frozenset({S.ACCEPTED, S.LIVE}), S.ENDED,
        gettext_lazy("Only an accepted or live meeting can end."), "meeting.end"),
}
del S


def allowed(meeting: Meeting, transition: Transition) -> bool:
    """Whether the table lets `meeting` take `transition` now (pages show their buttons by it)."""
    return meeting.status in TRANSITIONS[transition].sources


# ---------------------------------------------------------------- observers


@dataclass(frozen=True)
class StatusChange:
    """One committed-with-the-transaction change of a meeting's status."""

    meeting: Meeting
    transition: Transition
    previous: str
    actor: User | None

    @property
    def started_holding(self) -> bool:
        return self.previous not in HOLDING_STATUSES and self.meeting.status in HOLDING_STATUSES

    @property
    def stopped_holding(self) -> bool:
        return self.previous in HOLDING_STATUSES and self.meeting.status not in HOLDING_STATUSES


Observer = Callable[[StatusChange], None]
_observers: list[Observer] = []


def subscribe(observer: Observer) -> None:
    """Be told of every status change, inside its transaction (apps call it in `ready`)."""
    if observer not in _observers:
        _observers.append(observer)


# ---------------------------------------------------------------- the one place status changes


def _lock(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("host_agency")
        .get(pk=meeting.pk)
    )


def _move(meeting: Meeting, transition: Transition) -> str:
    """Set the meeting's new status by the table (the caller holds its lock); returns the
    previous status. What a meeting held is released as it stops holding."""
    rule = TRANSITIONS[transition]
    if meeting.status not in rule.sources:
        raise InvalidTransition(str(rule.refusal))
    previous = meeting.status
    if previous in HOLDING_STATUSES and rule.target not in HOLDING_STATUSES:
        holdings.release(meeting)
    meeting.status = rule.target
    return previous


def _record(meeting: Meeting, transition: Transition, previous: str, *, actor: User | None,
            before: dict[str, object] | None, participants: list[int] | None = None) -> None:
    audit.record(TRANSITIONS[transition].audit_action, meeting, actor=actor, before=before,
                 after=meeting_snapshot(meeting, participants))
    change = StatusChange(meeting, transition, previous, actor)
    for observer in list(_observers):
        observer(change)


# ---------------------------------------------------------------- submit (R7, R8)


def stamp_submission(meeting: Meeting, rulebook: Rulebook, now: dt.datetime) -> str:
    """Submit a draft (the caller holds it, or is creating it): check the lead time and stamp
    the receipt — the registration order (KH Đ12.4b) and the operator's reply deadline
    (ĐN Đ11.2b, KH Đ13.2b). Returns the previous status.

    A registration sent to the official mailbox (KH Đ13.2a) was received when its message
    arrived: its order and its lead time count from then, counted in office hours (an
    emergency at once), however late the office completes the draft; the operator's reply
    clock starts now."""
    received = meeting.received_by_email_at or now
    # The lead time runs to the session, not to its rehearsal: KH Đ13.2a "trước thời điểm tổ
    # chức phiên họp ít nhất 02 ngày làm việc", ĐN Đ11.2a "chậm nhất trước 24 giờ" (the
    # meeting's own time). The rehearsal has its technical check instead (KH Đ13.2b).
    counted_from = calendar.registration_received_at(rulebook, received, meeting.urgency)
    calendar.check_lead_time(rulebook, meeting.urgency, meeting.starts_at, counted_from)
    previous = _move(meeting, Transition.SUBMIT)
    meeting.registered_at = received
    meeting.counted_from = counted_from
    meeting.reply_due_at = calendar.reply_deadline(rulebook, now, meeting.urgency)
    return previous


def restart_reply_clock(meeting: Meeting, rulebook: Rulebook, now: dt.datetime, *,
                        check_lead_time: bool = True) -> None:
    """A submitted registration edited before the decision counts as received again: the
    operator's reply deadline starts again, and when its times or urgency changed the lead
    time is checked from now. Its status does not change; a reply deadline already missed
    stays recorded."""
    counted_from = calendar.registration_received_at(rulebook, now, meeting.urgency)
    if check_lead_time:
        calendar.check_lead_time(rulebook, meeting.urgency, meeting.starts_at, counted_from)
    meeting.registered_at = now
    meeting.counted_from = counted_from
    meeting.reply_due_at = calendar.reply_deadline(rulebook, now, meeting.urgency)
    meeting.reply_warned_at = None


def record_new_submission(meeting: Meeting, *, actor: User) -> None:
    """A meeting created and submitted in one step (`create_meeting`): audited and told like
    any submission; the caller has saved it with its participants."""
    _record(meeting, Transition.SUBMIT, MeetingStatus.DRAFT, actor=actor, before=None)
    notices.submitted(meeting)


@transaction.atomic
def submit_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    meeting = _lock(meeting)
    if not can_manage_meeting(actor, meeting):
        raise PermissionDenied("register_meeting")
    before = meeting_snapshot(meeting)
    previous = stamp_submission(meeting, active_rulebook(), timezone.now())
    meeting.save()
    _record(meeting, Transition.SUBMIT, previous, actor=actor, before=before)
    notices.submitted(meeting)
    return meeting


# ---------------------------------------------------------------- the operator's decision


# What an acceptance changes in the meeting's row (`_move`, the node and code, `stamp_reply`):
# the UPDATE writes these, not every column.
ACCEPTED_FIELDS = ["status", "node", "code", "decided_at", "decided_by", "sla_breached_at",
                   "updated_at"]


def _new_code() -> str:
    # R13: the meeting code is a secret; 10 random digits, unique among all meetings.
    while True:
        code = f"{secrets.randbelow(10**10):010d}"
        if not Meeting.objects.filter(code=code).exists():
            return code


@transaction.atomic
def accept_meeting(
    meeting: Meeting, *, actor: User, confirm_revocations: Iterable[int] = ()
) -> Meeting:
    """Accept a submitted meeting: book a node and the endpoints, issue the code, schedule the
    technical checks. When a higher-level meeting only fits by revoking lower-level ones
    (KH Đ12.4b), the operator must confirm exactly those; revocation and acceptance commit
    together."""
    require(actor, Action.DECIDE_MEETING)
    rulebook = active_rulebook()
    meeting = _lock(meeting)
    if not allowed(meeting, Transition.ACCEPT):
        raise InvalidTransition(str(TRANSITIONS[Transition.ACCEPT].refusal))
    # Read once: the audit snapshots, the locks, the plan and the holds use them.
    participants = list(meeting.participants.values_list("pk", flat=True))
    ids = planning.invited_ids(meeting, participants)
    nodes = lock_capacity(meeting, ids)
    plan = planning.plan(meeting, rulebook, nodes, ids)
    if not plan.possible:
        raise refusal(plan, rulebook)
    wanted = {m.pk for m in plan.revocations}
    if wanted != set(confirm_revocations):
        raise RuleViolation(
            code="revocation_needs_confirmation",
            article=rulebook.cite(rulebook.priority.article),
            message=_(
                "To fit this meeting, the codes of these lower-level meetings must be "
                "revoked (latest registered first): %(list)s. Confirm to go ahead."
            )
            % {"list": "; ".join(f"#{m.pk} {m.title}" for m in plan.revocations)},
        )
    revoked = [_revoke(victim, meeting, actor, rulebook) for victim in plan.revocations]
    before = meeting_snapshot(meeting, participants)
    meeting.node = plan.node
    meeting.code = _new_code()
    previous = _move(meeting, Transition.ACCEPT)
    stamp_reply(meeting, actor)
    meeting.save(update_fields=ACCEPTED_FIELDS)
    try:
        with transaction.atomic():
            holdings.hold(meeting, plan.loads, rulebook, ids)
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint: a race we lost
        raise refusal(planning.plan(meeting, rulebook, nodes, ids), rulebook) from exc
    _record(meeting, Transition.ACCEPT, previous, actor=actor, before=before,
            participants=participants)
    notices.accepted(meeting)
    for victim in revoked:  # after the winner holds its place, so the free slots are true
        notices.revoked(victim, meeting)
    return meeting


def _revoke(victim: Meeting, winner: Meeting, actor: User, rulebook: Rulebook) -> Meeting:
    """KH Đ12.4b: the code is revoked to serve a higher-level body's meeting; the revoked code
    no longer opens the room (the observers take it down)."""
    victim = _lock(victim)
    before = meeting_snapshot(victim)
    previous = _move(victim, Transition.REVOKE)
    victim.code = None
    victim.decision_reason_kind = reasons.REVOKED_FOR_HIGHER_LEVEL
    victim.decision_reason_params = {"title": public_title(winner),
                                     "article": rulebook.cite(rulebook.priority.article),
                                     "winner_id": winner.pk}
    # The text as it read when decided, for search and reports; pages read the kind.
    victim.decision_reason = reasons.reason_text(victim)
    victim.decided_at, victim.decided_by = timezone.now(), actor
    victim.save()
    _record(victim, Transition.REVOKE, previous, actor=actor, before=before)
    return victim


@transaction.atomic
def refuse_meeting(meeting: Meeting, *, reason: str, actor: User,
                   proposed: tuple[dt.datetime, dt.datetime] | None = None) -> Meeting:
    """Refuse a submitted meeting, with the reason; the operator may propose another time,
    which the host can take by copying the meeting into a new registration."""
    require(actor, Action.DECIDE_MEETING)
    meeting = _lock(meeting)
    if not allowed(meeting, Transition.REFUSE):
        raise InvalidTransition(str(TRANSITIONS[Transition.REFUSE].refusal))
    announced = refuse_refusal(meeting)
    if announced is not None:
        raise announced
    if not reason.strip():
        raise InvalidInput({"reason": [_("Give the reason.")]})
    if proposed is not None:
        start, end = proposed
        if end <= start:
            raise InvalidInput({"proposed_ends_at": [_("The end must be after the start.")]})
        if start <= timezone.now():
            raise InvalidInput({"proposed_starts_at": [_("Propose a time in the future.")]})
    before = meeting_snapshot(meeting)
    previous = _move(meeting, Transition.REFUSE)
    meeting.decision_reason = reason.strip()
    meeting.proposed_starts_at, meeting.proposed_ends_at = proposed or (None, None)
    stamp_reply(meeting, actor)
    meeting.save()
    _record(meeting, Transition.REFUSE, previous, actor=actor, before=before)
    notices.refused(meeting)
    return meeting


# ---------------------------------------------------------------- the host withdraws


@transaction.atomic
def cancel_meeting(meeting: Meeting, *, reason: str, actor: User) -> Meeting:
    """The host withdraws the meeting; what it held is released at once."""
    meeting = _lock(meeting)
    if not can_manage_meeting(actor, meeting):
        raise PermissionDenied("register_meeting")
    if not allowed(meeting, Transition.CANCEL):
        raise InvalidTransition(str(TRANSITIONS[Transition.CANCEL].refusal))
    if not reason.strip():
        raise InvalidInput({"reason": [_("Give the reason.")]})
    before = meeting_snapshot(meeting)
    previous = _move(meeting, Transition.CANCEL)
    meeting.decision_reason = reason.strip()
    meeting.save()
    _record(meeting, Transition.CANCEL, previous, actor=actor, before=before)
    notices.cancelled(meeting)
    return meeting


# ---------------------------------------------------------------- the session (R16)


def _require_control(actor: User, meeting: Meeting) -> None:
    if not can_control(actor, meeting):
        raise PermissionDenied(
            str(Action.CONTROL_MEETING),
            _("Only the technicians of the controlling endpoint and the MCU operators may "
              "control this meeting."),
        )
    refusal = control_refusal(actor, meeting)
    if refusal is not None:
        raise refusal  # KH Đ10.2, ĐN Đ9.2: the controlling room must meet its requirements


@transaction.atomic
def start_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    """The host opens the official session: the meeting is live (ĐN Đ12, KH Đ14)."""
    _require_control(actor, meeting)
    meeting = _lock(meeting)
    before = meeting_snapshot(meeting)
    previous = _move(meeting, Transition.GO_LIVE)
    meeting.save(update_fields=["status", "updated_at"])
    _record(meeting, Transition.GO_LIVE, previous, actor=actor, before=before)
    return meeting


@transaction.atomic
def end_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    """The host (or an operator) ends the meeting: capacity is released and the observers
    close every connection as ended."""
    _require_control(actor, meeting)
    return _end(meeting, Transition.END, actor)


# A meeting nobody ended is ended this long after its expected end, once nobody is connected.
OVERDUE_AFTER_END = dt.timedelta(hours=1)


def overdue_meetings(now: dt.datetime | None = None) -> list[Meeting]:
    """Accepted or live meetings an hour past their expected end: candidates for the system
    to end (the live plane ends those with nobody connected)."""
    now = now or timezone.now()
    return list(Meeting.objects.filter(status__in=HOLDING_STATUSES,
                                       ends_at__lt=now - OVERDUE_AFTER_END))


@transaction.atomic
def end_meeting_by_system(meeting: Meeting) -> Meeting:
    """The system ends a meeting nobody ended: its room and capacity are freed, and the
    reports count it as held."""
    return _end(meeting, Transition.END_BY_SYSTEM, None)


def _end(meeting: Meeting, transition: Transition, actor: User | None) -> Meeting:
    meeting = _lock(meeting)
    before = meeting_snapshot(meeting)
    previous = _move(meeting, transition)
    meeting.save(update_fields=["status", "updated_at"])
    _record(meeting, transition, previous, actor=actor, before=before)
    return meeting
