"""The time windows a meeting holds: its own times for the endpoints, and — for the MCU
node — from the technical check before each window to its end (KH Đ12.4a with Đ13.2b)."""

from __future__ import annotations

import datetime as dt

from diemcau.rulebooks import Rulebook

from .capacity import Window, merge
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
    """When the technical check before a window must happen, or None if none is required."""
    rule = rulebook.technical_check
    wanted = rule.before_rehearsal if kind == WindowKind.REHEARSAL else rule.before_session
    return starts_at - dt.timedelta(hours=rule.hours_before) if wanted else None


def node_windows(meeting: Meeting, rulebook: Rulebook) -> list[Window]:
    """When the meeting holds MCU capacity: from each check to the window's end, merged."""
    held = []
    for kind, window in meeting_windows(meeting):
        check = check_due_at(rulebook, kind, window.starts_at)
        held.append(Window(check or window.starts_at, window.ends_at))
    return merge(held)
