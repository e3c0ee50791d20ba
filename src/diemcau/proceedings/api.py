"""REST API of the session's script and the closing checklist under /api/v1/ (ĐN Đ12.2a,
Đ13.1; KH Đ14.3a, Đ15.1). A meeting outside the caller's scope is "not found" (404); the
services decide what the caller may do (403, 409, 422 with the article)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from diemcau.core.api_errors import responses
from diemcau.core.api_inputs import Id
from diemcau.core.errors import InvalidInput
from diemcau.core.models import User
from diemcau.directory.models import Endpoint
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import meetings_visible_to

from . import selectors
from .models import AgendaItem
from .services import closing, script

router = Router(tags=["proceedings"])


class ItemIn(Schema):
    title: str = Field(max_length=250)
    speaker: Id | None = None
    speaker_name: str = Field("", max_length=160)
    minutes: int | None = Field(None, ge=1, le=script.MAX_MINUTES)


class MoveIn(Schema):
    position: int = Field(ge=1, le=10_000)


class ItemOut(Schema):
    id: int
    meeting_id: int
    position: int
    title: str
    speaker_id: int | None
    speaker_name: str
    minutes: int | None
    state: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class TechnicianOut(Schema):
    endpoint: str
    agency: str
    name: str
    phone: str


class ScriptOut(Schema):
    items: list[ItemOut]
    current_id: int | None
    next_id: int | None
    technician: TechnicianOut


class MovedOut(Schema):
    item: ItemOut | None
    floor: str
    message: str


class TickIn(Schema):
    item: str = Field(max_length=40)
    # The endpoint whose item it is; none for the operator's own items.
    endpoint: Id | None = None
    done: bool = True
    remarks: str = Field("", max_length=500)


class TickOut(Schema):
    item: str
    text: str
    article: str
    ticked: bool
    ticked_by: str | None
    ticked_at: dt.datetime | None
    remarks: str


class PartyOut(Schema):
    party: str
    endpoint_id: int | None
    endpoint: str | None
    may_tick: bool
    open: int
    items: list[TickOut]


class OpenClosingOut(Schema):
    meeting_id: int
    meeting: str
    ended: dt.datetime
    party: str
    endpoint_id: int | None
    endpoint: str | None
    items: list[str]
    late: bool


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _meeting(request: HttpRequest, meeting_id: int) -> Meeting:
    return get_object_or_404(meetings_visible_to(_user(request)).select_related(
        "host_agency", "host_endpoint__agency"), pk=meeting_id)


def _item(request: HttpRequest, item_id: int) -> AgendaItem:
    return get_object_or_404(AgendaItem.objects.select_related("meeting"), pk=item_id,
                             meeting__in=meetings_visible_to(_user(request)))


def _input(payload: ItemIn) -> script.ItemInput:
    speaker = None
    if payload.speaker is not None:
        speaker = Endpoint.objects.filter(pk=payload.speaker).first()
        if speaker is None:
            raise InvalidInput({"speaker": [_("The speaker must be an endpoint of this meeting.")]})
    return script.ItemInput(payload.title, speaker, payload.speaker_name, payload.minutes)


def _moved(moved: script.Moved) -> dict[str, Any]:
    return {"item": moved.item, "floor": moved.floor.value, "message": moved.message}


@router.get("/meetings/{int:meeting_id}/script", response=responses({200: ScriptOut}))
def get_script(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    """The host's agenda in speaking order, the item under way and the next, and the named
    technician of the controlling endpoint."""
    meeting = _meeting(request, meeting_id)
    items = selectors.items(meeting)
    current = next((i.pk for i in items if i.state == "current"), None)
    following = next((i.pk for i in items if i.state == "pending"), None)
    return {"items": items, "current_id": current, "next_id": following,
            "technician": selectors.technician_row(meeting)}


@router.post("/meetings/{int:meeting_id}/script/items", response=responses({201: ItemOut}))
def add_item(request: HttpRequest, meeting_id: Id, payload: ItemIn) -> Status[Any]:
    """Add an item at the end of the script."""
    meeting = _meeting(request, meeting_id)
    return Status(201, script.add_item(meeting, _input(payload), actor=_user(request)))


@router.put("/script/items/{int:item_id}", response=responses({200: ItemOut}))
def update_item(request: HttpRequest, item_id: Id, payload: ItemIn) -> AgendaItem:
    return script.update_item(_item(request, item_id), _input(payload), actor=_user(request))


@router.post("/script/items/{int:item_id}/move", response=responses({200: ItemOut}))
def move_item(request: HttpRequest, item_id: Id, payload: MoveIn) -> AgendaItem:
    """Put the item at `position` in the speaking order (1 is first)."""
    return script.move_item(_item(request, item_id), position=payload.position,
                            actor=_user(request))


@router.delete("/script/items/{int:item_id}", response=responses({204: None}))
def remove_item(request: HttpRequest, item_id: Id) -> Status[None]:
    script.remove_item(_item(request, item_id), actor=_user(request))
    return Status(204, None)


@router.post("/script/items/{int:item_id}/start", response=responses({200: MovedOut}))
def start_item(request: HttpRequest, item_id: Id) -> dict[str, Any]:
    """Begin this item and offer its speaker the floor."""
    return _moved(script.start_item(_item(request, item_id), actor=_user(request)))


@router.post("/meetings/{int:meeting_id}/script/next", response=responses({200: MovedOut}))
def next_item(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    """Move on to the next item in the speaking order and offer its speaker the floor."""
    return _moved(script.next_item(_meeting(request, meeting_id), actor=_user(request)))


def _party(party: selectors.PartyChecklist) -> dict[str, Any]:
    rulebook = active_rulebook()
    return {
        "party": party.party,
        "endpoint_id": party.endpoint.pk if party.endpoint else None,
        "endpoint": party.endpoint.name if party.endpoint else None,
        "may_tick": party.may_tick,
        "open": party.open_count,
        "items": [{
            "item": entry.key, "text": entry.text_vi, "article": rulebook.cite(entry.article),
            "ticked": tick is not None,
            "ticked_by": tick.ticked_by.get_username() if tick else None,
            "ticked_at": tick.ticked_at if tick else None,
            "remarks": tick.remarks if tick else "",
        } for entry, tick in party.rows],
    }


@router.get("/meetings/{int:meeting_id}/closing", response=responses({200: list[PartyOut]}))
def get_closing(request: HttpRequest, meeting_id: Id) -> list[dict[str, Any]]:
    """The closing checklist: the operator's items, then each endpoint's, with their ticks."""
    meeting = _meeting(request, meeting_id)
    return [_party(p) for p in selectors.checklist(meeting, _user(request))]


@router.post("/meetings/{int:meeting_id}/closing", response=responses({200: list[PartyOut]}))
def tick_closing(request: HttpRequest, meeting_id: Id, payload: TickIn) -> list[dict[str, Any]]:
    """Tick one closing item (or open it again with `done: false`); answers the checklist."""
    user = _user(request)
    meeting = _meeting(request, meeting_id)
    endpoint = None
    if payload.endpoint is not None:
        endpoint = get_object_or_404(Endpoint.objects.select_related("agency"),
                                     pk=payload.endpoint)
    closing.set_tick(meeting, item=payload.item, endpoint=endpoint, done=payload.done,
                     remarks=payload.remarks, actor=user)
    return [_party(p) for p in selectors.checklist(meeting, user)]


@router.get("/closing/open", response=responses({200: list[OpenClosingOut]}))
def open_closing(request: HttpRequest) -> list[dict[str, Any]]:
    """Closing items left open in the meetings ended in the last 30 days that the caller may
    see (all of them for an operator)."""
    return [{
        "meeting_id": row.meeting.pk, "meeting": row.meeting.title, "ended": row.meeting.ends_at,
        "party": "operator" if row.endpoint is None else "endpoint",
        "endpoint_id": row.endpoint.pk if row.endpoint else None,
        "endpoint": row.endpoint.name if row.endpoint else None,
        "items": [entry.key for entry in row.items], "late": row.late,
    } for row in selectors.open_closing(_user(request))]
