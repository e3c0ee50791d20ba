"""The operator's decisions (R9, R11–R13): accept with capacity and priority, refuse, and the
reply deadline bookkeeping."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.calendar import reply_warning_time
from diemcau.core.errors import InvalidInput, InvalidTransition, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.media import rooms
from diemcau.media.tasks import destroy_meeting_room, ensure_meeting_room
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import notices, planning
from ..choices import MeetingStatus
from ..models import Meeting
from . import holdings
from .registration import _snapshot


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("host_agency").get(pk=meeting.pk)


def _stamp_reply(meeting: Meeting, actor: User) -> None:
    now = timezone.now()
    meeting.decided_at, meeting.decided_by = now, actor
    if meeting.reply_due_at and now > meeting.reply_due_at and meeting.sla_breached_at is None:
        meeting.sla_breached_at = meeting.reply_due_at


def _lock_capacity(meeting: Meeting) -> list[McuNode]:
    """Serialize decisions that touch the same nodes or endpoints, in every process: lock the
    node rows and the meeting's endpoint rows, always in primary-key order (no deadlocks)."""
    nodes = list(McuNode.objects.select_for_update().filter(is_active=True).order_by("pk"))
    endpoint_ids = [meeting.host_endpoint_id, *meeting.participants.values_list("pk", flat=True)]
    list(
        Endpoint.objects.select_for_update()
        .filter(pk__in=endpoint_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return nodes


def _new_code() -> str:
    # R13: the meeting code is a secret; 10 random digits, unique among all meetings.
    while True:
        code = f"{secrets.randbelow(10**10):010d}"
        if not Meeting.objects.filter(code=code).exists():
            return code


def _refusal(plan: planning.Plan, rulebook: Rulebook) -> RuleViolation | InvalidInput:
    if plan.blocking_conflicts:
        busy = ", ".join(f"{c.endpoint.name} ({c.meeting.title})" for c in plan.blocking_conflicts)
        return InvalidInput(
            {
                "participants": [
                    _("These endpoints are already booked at that time: %(busy)s.") % {"busy": busy}
                ]
            }
        )
    return RuleViolation(
        code="mcu_capacity_full",
        article=rulebook.cite(rulebook.capacity.article),
        message=_("No MCU node has room at that time within %(cap)s%% of its capacity.")
        % {"cap": rulebook.capacity.cap_percent},
    )


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
    if meeting.status != MeetingStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted meeting can be accepted."))
    nodes = _lock_capacity(meeting)
    plan = planning.plan(meeting, rulebook, nodes)
    if not plan.possible:
        raise _refusal(plan, rulebook)
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
    before = _snapshot(meeting)
    meeting.node = plan.node
    meeting.code = _new_code()
    meeting.status = MeetingStatus.ACCEPTED
    _stamp_reply(meeting, actor)
    meeting.save()
    try:
        with transaction.atomic():
            holdings.hold(meeting, planning.endpoint_count(meeting), rulebook)
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint: a race we lost
        raise _refusal(planning.plan(meeting, rulebook, nodes), rulebook) from exc
    audit.record("meeting.accept", meeting, actor=actor, before=before, after=_snapshot(meeting))
    if _room_due(meeting):
        # Janus is called by the worker after the commit, never inside this transaction.
        transaction.on_commit(
            functools.partial(ensure_meeting_room, meeting.pk, actor_id=actor.pk), robust=True
        )
    notices.accepted(meeting)
    for victim in revoked:  # after the winner holds its place, so the free slots are true
        notices.revoked(victim, meeting)
    return meeting


def _revoke(victim: Meeting, winner: Meeting, actor: User, rulebook: Rulebook) -> Meeting:
    victim = _lock(victim)
    before = _snapshot(victim)
    holdings.release(victim)
    victim.status = MeetingStatus.REVOKED
    victim.code = None
    victim.decision_reason = _(
        "Code revoked to serve a meeting of a higher-level body: %(title)s (%(article)s)."
    ) % {"title": winner.title, "article": rulebook.cite(rulebook.priority.article)}
    victim.decided_at, victim.decided_by = timezone.now(), actor
    victim.save()
    audit.record("meeting.revoke", victim, actor=actor, before=before, after=_snapshot(victim))
    # KH Đ12.4b: the revoked code no longer opens the room, and the room goes too.
    transaction.on_commit(
        functools.partial(destroy_meeting_room, victim.pk, actor_id=actor.pk), robust=True
    )
    return victim


def _room_due(meeting: Meeting) -> bool:
    """Whether the meeting needs its room already (R15: it exists ROOM_LEAD before the first
    technical check, so the check runs in the real room). Later rooms are made by the
    periodic reconcile when their time comes; a room made earlier would be taken for an
    orphan and destroyed by it."""
    assert meeting.node is not None
    return rooms.wanted_meetings(meeting.node).filter(pk=meeting.pk).exists()


@transaction.atomic
def refuse_meeting(meeting: Meeting, *, reason: str, actor: User) -> Meeting:
    require(actor, Action.DECIDE_MEETING)
    meeting = _lock(meeting)
    if meeting.status != MeetingStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted meeting can be refused."))
    if not reason.strip():
        raise InvalidInput({"reason": [_("Give the reason.")]})
    before = _snapshot(meeting)
    meeting.status = MeetingStatus.REFUSED
    meeting.decision_reason = reason.strip()
    _stamp_reply(meeting, actor)
    meeting.save()
    audit.record("meeting.refuse", meeting, actor=actor, before=before, after=_snapshot(meeting))
    notices.refused(meeting)
    return meeting


@transaction.atomic
def record_reply_breaches() -> int:
    """Mark submitted meetings whose reply deadline passed unanswered (ĐN Đ11.2b, KH Đ13.2b).
    Run by the worker every minute; returns how many it marked."""
    now = timezone.now()
    late = Meeting.objects.select_for_update().filter(
        status=MeetingStatus.SUBMITTED, reply_due_at__lt=now, sla_breached_at__isnull=True
    )
    marked = 0
    for meeting in late:
        meeting.sla_breached_at = now
        meeting.save(update_fields=["sla_breached_at"])
        audit.record(
            "meeting.reply_overdue",
            meeting,
            actor=None,
            after={"reply_due_at": meeting.reply_due_at, "breached_at": now},
        )
        notices.reply_overdue(meeting)
        marked += 1
    return marked


@transaction.atomic
def warn_replies_due_soon(now: dt.datetime | None = None) -> int:
    """Warn once about each submitted meeting whose warning time (the rulebook's
    `reply_sla.warn_before_minutes` before the deadline) has come and whose deadline has not
    passed yet; returns how many were warned. A deadline that already passed is
    `record_reply_breaches`'s business."""
    now = now or timezone.now()
    rulebook = active_rulebook()
    candidates = (
        Meeting.objects.select_for_update()
        .select_related("host_agency")
        .filter(
            status=MeetingStatus.SUBMITTED,
            reply_warned_at__isnull=True,
            sla_breached_at__isnull=True,
            registered_at__isnull=False,
            reply_due_at__gt=now,
        )
        .order_by("reply_due_at", "pk")
    )
    warned = 0
    for meeting in candidates:
        received = meeting.registered_at
        if received is None or reply_warning_time(rulebook, received) > now:
            continue
        meeting.reply_warned_at = now
        meeting.save(update_fields=["reply_warned_at"])
        audit.record(
            "meeting.reply_warning",
            meeting,
            actor=None,
            after={"reply_due_at": meeting.reply_due_at, "warned_at": now},
        )
        notices.reply_due_soon(meeting)
        warned += 1
    return warned
