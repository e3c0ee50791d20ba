"""The archive's rules, read from the rulebook (R19): the handover deadline and the retention.

The handover is due the rulebook's `handover.working_days` working days after the session
ended, at the same clock time (ĐN Đ13.3, KH Đ15.3), on the one working-day calendar
(`core.calendar`: weekends, public holidays, Tết). The warning comes
`handover.warn_before_hours` before it (a deployment default), as the reply deadline's does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from diemcau.core.calendar import WorkCalendar
from diemcau.rulebooks import Rulebook, active_rulebook

from .models import Recording


def handover_due(ended_at: dt.datetime, rulebook: Rulebook | None = None) -> dt.datetime:
    rulebook = rulebook or active_rulebook()
    calendar = WorkCalendar.for_rulebook(rulebook)
    return calendar.add_working_days(ended_at, rulebook.handover.working_days)


def retention_days(rulebook: Rulebook | None = None) -> int:
    """Days kept after the meeting: the setting, else the rulebook's default (0: for good)."""
    if settings.ARCHIVE_RETENTION_DAYS is not None:
        return settings.ARCHIVE_RETENTION_DAYS
    return (rulebook or active_rulebook()).handover.retention_days


def keep_until(ended_at: dt.datetime, rulebook: Rulebook | None = None) -> dt.datetime | None:
    days = retention_days(rulebook)
    return ended_at + dt.timedelta(days=days) if days else None


class HandoverState(StrEnum):
    DUE = "due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    DONE = "done"
    DONE_LATE = "done_late"


@dataclass(frozen=True)
class HandoverDeadline:
    due: dt.datetime
    warn_at: dt.datetime
    state: HandoverState
    article: str
    now: dt.datetime

    @property
    def missed(self) -> bool:
        return self.state in (HandoverState.OVERDUE, HandoverState.DONE_LATE)

    @property
    def seconds_left(self) -> int:
        return int((self.due - self.now).total_seconds())


def handover_deadline(recording: Recording, rulebook: Rulebook | None = None,
                      now: dt.datetime | None = None) -> HandoverDeadline | None:
    """Where the recording stands against its handover deadline; None before the session
    ended. The pages, the API, the dashboard and the worker all ask this."""
    due = recording.handover_due_at
    if due is None:
        return None
    rulebook = rulebook or active_rulebook()
    now = now or timezone.now()
    warn_at = due - dt.timedelta(hours=rulebook.handover.warn_before_hours)
    done = recording.handed_over_at
    if done is not None:
        state = HandoverState.DONE_LATE if done > due else HandoverState.DONE
    elif recording.handover_breached_at is not None or now > due:
        state = HandoverState.OVERDUE
    elif now >= warn_at:
        state = HandoverState.DUE_SOON
    else:
        state = HandoverState.DUE
    return HandoverDeadline(due, warn_at, state, rulebook.cite(rulebook.handover.article), now)
