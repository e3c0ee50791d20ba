"""Read-side views of the archive for the pages, the API and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from diemcau.core.models import User
from diemcau.scheduling.feeds import public_title
from diemcau.ui import status as statuses

from .choices import RecordingState
from .models import Recording
from .permissions import can_see_record
from .rules import HandoverDeadline, HandoverState, handover_deadline


@dataclass(frozen=True)
class Line:
    record: Recording
    title: str
    state_label: str
    colour: str
    deadline: HandoverDeadline | None

    @property
    def overdue(self) -> bool:
        return self.deadline is not None and self.deadline.state == HandoverState.OVERDUE

    @property
    def due_soon(self) -> bool:
        return self.deadline is not None and self.deadline.state == HandoverState.DUE_SOON


def line(record: Recording, user: User) -> Line:
    meeting = record.meeting
    title = meeting.title if can_see_record(user, meeting) else public_title(meeting)
    return Line(record, title, str(RecordingState(record.state).label),
                statuses.colour("recording", record.state), handover_deadline(record))


def status_json(record: Recording) -> dict[str, Any]:
    deadline = handover_deadline(record)
    return {
        "state": record.state,
        "state_label": str(RecordingState(record.state).label),
        "progress": record.progress,
        "attempts": record.attempts,
        "error": record.error if record.state == RecordingState.FAILED else "",
        "ready": record.state in (RecordingState.READY, RecordingState.HANDED_OVER),
        "handover_due_at": record.handover_due_at.isoformat() if record.handover_due_at else None,
        "handover_state": deadline.state.value if deadline else None,
    }


@dataclass(frozen=True)
class HandoverSummary:
    pending: int
    due_soon: int
    overdue: int
    failed: int
    next_due: list[Line]


def handover_summary(records: QuerySet[Recording] | Iterable[Recording],
                     user: User | None = None) -> HandoverSummary:
    """For the operators: recordings still to hand over, due soon, overdue, failed."""
    now = timezone.now()
    pending = [r for r in records if r.handed_over_at is None and r.handover_due_at
               and r.state not in (RecordingState.PURGED,)]
    deadlines = [(r, handover_deadline(r, now=now)) for r in pending]
    due_soon = sum(1 for _r, d in deadlines if d and d.state == HandoverState.DUE_SOON)
    overdue = sum(1 for _r, d in deadlines if d and d.state == HandoverState.OVERDUE)
    failed = sum(1 for r in pending if r.state == RecordingState.FAILED)
    ordered = sorted(deadlines, key=lambda pair: pair[0].handover_due_at or now)
    lines = [Line(r, r.meeting.title, str(RecordingState(r.state).label),
                  statuses.colour("recording", r.state), d) for r, d in ordered[:5]]
    return HandoverSummary(len(pending), due_soon, overdue, failed, lines)
