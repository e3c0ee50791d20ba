"""Opening and ending the session from the consoles (R16). The status changes belong to the
meeting lifecycle (`scheduling.services.lifecycle`); what the live plane does when they
happen is in `meeting_status`."""

from __future__ import annotations

import datetime as dt

from diemcau.core.errors import InvalidTransition
from diemcau.core.models import User
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services import lifecycle

from ..models import Participation


def start_session(meeting: Meeting, *, actor: User) -> Meeting:
    """The host opens the official session: the meeting is live."""
    return lifecycle.start_meeting(meeting, actor=actor)


def end_meeting(meeting: Meeting, *, actor: User) -> Meeting:
    """End the meeting: every connection is closed as ended, capacity released, the room
    destroyed once the change is committed."""
    return lifecycle.end_meeting(meeting, actor=actor)


def end_overdue_meetings(now: dt.datetime | None = None) -> list[int]:
    """The system ends accepted or live meetings an hour past their end once no one is
    connected (someone still connected keeps the meeting going)."""
    ended = []
    for meeting in lifecycle.overdue_meetings(now):
        if Participation.objects.filter(meeting=meeting, left_at__isnull=True).exists():
            continue
        try:
            lifecycle.end_meeting_by_system(meeting)
        except InvalidTransition:
            continue  # it changed meanwhile
        ended.append(meeting.pk)
    return ended
