"""Huey tasks of the archive (R19): each calls a service.

- `archive_recording(id)`, enqueued when a recorded session ends: collect the node's files
  and make the MP4; a failed try is tried again after `ARCHIVE_RETRY_SECONDS`, up to
  `ARCHIVE_ATTEMPTS` tries, then the operators are told the reason.
- every minute: the handover warnings and breaches (ĐN Đ13.3, KH Đ15.3);
- every night: the purge of what passed its retention.
"""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from .choices import RecordingState
from .models import Recording
from .services import handover, recordings


@db_task()
def archive_recording(recording_id: int) -> bool:
    record = Recording.objects.filter(pk=recording_id).first()
    if record is None:
        return False
    if recordings.process(record):
        return True
    record.refresh_from_db()
    if record.state == RecordingState.PROCESSING and not HUEY.immediate:
        archive_recording.schedule((recording_id,), delay=settings.ARCHIVE_RETRY_SECONDS)
    return False


@db_periodic_task(crontab(minute="*"))
def handover_deadlines_task() -> None:
    handover.warn_handovers_due_soon()
    handover.record_handover_breaches()


@db_periodic_task(crontab(hour="2", minute="30"))
def purge_expired_task() -> None:
    handover.purge_expired()
