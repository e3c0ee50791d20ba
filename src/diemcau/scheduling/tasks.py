"""Huey periodic tasks of scheduling: the operator's reply deadline (R9).

Every minute the worker warns the operators of registrations whose reply is due soon and marks
those whose deadline passed unanswered (ĐN Đ11.2b, KH Đ13.2b). The work is done by services.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.approval import record_reply_breaches, warn_replies_due_soon


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
