"""Huey periodic tasks of scheduling: the operator's reply deadline (R9).

Every minute the worker warns the operators of registrations whose reply is due soon and marks
those whose deadline passed unanswered (ĐN Đ11.2b, KH Đ13.2b).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from diemcau.core import audit
from diemcau.core.calendar import reply_warning_time
from diemcau.rulebooks import active_rulebook

from . import notices
from .choices import MeetingStatus
from .models import Meeting
from .services.approval import record_reply_breaches


@transaction.atomic
def warn_replies_due_soon(now: datetime | None = None) -> int:
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


@db_periodic_task(crontab(minute="*"))
def warn_replies_due_soon_task() -> None:
    warn_replies_due_soon()


@db_periodic_task(crontab(minute="*"))
def record_reply_breaches_task() -> None:
    record_reply_breaches()
