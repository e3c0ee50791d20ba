"""The desk's parts of pages it does not own: the meeting page (who runs the MCU for it) and
the operator console (who is on duty, and the meetings no one covers)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from diemcau.core.models import User
from diemcau.core.permissions import is_operator
from diemcau.media.console_panels import ConsolePanel
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.meeting_page import MeetingPanel
from diemcau.scheduling.models import Meeting

from . import selectors
from .models import MeetingDuty

_SHOWN = (MeetingStatus.SUBMITTED, MeetingStatus.ACCEPTED, MeetingStatus.LIVE)


def meeting_panel(user: User, meeting: Meeting) -> MeetingPanel | None:
    if meeting.status not in _SHOWN:
        return None
    return MeetingPanel(
        section_template="desk/_meeting_duty.html",
        context={"desk_duty": selectors.technician_for(meeting),
                 "desk_may_assign": is_operator(user)},
    )


def console_panel(user: User) -> ConsolePanel | None:
    if not is_operator(user):
        return None
    now = timezone.now()
    today_end = now + dt.timedelta(hours=12)
    assigned = (MeetingDuty.objects.select_related("meeting", "technician")
                .filter(meeting__starts_at__gte=now - dt.timedelta(hours=6),
                        meeting__starts_at__lte=today_end,
                        meeting__status__in=[MeetingStatus.ACCEPTED, MeetingStatus.LIVE])
                .order_by("meeting__starts_at"))
    return ConsolePanel(
        template="desk/_console_duty.html",
        context={"on_duty": list(selectors.on_duty(now)),
                 "uncovered": selectors.uncovered_meetings(now),
                 "assigned": list(assigned)},
    )
