"""REST API of live meetings under /api/v1/: attendance (R18), join links, the grant for
endpoints that join without a browser, and the operator's overview (R16).

The live controls themselves go over the console WebSocket (consumers.py); both call the same
services. A meeting outside the caller's scope is "not found" (404), as in scheduling's API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from diemcau.core import public_url
from diemcau.core.api_errors import responses
from diemcau.core.api_inputs import Id
from diemcau.core.errors import PermissionDenied
from diemcau.core.models import User
from diemcau.directory.models import Endpoint
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import meetings_visible_to

from . import selectors
from .models import JoinLink
from .permissions import can_control, is_operator, joinable_endpoints
from .services import grants, join_links

router = Router(tags=["live meetings"])


class AttendanceOut(Schema):
    endpoint_id: int
    endpoint: str
    agency: str
    first_joined: dt.datetime | None
    last_left: dt.datetime | None
    connected_seconds: int
    connections: int
    attendee_count: int | None
    still_connected: bool


class JoinLinkIn(Schema):
    endpoint: Id
    valid_until: dt.datetime | None = None


class JoinLinkOut(Schema):
    id: int
    meeting_id: int
    endpoint_id: int
    expires_at: dt.datetime
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class NewJoinLinkOut(JoinLinkOut):
    url: str


class GrantIn(Schema):
    endpoint: Id


class GrantOut(Schema):
    participation: int
    key: str
    janus_token: str
    ws_url: str
    room_id: int
    janus_id: int
    muted: bool
    display: str


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _meeting(request: HttpRequest, meeting_id: int) -> Meeting:
    return get_object_or_404(meetings_visible_to(_user(request)), pk=meeting_id)


def _endpoint_of(meeting: Meeting, endpoint_id: int) -> Endpoint:
    ids = set(meeting.participants.values_list("pk", flat=True)) | {meeting.host_endpoint_id}
    if endpoint_id not in ids:
        raise PermissionDenied("join", "This endpoint is not in the meeting.")
    return get_object_or_404(Endpoint, pk=endpoint_id)


@router.get("/meetings/{int:meeting_id}/attendance",
            response=responses({200: list[AttendanceOut]}))
def meeting_attendance(request: HttpRequest, meeting_id: Id) -> list[Any]:
    """Join and leave times, time connected and attendee count of every endpoint (R18)."""
    return selectors.attendance(_meeting(request, meeting_id))


@router.get("/meetings/{int:meeting_id}/join-links", response=responses({200: list[JoinLinkOut]}))
def list_join_links(request: HttpRequest, meeting_id: Id) -> list[JoinLink]:
    """The meeting's join links the caller could issue (never their tokens)."""
    user = _user(request)
    meeting = _meeting(request, meeting_id)
    links = JoinLink.objects.filter(meeting=meeting).order_by("-created_at")
    if can_control(user, meeting):
        return list(links)
    return list(links.filter(endpoint__in=joinable_endpoints(user, meeting)))


@router.post("/meetings/{int:meeting_id}/join-links",
             response=responses({201: NewJoinLinkOut}))
def create_join_link(request: HttpRequest, meeting_id: Id, payload: JoinLinkIn) -> Status[Any]:
    """A signed, expiring, revocable link for one endpoint; its address is shown only here."""
    meeting = _meeting(request, meeting_id)
    endpoint = _endpoint_of(meeting, payload.endpoint)
    link, token = join_links.issue_join_link(meeting, endpoint, actor=_user(request),
                                          valid_until=payload.valid_until)
    url = public_url.absolute(f"/j/{token}/", request)
    return Status(201, {**JoinLinkOut.from_orm(link).dict(), "url": url})


@router.post("/join-links/{int:link_id}/revoke", response=responses({200: JoinLinkOut}))
def revoke_join_link(request: HttpRequest, link_id: Id) -> JoinLink:
    user = _user(request)
    link = get_object_or_404(
        JoinLink.objects.filter(meeting__in=meetings_visible_to(user)), pk=link_id
    )
    return join_links.revoke_join_link(link, actor=user)


@router.post("/meetings/{int:meeting_id}/grant", response=responses({201: GrantOut}))
def grant(request: HttpRequest, meeting_id: Id, payload: GrantIn) -> Status[Any]:
    """A place in the live meeting for one endpoint (see `joining`): the Janus token and the
    participant's key are shown only here."""
    meeting = _meeting(request, meeting_id)
    endpoint = _endpoint_of(meeting, payload.endpoint)
    given = grants.grant_by_login(meeting, endpoint, actor=_user(request))
    return Status(201, given.as_json())


@router.get("/live/overview", response=responses({200: dict[str, Any]}))
def overview(request: HttpRequest) -> dict[str, Any]:
    """The MCU operator's console as data: live meetings, node load, poor connections,
    open incidents (operators only)."""
    if not is_operator(_user(request)):
        raise PermissionDenied("manage_mcu", "Only MCU operators see the overview.")
    return selectors.operator_overview_json()
