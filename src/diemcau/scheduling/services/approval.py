"""The operator's side of a decision (R9, R11–R13): the capacity locks and refusals that
`lifecycle.accept_meeting` uses, the reply stamp, and the reply deadline bookkeeping."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, RuleViolation
from diemcau.core.models import User
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import notices, planning
from ..choices import MeetingStatus
from ..models import Meeting
from ..rules import ReplyState, reply_deadline


def stamp_reply(meeting: Meeting, actor: User) -> None:
    now = timezone.now()
    # Asked before the answer is stamped: was the regulation's limit already past?
    deadline = reply_deadline(meeting, now=now) if meeting.decided_at is None else None
    meeting.decided_at, meeting.decided_by = now, actor
    if (deadline is not None and deadline.breach_at is not None and now > deadline.breach_at
            and meeting.sla_breached_at is None):
        meeting.sla_breached_at = deadline.breach_at


def lock_capacity(meeting: Meeting) -> list[McuNode]:
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


def refusal(plan: planning.Plan, rulebook: Rulebook) -> RuleViolation | InvalidInput:
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
def record_reply_breaches() -> int:
    """Mark submitted meetings whose reply deadline passed unanswered (ĐN Đ11.2b, KH Đ13.2b).
    Run by the worker every minute; returns how many it marked."""
    now = timezone.now()
    rulebook = active_rulebook()
    # The query only narrows the search; `reply_deadline` decides, as on the pages.
    late = Meeting.objects.select_for_update().filter(
        status=MeetingStatus.SUBMITTED, reply_due_at__lt=now, sla_breached_at__isnull=True
    )
    marked = 0
    for meeting in late:
        deadline = reply_deadline(meeting, rulebook, now)
        if deadline is None or not deadline.missed:
            continue
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
    """Warn once about each submitted meeting that is due soon by `rules.reply_deadline` (the
    rulebook's `reply_sla.warn_before_minutes` before the deadline, as the countdown turns
    amber); returns how many were warned. A deadline that already passed is
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
        deadline = reply_deadline(meeting, rulebook, now)
        if deadline is None or deadline.state != ReplyState.DUE_SOON:
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
