"""The upstream link of a meeting (R23): the SIP address of the Government's or a national
body's MCU whose session the province carries down to its endpoints (ĐN Đ5.4, KH Đ4.1,
Đ5.4, Đ16.1).

A meeting with an upstream link is hosted upstream: where the rulebook ranks meetings by the
level of their host (KH Đ12.4b), it outranks every provincial meeting (`planning.rank`), and
it needs a mixer of its node (`planning.needs_mixer`). The link is set by the registrar while
the meeting is prepared, and by the MCU operators until it ends (they receive the national
body's address, KH Đ16.1); on an accepted meeting the node must still have a mixer free.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action, role_allows
from diemcau.core.sip import normalize_sip_uri

from ..choices import MeetingStatus
from ..models import Meeting
from ..permissions import can_manage_meeting
from .snapshots import meeting_snapshot

PREPARED = (MeetingStatus.DRAFT, MeetingStatus.SUBMITTED)
OPEN = (MeetingStatus.ACCEPTED, MeetingStatus.LIVE)


def may_set_upstream_link(user: User, meeting: Meeting) -> bool:
    if meeting.status in PREPARED and can_manage_meeting(user, meeting):
        return True
    return meeting.status in (*PREPARED, *OPEN) and role_allows(user, Action.DECIDE_MEETING)


@transaction.atomic
def set_upstream_link(meeting: Meeting, uri: str, *, actor: User) -> Meeting:
    """Set (or clear, with "") the meeting's upstream link."""
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
    if not may_set_upstream_link(actor, meeting):
        if meeting.status not in (*PREPARED, *OPEN):
            raise InvalidTransition(_("The upstream link of a closed meeting cannot change."))
        raise PermissionDenied(
            str(Action.DECIDE_MEETING),
            _("Only the registrar of a meeting being prepared, or an MCU operator, may set "
              "its upstream link."),
        )
    value = ""
    if uri.strip():
        try:
            value = normalize_sip_uri(uri)
        except ValueError:
            raise InvalidInput({"upstream_uri": [
                _("Give the SIP address of the upstream MCU, e.g. sip:hoinghi@10.0.0.1.")
            ]}) from None
    if value == meeting.upstream_uri:
        return meeting
    before = meeting_snapshot(meeting)
    meeting.upstream_uri = value
    if meeting.status in OPEN and value:
        from . import holdings

        holdings.hold_mixer(meeting)
    meeting.save(update_fields=["upstream_uri", "updated_at"])
    audit.record("meeting.upstream_link", meeting, actor=actor, before=before,
                 after=meeting_snapshot(meeting))
    return meeting
