"""The session's script (ĐN Đ12.2a, KH Đ14.3a): the host's agenda — items, their speakers,
the speaking order — written before the session and followed during it.

Writing the script (add, change, move, remove an item) is one transaction each, audited.
Running it (`start_item`, `next_item`) makes one item the one under way, finishes the one
before, and tells the consoles and the participants' pages (the live broadcast); then, when
the rulebook says so (`script.floor_to_next_speaker`), it offers the floor to the item's
speaker with the live plane's own floor service — outside the transaction, as that service
asks Janus — so the host moves on with one click."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.text import hidden_character_errors
from diemcau.directory.models import Endpoint
from diemcau.media import broadcast
from diemcau.media.models import Participation
from diemcau.media.services import control
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import HOLDING_STATUSES
from diemcau.scheduling.models import Meeting

from ..choices import ItemState
from ..models import AgendaItem
from ..permissions import SCRIPT_EDITABLE, can_run_script, can_write_script, meeting_endpoints

ITEM_FIELDS = ["position", "title", "speaker_id", "speaker_name", "minutes", "state",
               "started_at", "finished_at"]
MAX_MINUTES = 600


@dataclass
class ItemInput:
    title: str
    speaker: Endpoint | None = None
    speaker_name: str = ""
    minutes: int | None = None


class Floor(StrEnum):
    """What became of the floor when an item began."""

    GIVEN = "given"
    NO_SPEAKER = "no_speaker"
    NOT_CONNECTED = "not_connected"
    NOT_OFFERED = "not_offered"
    REFUSED = "refused"


@dataclass(frozen=True)
class Moved:
    """The item now under way (None: the script is finished) and the floor's outcome."""

    item: AgendaItem | None
    floor: Floor
    message: str = ""


def _snapshot(item: AgendaItem) -> dict[str, object]:
    return audit.snapshot(item, ITEM_FIELDS)


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("host_agency").get(pk=meeting.pk)


def _require_write(actor: User, meeting: Meeting) -> None:
    if not can_write_script(actor, meeting):
        raise PermissionDenied(
            "write_script",
            _("Only the host's office, the technicians of the controlling endpoint and the "
              "MCU operators write the session's script."))
    if meeting.status not in SCRIPT_EDITABLE:
        raise InvalidTransition(
            _("The script of a meeting that is “%(status)s” can no longer be changed.")
            % {"status": meeting.get_status_display()})


def _require_run(actor: User, meeting: Meeting) -> None:
    if not can_run_script(actor, meeting):
        raise PermissionDenied(
            "run_script",
            _("Only the technicians of the controlling endpoint and the MCU operators run the "
              "session by its script."))
    if meeting.status not in HOLDING_STATUSES:
        raise InvalidTransition(
            _("The script is followed during the session; this meeting is “%(status)s”.")
            % {"status": meeting.get_status_display()})


def _clean(meeting: Meeting, data: ItemInput) -> ItemInput:
    errors: dict[str, list[str]] = {}
    title = " ".join(data.title.split())
    speaker_name = " ".join(data.speaker_name.split())
    if not title:
        errors["title"] = [_("This field is required.")]
    elif len(title) > 250:
        errors["title"] = [_("At most 250 characters.")]
    if len(speaker_name) > 160:
        errors["speaker_name"] = [_("At most 160 characters.")]
    errors.update(hidden_character_errors({"title": title, "speaker_name": speaker_name}))
    if data.speaker is not None and not meeting_endpoints(meeting).filter(
            pk=data.speaker.pk).exists():
        errors["speaker"] = [_("The speaker must be an endpoint of this meeting.")]
    if data.minutes is not None and not 1 <= data.minutes <= MAX_MINUTES:
        errors["minutes"] = [_("Between 1 and %(max)s minutes.") % {"max": MAX_MINUTES}]
    if errors:
        raise InvalidInput(errors)
    return ItemInput(title, data.speaker, speaker_name, data.minutes)


# ---------------------------------------------------------------- writing the script


@transaction.atomic
def add_item(meeting: Meeting, data: ItemInput, *, actor: User) -> AgendaItem:
    """Add an item at the end of the script."""
    meeting = _lock_meeting(meeting)
    _require_write(actor, meeting)
    data = _clean(meeting, data)
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("position"))["m"] or 0
    item = AgendaItem.objects.create(
        meeting=meeting, position=last + 1, title=data.title, speaker=data.speaker,
        speaker_name=data.speaker_name, minutes=data.minutes,
    )
    audit.record("script.item_add", item, actor=actor, after=_snapshot(item))
    broadcast.meeting_changed(meeting.pk)
    return item


@transaction.atomic
def update_item(item: AgendaItem, data: ItemInput, *, actor: User) -> AgendaItem:
    meeting = _lock_meeting(item.meeting)
    _require_write(actor, meeting)
    item = AgendaItem.objects.get(pk=item.pk)
    data = _clean(meeting, data)
    before = _snapshot(item)
    item.title, item.speaker, item.speaker_name, item.minutes = (
        data.title, data.speaker, data.speaker_name, data.minutes)
    item.save()
    audit.record("script.item_update", item, actor=actor, before=before, after=_snapshot(item))
    broadcast.meeting_changed(meeting.pk)
    return item


def _renumber(meeting: Meeting, ordered: list[AgendaItem]) -> None:
    for index, item in enumerate(ordered, start=1):
        if item.position != index:
            item.position = index
            item.save(update_fields=["position"])


@transaction.atomic
def remove_item(item: AgendaItem, *, actor: User) -> None:
    """Remove an item not yet begun (one under way or done is the session's record)."""
    meeting = _lock_meeting(item.meeting)
    _require_write(actor, meeting)
    item = AgendaItem.objects.get(pk=item.pk)
    if item.state != ItemState.PENDING:
        raise InvalidTransition(_("An item that has begun stays in the script."))
    before = _snapshot(item)
    audit.record("script.item_remove", item, actor=actor, before=before)
    item.delete()
    _renumber(meeting, list(AgendaItem.objects.filter(meeting=meeting)))
    broadcast.meeting_changed(meeting.pk)


@transaction.atomic
def move_item(item: AgendaItem, *, position: int, actor: User) -> AgendaItem:
    """Put an item at `position` (1 is first) in the speaking order."""
    meeting = _lock_meeting(item.meeting)
    _require_write(actor, meeting)
    items = list(AgendaItem.objects.filter(meeting=meeting))
    moving = next((i for i in items if i.pk == item.pk), None)
    if moving is None:
        raise InvalidInput({"item": [_("This item is not in the script.")]})
    if not 1 <= position <= len(items):
        raise InvalidInput({"position": [_("Between 1 and %(max)s.") % {"max": len(items)}]})
    before = _snapshot(moving)
    items.remove(moving)
    items.insert(position - 1, moving)
    _renumber(meeting, items)
    audit.record("script.item_move", moving, actor=actor, before=before,
                 after=_snapshot(moving))
    broadcast.meeting_changed(meeting.pk)
    return moving


# ---------------------------------------------------------------- running the session


def current_item(meeting: Meeting) -> AgendaItem | None:
    return AgendaItem.objects.filter(meeting=meeting, state=ItemState.CURRENT).first()


def next_pending(meeting: Meeting) -> AgendaItem | None:
    """The next item in the speaking order that has not begun."""
    return (AgendaItem.objects.filter(meeting=meeting, state=ItemState.PENDING)
            .select_related("speaker").order_by("position", "pk").first())


def _finish_current(meeting: Meeting, actor: User, now: dt.datetime) -> None:
    for running in AgendaItem.objects.select_for_update().filter(
            meeting=meeting, state=ItemState.CURRENT):
        before = _snapshot(running)
        running.state, running.finished_at = ItemState.DONE, now
        running.save(update_fields=["state", "finished_at"])
        audit.record("script.item_update", running, actor=actor, before=before,
                     after=_snapshot(running))


@transaction.atomic
def _begin(meeting: Meeting, item: AgendaItem | None, actor: User, *,
           following: bool = False) -> AgendaItem | None:
    """Make `item` the one under way — or, with `following`, the next pending one, chosen
    under the meeting's lock so two clicks never skip an item; None finishes the script."""
    meeting = _lock_meeting(meeting)
    _require_run(actor, meeting)
    now = timezone.now()
    if following:
        item = next_pending(meeting)
    if item is not None:
        item = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if item.meeting_id != meeting.pk:
            raise InvalidInput({"item": [_("This item is not in the script.")]})
        if item.state == ItemState.CURRENT:
            return item
    if item is None and current_item(meeting) is None:
        raise InvalidTransition(_("The script has no item left to begin."))
    _finish_current(meeting, actor, now)
    if item is None:
        audit.record("script.finish", meeting, actor=actor)
    else:
        before = _snapshot(item)
        item.state, item.started_at, item.finished_at = ItemState.CURRENT, now, None
        item.save(update_fields=["state", "started_at", "finished_at"])
        audit.record("script.item_start", item, actor=actor, before=before,
                     after=_snapshot(item))
    broadcast.meeting_changed(meeting.pk)
    return item


def _offer_floor(item: AgendaItem, actor: User) -> Moved:
    """Give the floor to the item's speaker, when the rulebook asks it and the speaker is in
    the room; the live plane's floor service does it (Janus, the audit, the broadcast)."""
    if not active_rulebook().script.floor_to_next_speaker:
        return Moved(item, Floor.NOT_OFFERED)
    if item.speaker_id is None:
        return Moved(item, Floor.NO_SPEAKER)
    participation = (Participation.objects.filter(
        meeting_id=item.meeting_id, endpoint_id=item.speaker_id, left_at__isnull=True,
        joined_at__isnull=False).order_by("-joined_at").first())
    if participation is None:
        return Moved(item, Floor.NOT_CONNECTED, _(
            "%(endpoint)s is not in the room: give it the floor when it joins.")
            % {"endpoint": item.speaker.name if item.speaker else ""})
    try:
        control.give_floor(participation, actor=actor)
    except InvalidTransition as error:
        return Moved(item, Floor.REFUSED, str(error))
    return Moved(item, Floor.GIVEN)


def start_item(item: AgendaItem, *, actor: User) -> Moved:
    """Begin `item` (finishing the one under way) and offer its speaker the floor."""
    started = _begin(item.meeting, item, actor)
    assert started is not None
    return _offer_floor(started, actor)


def next_item(meeting: Meeting, *, actor: User) -> Moved:
    """Move on in the speaking order: the next item begins and its speaker is offered the
    floor; after the last one the script is finished."""
    started = _begin(meeting, None, actor, following=True)
    if started is None:
        return Moved(None, Floor.NOT_OFFERED)
    return _offer_floor(started, actor)
