"""Huey tasks of scheduling: the operator's reply deadline (R9), and the free times offered
to a revoked host (KH Đ12.4b).

Every minute the worker warns the operators of registrations whose reply is due soon and marks
those whose deadline passed unanswered (ĐN Đ11.2b, KH Đ13.2b). The work is done by services.
After a revocation commits, the worker searches the revoked meeting's free times, so the
search never runs while the decision holds the capacity locks.
"""

from __future__ import annotations

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import notices
from .choices import MeetingStatus
from .models import Meeting
from .services.approval import record_reply_breaches, warn_replies_due_soon


@db_task()
def offer_free_slots(meeting_id: int) -> None:
    """After a revocation commits: find the revoked meeting's free times and tell its host
    (KH Đ12.4b). The search is read-only and runs with no lock held."""
    meeting = (Meeting.objects.select_related("host_agency", "host_endpoint", "created_by")
               .filter(pk=meeting_id, status=MeetingStatus.REVOKED).first())
    if meeting is None:
        return
    with transaction.atomic():
        notices.free_slots_found(meeting)


@db_periodic_task(crontab(minute="*"))
def warn_replies_due_soon_task() -> None:
    warn_replies_due_soon()


@db_periodic_task(crontab(minute="*"))
def record_reply_breaches_task() -> None:
    record_reply_breaches()


@db_periodic_task(crontab(minute="*"))
def read_official_mailbox_task() -> None:
    """KH Đ13.2a: registrations sent to the official mailbox (DIEMCAU_IMAP_URL)."""
    from . import mailbox

    if mailbox.configured() is not None:
        mailbox.read_mailbox()
