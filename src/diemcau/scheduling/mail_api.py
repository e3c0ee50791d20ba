"""REST API of the official mailbox under /api/v1/ (KH Đ13.2a): the messages read and what
each became, and the agencies' official addresses (kept by the MCU operators)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from diemcau.core import calendar
from diemcau.core.api_errors import responses
from diemcau.core.api_inputs import Id
from diemcau.core.models import User
from diemcau.core.permissions import Action, denied, role_allows
from diemcau.directory.models import Agency
from diemcau.rulebooks import active_rulebook

from .models import MailedRegistration, OfficialAddress
from .permissions import mailed_visible_to
from .services import official_addresses

router = Router(tags=["registrations by e-mail"])


class MailedOut(Schema):
    id: int
    sender: str
    subject: str
    received_at: dt.datetime
    counted_from: dt.datetime
    dated: dt.datetime | None
    agency_id: int | None
    meeting_id: int | None
    outcome: str
    attachments: list[dict[str, Any]]


class AddressIn(Schema):
    agency: Id
    address: str = Field(max_length=254)


class AddressOut(Schema):
    id: int
    agency_id: int
    address: str
    created_at: dt.datetime


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _require_operator(user: User) -> None:
    if not role_allows(user, Action.DECIDE_MEETING):
        raise denied(Action.DECIDE_MEETING)


@router.get("/mailbox/messages", response=responses({200: list[MailedOut]}))
def list_mailed(request: HttpRequest) -> list[dict[str, Any]]:
    """The last 200 messages read from the official mailbox that the caller may see, with the
    time each registration counts from (its arrival, in office hours)."""
    rulebook = active_rulebook()
    records: list[MailedRegistration] = list(mailed_visible_to(_user(request))[:200])
    return [{
        "id": r.pk, "sender": r.sender, "subject": r.subject, "received_at": r.received_at,
        "counted_from": calendar.registration_received_at(rulebook, r.received_at),
        "dated": r.dated, "agency_id": r.agency_id, "meeting_id": r.meeting_id,
        "outcome": r.outcome, "attachments": r.attachments,
    } for r in records]


@router.get("/mailbox/addresses", response=responses({200: list[AddressOut]}))
def list_addresses(request: HttpRequest) -> list[OfficialAddress]:
    _require_operator(_user(request))
    return list(OfficialAddress.objects.all())


@router.post("/mailbox/addresses", response=responses({201: AddressOut}))
def add_address(request: HttpRequest, payload: AddressIn) -> Status[Any]:
    """Name an agency's official address: its messages become its draft registrations."""
    agency = get_object_or_404(Agency, pk=payload.agency)
    return Status(201, official_addresses.add_official_address(
        agency, payload.address, actor=_user(request)))


@router.delete("/mailbox/addresses/{int:address_id}", response=responses({204: None}))
def remove_address(request: HttpRequest, address_id: Id) -> Status[None]:
    user = _user(request)
    _require_operator(user)
    official_addresses.remove_official_address(
        get_object_or_404(OfficialAddress, pk=address_id), actor=user)
    return Status(204, None)
