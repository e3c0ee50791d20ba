"""Who sees and gets what of the archive (R19, R20, R22, R27).

- MCU operators (custodians of the archive): the record; read the materials; play and
  download the recording; hand it over.
- The host agency's office and technicians: the record; read, upload and decide requests
  for the materials; play and download the recording once handed over; acknowledge receipt.
- The participants' offices and technicians: the record; read the materials (ĐN Đ5.3,
  KH Đ5.3); the recording only through a request to the host.
- Auditors (province-wide readers): the record only, no contents (least privilege, R22).
- Anyone else: with a request the host approved, the record, the materials and, once
  handed over, the recording.

State-secret meetings (R20): nothing beyond the host and the participants — no requests, no
feed, no catalogue entry — and no download (export) of the recording when the rulebook's
`secrecy.state_secret_no_export` says so; playback on the page stays possible.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import (
    Action,
    agency_scope_filter,
    in_scope,
    is_operator,
    role_allows,
    sees_whole_province,
)
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.feeds import is_state_secret
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import meetings_visible_to

from .choices import PLAYABLE_STATES, AccessState, RecordingState
from .models import AccessRequest, Material, Recording

# Meetings whose archive may be asked for: held or over.
ARCHIVED_STATUSES = (MeetingStatus.LIVE, MeetingStatus.ENDED)


def is_custodian(user: User) -> bool:
    """The MCU operators keep the archive (they record, process and hand over)."""
    return is_operator(user)


def _local(user: User) -> bool:
    """An agency's own office or technician (not a province-wide reader)."""
    return (not sees_whole_province(user)
            and (role_allows(user, Action.REGISTER_MEETING)
                 or role_allows(user, Action.CONTROL_MEETING)))


def is_host_side(user: User, meeting: Meeting) -> bool:
    """The host agency's people (its scope, by the rulebook's delegation)."""
    return _local(user) and in_scope(user, meeting.host_agency)


def is_participant_side(user: User, meeting: Meeting) -> bool:
    if not _local(user):
        return False
    return any(in_scope(user, endpoint.agency)
               for endpoint in meeting.participants.select_related("agency"))


def has_approved_request(user: User, meeting: Meeting) -> bool:
    if is_state_secret(meeting):
        return False  # R20: never beyond the participants, whatever was approved
    return AccessRequest.objects.filter(meeting=meeting, requester=user,
                                        state=AccessState.APPROVED).exists()


def can_see_record(user: User, meeting: Meeting) -> bool:
    """The archive's record of the meeting: state, dates, sizes (no contents)."""
    if meetings_visible_to(user).filter(pk=meeting.pk).exists():
        return True
    return has_approved_request(user, meeting)


def can_read_materials(user: User, meeting: Meeting) -> bool:
    if is_custodian(user) or is_host_side(user, meeting) or is_participant_side(user, meeting):
        return True
    return has_approved_request(user, meeting)


def can_upload_materials(user: User, meeting: Meeting) -> bool:
    """ĐN Đ5.3, KH Đ5.3: the host keeps the meeting's materials."""
    return is_host_side(user, meeting) or is_custodian(user)


def can_decide_requests(user: User, meeting: Meeting) -> bool:
    """ĐN Đ13.4, KH Đ15.4: others obtain the materials through the host."""
    return is_host_side(user, meeting) or bool(user.is_superuser)


def can_play(user: User, recording: Recording) -> bool:
    if recording.state not in PLAYABLE_STATES:
        return False
    meeting = recording.meeting
    if is_custodian(user):
        return True
    handed_over = recording.state == RecordingState.HANDED_OVER
    if is_host_side(user, meeting):
        return handed_over  # handing over is what gives the host its access
    if is_state_secret(meeting):
        return handed_over and is_participant_side(user, meeting)
    return handed_over and has_approved_request(user, meeting)


def export_forbidden(meeting: Meeting) -> bool:
    """R20: a state-secret meeting's recording is not exported, when the rulebook says so."""
    return is_state_secret(meeting) and active_rulebook().secrecy.state_secret_no_export


def can_download(user: User, recording: Recording) -> bool:
    return can_play(user, recording) and not export_forbidden(recording.meeting)


def can_acknowledge(user: User, recording: Recording) -> bool:
    return (recording.state == RecordingState.HANDED_OVER and recording.acknowledged_at is None
            and is_host_side(user, recording.meeting))


def can_request_access(user: User, meeting: Meeting) -> bool:
    """Whoever is neither host, participant nor custodian may ask the host — never for a
    state-secret meeting (R20; ĐN Đ13.4)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_state_secret(meeting) or meeting.status not in ARCHIVED_STATUSES:
        return False
    if is_custodian(user) or is_host_side(user, meeting) or is_participant_side(user, meeting):
        return False
    return not has_approved_request(user, meeting)


def recordings_visible_to(user: User) -> QuerySet[Recording]:
    approved = AccessRequest.objects.filter(requester=user, state=AccessState.APPROVED)
    return Recording.objects.filter(
        Q(meeting__in=meetings_visible_to(user))
        | (Q(meeting__in=approved.values("meeting")) & ~Q(meeting__classification="state_secret"))
    )


def materials_readable_by(user: User, meeting: Meeting) -> QuerySet[Material]:
    if not can_read_materials(user, meeting):
        return Material.objects.none()
    return Material.objects.filter(meeting=meeting, removed_at__isnull=True,
                                   purged_at__isnull=True)


def requests_decidable_by(user: User) -> QuerySet[AccessRequest]:
    """Requests for meetings hosted in the user's scope (the host's people)."""
    if user.is_superuser:
        return AccessRequest.objects.all()
    if not _local(user):
        return AccessRequest.objects.none()
    return AccessRequest.objects.filter(agency_scope_filter(user, "meeting__host_agency__"))


def catalogue_for(user: User) -> QuerySet[Meeting]:
    """Meetings anyone signed in may ask the host about: held or over, with materials or a
    recording, never state-secret (R20: never in a feed or a list beyond participants)."""
    if not getattr(user, "is_authenticated", False):
        return Meeting.objects.none()
    return (
        Meeting.objects.filter(status__in=ARCHIVED_STATUSES)
        .exclude(classification="state_secret")
        .filter(Q(recording__isnull=False) | Q(materials__isnull=False))
        .distinct()
    )
