"""The time windows a meeting holds: its own times (rehearsal, session) for the endpoints and
the MCU node, and — for the node only — each technical check's own window before them.

KH Đ13.2b (ĐN Đ11.2b): the check is organised "chậm nhất 02 giờ trước khi diễn ra phiên tổng
duyệt, phiên họp chính thức", no later than two hours before. Read: the check's window ends
at the latest `technical_check.hours_before` before the window it prepares; it lasts
`technical_check.check_minutes`, and when the node is busy it moves earlier, never starting
more than `technical_check.earliest_hours_before` before. Between the check and the session
the node is free for others (KH Đ12.4a counts what runs at the same time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from diemcau.rulebooks import Rulebook

from .capacity import Window
from .choices import WindowKind
from .models import Meeting


def meeting_windows(meeting: Meeting) -> list[tuple[str, Window]]:
    """When the rooms are in use: the rehearsal (if any) and the official session."""
    windows: list[tuple[str, Window]] = []
    if meeting.rehearsal_starts_at and meeting.rehearsal_ends_at:
        windows.append(
            (WindowKind.REHEARSAL, Window(meeting.rehearsal_starts_at, meeting.rehearsal_ends_at))
        )
    windows.append((WindowKind.SESSION, Window(meeting.starts_at, meeting.ends_at)))
    return windows


def check_due_at(rulebook: Rulebook, kind: str, starts_at: dt.datetime) -> dt.datetime | None:
    """The latest moment the technical check before a window may end, or None if none is
    required."""
    rule = rulebook.technical_check
    wanted = rule.before_rehearsal if kind == WindowKind.REHEARSAL else rule.before_session
    return starts_at - dt.timedelta(hours=rule.hours_before) if wanted else None


@dataclass(frozen=True)
class CheckSlot:
    """Where the check before one window may go: a window of `length` ending by
    `latest_end` and starting no earlier than `earliest_start`."""

    kind: str  # the window it prepares (WindowKind)
    latest_end: dt.datetime
    earliest_start: dt.datetime
    length: dt.timedelta

    @property
    def latest(self) -> Window:
        return Window(self.latest_end - self.length, self.latest_end)

    @property
    def span(self) -> Window:
        return Window(self.earliest_start, self.latest_end)


def check_slots(meeting: Meeting, rulebook: Rulebook) -> list[CheckSlot]:
    """The technical checks the meeting's node must hold, one per window that needs one."""
    rule = rulebook.technical_check
    length = dt.timedelta(minutes=rule.check_minutes)
    slots = []
    for kind, window in meeting_windows(meeting):
        due = check_due_at(rulebook, kind, window.starts_at)
        if due is not None:
            earliest = window.starts_at - dt.timedelta(hours=rule.earliest_hours_before)
            slots.append(CheckSlot(kind, due, min(earliest, due - length), length))
    return slots


def node_windows(meeting: Meeting, rulebook: Rulebook) -> list[Window]:
    """Every time the meeting may hold its node: its windows and the whole range in which
    each check may be placed (what planning reads from the database)."""
    return [*(w for _, w in meeting_windows(meeting)),
            *(slot.span for slot in check_slots(meeting, rulebook))]
