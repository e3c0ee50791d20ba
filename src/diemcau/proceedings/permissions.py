"""Who writes and runs a session's script, and who ticks its closing items (R22), on top of
`diemcau.core.permissions` and the meeting's own rules (`scheduling.permissions`).

- The script is written by whoever manages the registration (the host's office) or controls
  the session (the controlling endpoint's technicians, the operators); it is run — moved on,
  the floor offered — only by those who control the session (ĐN Đ12.2a, KH Đ14.3a).
- A closing item of an endpoint is ticked by the technicians of that endpoint's scope (who
  record its technical checks); the operator's items by the MCU operators (ĐN Đ13.1,
  KH Đ15.1). What one may see follows the meetings one may see.
"""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import Action, can, is_operator
from diemcau.directory.models import Endpoint
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import can_control, can_manage_meeting, meetings_visible_to

# A script is written for a meeting still to be held or under way.
SCRIPT_EDITABLE = (MeetingStatus.DRAFT, MeetingStatus.SUBMITTED, MeetingStatus.ACCEPTED,
                   MeetingStatus.LIVE)


def can_see_meeting(user: User, meeting: Meeting) -> bool:
    return meetings_visible_to(user).filter(pk=meeting.pk).exists()


def can_write_script(user: User, meeting: Meeting) -> bool:
    return can_manage_meeting(user, meeting) or can_control(user, meeting)


def can_run_script(user: User, meeting: Meeting) -> bool:
    return can_control(user, meeting)


def meeting_endpoints(meeting: Meeting) -> QuerySet[Endpoint]:
    """The host's endpoint and the invited ones: who closes the session."""
    ids = set(meeting.participants.values_list("pk", flat=True))
    ids.add(meeting.host_endpoint_id)
    return Endpoint.objects.filter(pk__in=ids).select_related("agency").order_by("name")


def can_tick_for(user: User, endpoint: Endpoint | None) -> bool:
    """Tick the closing items of `endpoint`, or the operator's own when it is None."""
    if endpoint is None:
        return is_operator(user)
    return can(user, Action.RECORD_CHECK, endpoint.agency)


def endpoints_ticked_by(user: User, meeting: Meeting) -> list[Endpoint]:
    """The meeting's endpoints whose closing items `user` ticks."""
    return [e for e in meeting_endpoints(meeting) if can_tick_for(user, e)]
