"""REST API of the archive under /api/v1/ (R19, R27): recordings and their handover,
signed download links, materials and access requests, the archive's space.

Scoped like meetings: a meeting whose record the caller may not see is "not found" (404);
what the caller may do with it is decided by the services (403, 409, 422 with the article).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from diemcau.core import public_url
from diemcau.core.api_errors import responses
from diemcau.core.errors import PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.scheduling.models import Meeting

from .choices import MaterialKind
from .models import AccessRequest, Material, Recording, RecordingTrack
from .permissions import (
    can_read_materials,
    can_see_record,
    is_custodian,
    materials_readable_by,
    recordings_visible_to,
)
from .rules import handover_deadline
from .services import handover, materials, recordings
from .services.storage import usage

router = Router(tags=["archive"])


class RecordingOut(Schema):
    id: int
    meeting_id: int
    state: str
    progress: int
    attempts: int
    error: str
    requested_by_id: int | None
    started_by_id: int | None
    started_at: dt.datetime | None
    stopped_by_id: int | None
    stopped_at: dt.datetime | None
    session_ended_at: dt.datetime | None
    size_bytes: int | None
    duration_seconds: float | None
    sha256: str
    width: int | None
    height: int | None
    endpoint_count: int | None
    handover_due_at: dt.datetime | None
    handover_state: str | None = None
    handover_breached_at: dt.datetime | None
    handed_over_at: dt.datetime | None
    handed_over_by_id: int | None
    acknowledged_at: dt.datetime | None
    acknowledged_by_id: int | None
    keep_until: dt.datetime | None
    purged_at: dt.datetime | None

    @staticmethod
    def resolve_handover_state(obj: Recording) -> str | None:
        deadline = handover_deadline(obj)
        return deadline.state.value if deadline else None


class TrackOut(Schema):
    id: int
    kind: str
    feed_id: int | None
    label: str
    size_bytes: int
    sha256: str
    offset_seconds: float


class MaterialOut(Schema):
    id: int
    meeting_id: int
    title: str
    kind: str
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by_id: int
    uploaded_at: dt.datetime


class AccessRequestOut(Schema):
    id: int
    meeting_id: int
    requester_id: int
    agency_id: int | None
    reason: str
    state: str
    created_at: dt.datetime
    decided_by_id: int | None
    decided_at: dt.datetime | None
    refusal_reason: str


class AccessRequestIn(Schema):
    reason: str


class DecisionIn(Schema):
    approve: bool
    reason: str = ""


class LinkIn(Schema):
    kind: str = "recording"  # recording, track, material
    id: int | None = None  # the track's or material's id (the recording: the meeting's)
    attachment: bool = True


class LinkOut(Schema):
    url: str
    expires_in_seconds: int


class UsageOut(Schema):
    used_bytes: int
    left_bytes: int | None
    capacity_bytes: int | None


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _meeting(request: HttpRequest, meeting_id: int) -> Meeting:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    if not can_see_record(_user(request), meeting):
        raise Http404
    return meeting


def _recording(request: HttpRequest, meeting_id: int) -> Recording:
    return get_object_or_404(Recording, meeting=_meeting(request, meeting_id))


@router.get("/archive/recordings", response=responses({200: list[RecordingOut]}))
def list_recordings(request: HttpRequest) -> list[Recording]:
    """Recordings of the caller's meetings (and of those whose host approved a request)."""
    return list(recordings_visible_to(_user(request)).order_by("-created_at")[:500])


@router.get("/meetings/{int:meeting_id}/recording", response=responses({200: RecordingOut}))
def get_recording(request: HttpRequest, meeting_id: int) -> Recording:
    return _recording(request, meeting_id)


@router.get("/meetings/{int:meeting_id}/recording/tracks",
            response=responses({200: list[TrackOut]}))
def list_tracks(request: HttpRequest, meeting_id: int) -> list[RecordingTrack]:
    """The per-endpoint files kept beside the MP4."""
    return list(_recording(request, meeting_id).tracks.exclude(kind="raw"))


@router.post("/meetings/{int:meeting_id}/recording/hand-over",
             response=responses({200: RecordingOut}))
def hand_over(request: HttpRequest, meeting_id: int) -> Recording:
    """The operator hands the recording to the host (ĐN Đ13.3, KH Đ15.3)."""
    return handover.hand_over(_recording(request, meeting_id), actor=_user(request))


@router.post("/meetings/{int:meeting_id}/recording/acknowledge",
             response=responses({200: RecordingOut}))
def acknowledge(request: HttpRequest, meeting_id: int) -> Recording:
    """One of the host agency's people acknowledges receipt."""
    return handover.acknowledge_receipt(_recording(request, meeting_id), actor=_user(request))


@router.post("/meetings/{int:meeting_id}/recording/retry",
             response=responses({200: RecordingOut}))
def retry(request: HttpRequest, meeting_id: int) -> Recording:
    return recordings.retry(_recording(request, meeting_id), actor=_user(request))


@router.post("/meetings/{int:meeting_id}/recording/purge",
             response=responses({200: RecordingOut}))
def purge(request: HttpRequest, meeting_id: int) -> Recording:
    """Delete the files; the record and its audit trail stay."""
    return handover.purge(_recording(request, meeting_id), actor=_user(request),
                          reason="operator")


@router.post("/meetings/{int:meeting_id}/links", response=responses({201: LinkOut}))
def issue_link(request: HttpRequest, meeting_id: int, payload: LinkIn) -> Status[Any]:
    """A signed link to one file, for the caller only, that expires; issuing a download link
    is audited, and so is each download."""
    user = _user(request)
    meeting = _meeting(request, meeting_id) if payload.kind != "material" else None
    obj: Recording | RecordingTrack | Material
    if payload.kind == "recording":
        obj = get_object_or_404(Recording, meeting=meeting)
    elif payload.kind == "track":
        obj = get_object_or_404(RecordingTrack, pk=payload.id, recording__meeting=meeting)
    elif payload.kind == "material":
        obj = get_object_or_404(Material, pk=payload.id, meeting_id=meeting_id)
        if not can_read_materials(user, obj.meeting):
            raise Http404
    else:
        raise Http404
    token = handover.issue_link(user, obj, attachment=payload.attachment)
    url = public_url.absolute(reverse("archive:file", args=[token]), request)
    return Status(201, {"url": url, "expires_in_seconds": settings.ARCHIVE_LINK_MINUTES * 60})


@router.get("/meetings/{int:meeting_id}/materials", response=responses({200: list[MaterialOut]}))
def list_materials(request: HttpRequest, meeting_id: int) -> list[Material]:
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    user = _user(request)
    if not can_see_record(user, meeting):
        raise Http404
    if not can_read_materials(user, meeting):
        raise PermissionDenied(str(Action.VIEW_MEETING),
                               "The materials are obtained through the host.")
    return list(materials_readable_by(user, meeting))


@router.post("/meetings/{int:meeting_id}/materials", response=responses({201: MaterialOut}))
def upload_material(request: HttpRequest, meeting_id: int, title: Form[str],
                    file: File[UploadedFile], kind: Form[str] = MaterialKind.OTHER
                    ) -> Status[Any]:
    """The host uploads a document (multipart: title, kind, file)."""
    meeting = _meeting(request, meeting_id)
    material = materials.upload_material(meeting, actor=_user(request), title=title,
                                         kind=kind, upload=file)
    return Status(201, material)


@router.get("/meetings/{int:meeting_id}/access-requests",
            response=responses({200: list[AccessRequestOut]}))
def list_access_requests(request: HttpRequest, meeting_id: int) -> list[AccessRequest]:
    user = _user(request)
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    from .permissions import can_decide_requests

    if can_decide_requests(user, meeting) or is_custodian(user):
        return list(meeting.access_requests.all())
    return list(meeting.access_requests.filter(requester=user))


@router.post("/meetings/{int:meeting_id}/access-requests",
             response=responses({201: AccessRequestOut}))
def request_access(request: HttpRequest, meeting_id: int, payload: AccessRequestIn
                   ) -> Status[Any]:
    """Ask the host for the meeting's materials and recording (ĐN Đ13.4, KH Đ15.4)."""
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    if meeting.classification == "state_secret" and not can_see_record(_user(request), meeting):
        raise Http404  # R20: a state-secret meeting does not exist for outsiders
    created = materials.request_access(meeting, actor=_user(request), reason=payload.reason)
    return Status(201, created)


@router.post("/access-requests/{int:request_id}/decision",
             response=responses({200: AccessRequestOut}))
def decide_access(request: HttpRequest, request_id: int, payload: DecisionIn) -> AccessRequest:
    user = _user(request)
    access = get_object_or_404(AccessRequest, pk=request_id)
    if not can_see_record(user, access.meeting):
        raise Http404
    return materials.decide_access(access, actor=user, approve=payload.approve,
                                   reason=payload.reason)


@router.get("/archive/storage", response=responses({200: UsageOut}))
def storage(request: HttpRequest) -> Any:
    """Space used and left (the operators)."""
    if not is_custodian(_user(request)):
        raise PermissionDenied(str(Action.MANAGE_MCU))
    return usage()
