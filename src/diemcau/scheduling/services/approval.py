"""The operator's side of a decision (R9, R11–R13): the capacity locks and refusals that
`lifecycle.accept_meeting` uses, the reply stamp, and the reply deadline bookkeeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit, calendar
from diemcau.core.calendar import DISPLAY_FORMAT
from diemcau.core.errors import InvalidInput, RuleViolation
from diemcau.core.models import User
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import notices, planning
from ..capacity import Load
from ..choices import HoldKind, MeetingStatus
from ..feeds import public_title
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


def lock_capacity(meeting: Meeting, endpoint_ids: Sequence[int] | None = None) -> list[McuNode]:
    """Serialize decisions that touch the same nodes or endpoints, in every process: lock the
    node rows and the meeting's endpoint rows (`planning.invited_ids`, when the caller has
    not read them), always in primary-key order (no deadlocks).

    FOR NO KEY UPDATE (PostgreSQL): two decisions still wait for each other, as the capacity
    check needs (KH Đ12.4a), but the rows that only refer to a node or an endpoint (a join
    grant, a participation, a booking: their foreign-key checks take FOR KEY SHARE) are not
    held up by a decision. No key of these rows is changed under these locks. SQLite has one
    writer at a time anyway."""
    nodes = list(McuNode.objects.select_for_update(no_key=True).filter(is_active=True)
                 .order_by("pk"))
    ids = planning.invited_ids(meeting) if endpoint_ids is None else endpoint_ids
    list(
        Endpoint.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return nodes


def _when(moment: dt.datetime) -> str:
    """In the rulebook's time zone, as every time the operator reads."""
    return calendar.WorkCalendar.for_rulebook(active_rulebook()).local(moment).strftime(
        DISPLAY_FORMAT)


def _until(start: dt.datetime, end: dt.datetime) -> str:
    """"02/03/2026 09:00" to "10:00" when both fall on the same local day."""
    local = calendar.WorkCalendar.for_rulebook(active_rulebook()).local
    return local(end).strftime("%H:%M") if local(start).date() == local(end).date() else (
        _when(end))


def _holder_text(load: Load, meetings: dict[int, Meeting]) -> str:
    meeting = meetings.get(load.meeting_id)
    params = {
        "id": load.meeting_id,
        "title": public_title(meeting) if meeting else "",
        "start": _when(load.window.starts_at),
        "end": _until(load.window.starts_at, load.window.ends_at),
    }
    if load.kind == HoldKind.CHECK:
        return _("the technical check of #%(id)s %(title)s (%(start)s–%(end)s)") % params
    if load.kind == HoldKind.REHEARSAL:
        return _("the rehearsal of #%(id)s %(title)s (%(start)s–%(end)s)") % params
    return _("the session of #%(id)s %(title)s (%(start)s–%(end)s)") % params


def capacity_details(overflows: list[planning.Overflow], rulebook: Rulebook) -> str:
    """Which meetings and checks fill each node, and when (KH Đ12.4a)."""
    ids = {load.meeting_id for over in overflows for load in over.holders}
    meetings = Meeting.objects.in_bulk(ids)
    cap = rulebook.capacity.cap_percent
    what: dict[str, str] = {
        HoldKind.CHECK: _("its technical check"),
        HoldKind.REHEARSAL: _("its rehearsal"),
        HoldKind.SESSION: _("its session"),
    }
    parts = []
    for over in overflows:
        node = over.node
        parts.append(
            _("%(node)s (at most %(meetings)s meetings and %(endpoints)s endpoints at once), "
              "from %(start)s to %(end)s, for %(what)s: %(holders)s")
            % {
                "node": node.name,
                "meetings": node.meeting_cap(cap),
                "endpoints": node.endpoint_cap(cap),
                "start": _when(over.window.starts_at),
                "end": _until(over.window.starts_at, over.window.ends_at),
                "what": what.get(over.what, what[HoldKind.SESSION]),
                "holders": "; ".join(_holder_text(load, meetings) for load in over.holders)
                or _("nothing else (the meeting alone is larger than the node)"),
            }
        )
    return " ".join(f"{part}." for part in parts)


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
    message = _("No MCU node has room at that time within %(cap)s%% of its capacity.") % {
        "cap": rulebook.capacity.cap_percent}
    details = capacity_details(plan.overflows, rulebook)
    # KH Đ12.4a: "số lượng phiên họp diễn ra đồng thời và tổng số điểm cầu tham gia không vượt
    # quá 80% năng lực phục vụ tối đa của thiết bị MCU": the refusal names what runs then.
    return RuleViolation(
        code="mcu_capacity_full",
        article=rulebook.cite(rulebook.capacity.article),
        message=f"{message} {details}" if details else message,
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
