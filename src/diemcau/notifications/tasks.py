"""Huey tasks of the notifications outbox (the worker: `diemcau run_huey`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import delivery

logger = logging.getLogger(__name__)


@db_task()
def deliver_notification(notification_id: int) -> None:
    """Send one pending e-mail or webhook row (see delivery.deliver). Returns nothing, so the
    queue keeps no results."""
    delivery.deliver(notification_id)


@db_periodic_task(crontab(minute="*"))
def sweep_notifications() -> None:
    """Every minute: enqueue the pending rows that are due, so a worker restart, a lost
    hand-over or a channel that was down loses nothing."""
    enqueue_deliveries(delivery.due_ids())


def enqueue_deliveries(notification_ids: Iterable[int]) -> None:
    """Hand rows to the queue. A queue that is unreachable is logged, not raised: the rows are
    in the database and the sweep enqueues them once the queue is back."""
    for notification_id in notification_ids:
        try:
            deliver_notification(notification_id)
        except Exception:
            logger.warning(
                "could not enqueue notification %s; the sweep will retry",
                notification_id,
                exc_info=True,
            )
            return
