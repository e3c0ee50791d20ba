"""What the script's and the closing checklist's pages, the console and the API show."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from diemcau.core.models import User
from diemcau.core.permissions import is_operator
from diemcau.directory.choices import ContactRole, EndpointStatus
from diemcau.directory.models import Contact, Endpoint
from diemcau.rulebooks import active_rulebook
from diemcau.rulebooks.schema import ClosingItem
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import controlling_agency, meetings_visible_to

from .choices import ClosingParty, ItemState
from .models import AgendaItem, ClosingTick
from .permissions import can_tick_for, meeting_endpoints

# The operator's desk lists the open closing items of the meetings ended this many days ago
# at most; older ones are in the meeting's own page.
OPEN_CLOSING_DAYS = 30


# ---------------------------------------------------------------- who runs the session


def controlling_endpoint(meeting: Meeting) -> Endpoint | None:
    """The endpoint from which the session is controlled (ĐN Đ12.2a, KH Đ14.3a): the host's
    own when its agency controls, else an endpoint of the controlling agency (in KH a
    commune's meeting is run from its district) — one invited to the meeting first."""
    agency = controlling_agency(meeting)
    if agency is None:  # KH Đ10.1: no qualifying agency above the host, the operators run it
        return None
    if meeting.host_endpoint.agency_id == agency.pk:
        return meeting.host_endpoint
    invited = meeting_endpoints(meeting).filter(agency=agency).first()
    if invited is not None:
        return invited
    return (Endpoint.objects.filter(agency=agency, status=EndpointStatus.APPROVED)
            .select_related("agency").order_by("name").first())


def technician_of(endpoint: Endpoint | None) -> Contact | None:
    """The endpoint's technician now (its current contact of role technician)."""
    if endpoint is None:
        return None
    return Contact.objects.filter(endpoint=endpoint, role=ContactRole.TECHNICIAN,
                                  active_until__isnull=True).first()


def technician_row(meeting: Meeting) -> dict[str, Any]:
    endpoint = controlling_endpoint(meeting)
    contact = technician_of(endpoint)
    return {
        "endpoint": endpoint.name if endpoint else "",
        "agency": endpoint.agency.name if endpoint else "",
        "name": contact.full_name if contact else "",
        "phone": contact.phone if contact else "",
    }


# ---------------------------------------------------------------- the script


def items(meeting: Meeting) -> list[AgendaItem]:
    return list(AgendaItem.objects.filter(meeting=meeting).select_related("speaker"))


def item_row(item: AgendaItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "position": item.position,
        "title": item.title,
        "speaker": item.speaker.name if item.speaker else "",
        "speaker_id": item.speaker_id,
        "speaker_name": item.speaker_name,
        "minutes": item.minutes,
        "state": item.state,
        "state_label": str(ItemState(item.state).label),
        "started_at": item.started_at.isoformat() if item.started_at else None,
    }


def script_state(meeting: Meeting) -> dict[str, Any]:
    rows = [item_row(item) for item in items(meeting)]
    current = next((row for row in rows if row["state"] == ItemState.CURRENT), None)
    following = next((row for row in rows if row["state"] == ItemState.PENDING), None)
    return {"items": rows, "current": current, "next": following}


# ---------------------------------------------------------------- the closing checklist


@dataclass
class PartyChecklist:
    """One party's closing items: an endpoint of the meeting, or the operator (endpoint
    None), each item with its tick or None while open."""

    endpoint: Endpoint | None
    rows: list[tuple[ClosingItem, ClosingTick | None]]
    may_tick: bool = False

    @property
    def open_count(self) -> int:
        return sum(1 for _item, tick in self.rows if tick is None)

    @property
    def party(self) -> str:
        return ClosingParty.OPERATOR if self.endpoint is None else ClosingParty.ENDPOINT


def checklist(meeting: Meeting, user: User | None = None) -> list[PartyChecklist]:
    """The operator's items first, then each endpoint's, each with its ticks."""
    closing = active_rulebook().closing
    ticks = {(t.endpoint_id, t.item): t for t in
             ClosingTick.objects.filter(meeting=meeting).select_related("ticked_by")}
    parties: list[PartyChecklist] = [PartyChecklist(None, [
        (entry, ticks.get((None, entry.key))) for entry in closing.items_for("operator")])]
    for endpoint in meeting_endpoints(meeting):
        parties.append(PartyChecklist(endpoint, [
            (entry, ticks.get((endpoint.pk, entry.key)))
            for entry in closing.items_for("endpoint")]))
    for party in parties:
        party.may_tick = user is not None and can_tick_for(user, party.endpoint)
    return parties


@dataclass
class OpenClosing:
    """A party of an ended meeting with closing items still open."""

    meeting: Meeting
    endpoint: Endpoint | None
    items: list[ClosingItem] = field(default_factory=list)
    late: bool = False


def open_closing(user: User, now: dt.datetime | None = None) -> list[OpenClosing]:
    """The closing items left open in the meetings ended lately that `user` may see: all of
    them for an operator, the ones of the user's endpoints for anyone else. Late once the
    rulebook's `closing.late_after_hours` have passed since the meeting's end."""
    now = now or timezone.now()
    closing = active_rulebook().closing
    meetings = list(
        meetings_visible_to(user).filter(
            status=MeetingStatus.ENDED,
            ends_at__gte=now - dt.timedelta(days=OPEN_CLOSING_DAYS))
        .select_related("host_endpoint__agency", "host_agency").order_by("-ends_at"))
    if not meetings:
        return []
    ticked: dict[int, set[tuple[int | None, str]]] = defaultdict(set)
    for meeting_id, endpoint_id, item in ClosingTick.objects.filter(
            meeting__in=meetings).values_list("meeting_id", "endpoint_id", "item"):
        ticked[meeting_id].add((endpoint_id, item))
    invited: dict[int, set[int]] = defaultdict(set)
    for meeting_id, endpoint_id in Meeting.participants.through.objects.filter(
            meeting_id__in=[m.pk for m in meetings]).values_list("meeting_id", "endpoint_id"):
        invited[meeting_id].add(endpoint_id)
    endpoint_ids = {m.host_endpoint_id for m in meetings} | {
        pk for ids in invited.values() for pk in ids}
    endpoints = Endpoint.objects.select_related("agency").in_bulk(endpoint_ids)
    operator = is_operator(user)
    late_after = dt.timedelta(hours=closing.late_after_hours)
    found: list[OpenClosing] = []
    for meeting in meetings:
        late = now > meeting.ends_at + late_after
        done = ticked[meeting.pk]
        if operator:
            left = [e for e in closing.items_for("operator") if (None, e.key) not in done]
            if left:
                found.append(OpenClosing(meeting, None, left, late))
        ids = sorted(invited[meeting.pk] | {meeting.host_endpoint_id},
                     key=lambda pk: endpoints[pk].name)
        for pk in ids:
            endpoint = endpoints[pk]
            if not operator and not can_tick_for(user, endpoint):
                continue
            left = [e for e in closing.items_for("endpoint") if (pk, e.key) not in done]
            if left:
                found.append(OpenClosing(meeting, endpoint, left, late))
    return found
