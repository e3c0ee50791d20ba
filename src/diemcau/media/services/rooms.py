"""Room lifecycle: each accepted meeting gets a VideoRoom on its node before its first
technical check, and loses it after the end (R15, R16).

The database is the source of truth. Janus keeps rooms in memory only (`permanent: false`),
so after a restart of Janus or of the machine `reconcile` recreates the missing rooms with
the same id, PIN and secret, and destroys our rooms that no meeting needs any more. Rooms
are marked by their description ("diemcau:<meeting id>"); rooms without the marker are never
touched.

Network calls to Janus run outside database transactions, so a slow or dead node never
holds database locks; each database step is its own short transaction with its audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidTransition
from diemcau.core.models import User
from diemcau.mcu.janus_client import (
    NO_SUCH_HANDLE,
    NO_SUCH_SESSION,
    ROOM_EXISTS,
    ROOM_NO_SUCH_FEED,
    ROOM_NO_SUCH_ROOM,
    ROOM_UNAUTHORIZED,
    UNAUTHORIZED_API,
    JanusError,
    JanusUnavailable,
    VideoRoom,
    VideoRoomPool,
)
from diemcau.mcu.models import McuNode
from diemcau.scheduling.choices import HOLDING_STATUSES, MeetingStatus
from diemcau.scheduling.models import Meeting

from .. import broadcast
from ..models import Room

log = logging.getLogger(__name__)

MARKER = "diemcau:"
# A room exists from 24 h before the meeting's first technical check (or its first window,
# when the rulebook asks for no check), so the check already runs in the real room.
ROOM_LEAD = dt.timedelta(hours=24)
# An accepted meeting nobody marked live or ended keeps its room this long after its end.
ROOM_GRACE_AFTER_END = dt.timedelta(hours=1)
# Room ids stay below 2**53 so browsers (JavaScript numbers) read them exactly.
_MAX_ROOM_ID = 2**53 - 1
# Publishers beyond the endpoints: the operator and a few personal devices.
PUBLISHER_MARGIN = 5
ROOM_FIELDS = ["meeting_id", "node_id", "janus_room_id", "janus_created_at", "destroyed_at"]


@dataclass
class ReconcileReport:
    node: str
    created: list[int] = field(default_factory=list)
    destroyed: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def description_for(meeting_id: int) -> str:
    return f"{MARKER}{meeting_id}"


def derived_room_secret(node: McuNode, room_id: int) -> str:
    """The room secret is derived from the node's room admin key, so a room of ours whose row
    was lost (a restored database) can still be destroyed."""
    key = (node.room_admin_secret or secrets.token_hex(16)).encode()
    return hmac.new(key, f"diemcau-room:{room_id}".encode(), hashlib.sha256).hexdigest()[:40]


def wanted_meetings(node: McuNode, now: dt.datetime | None = None) -> QuerySet[Meeting]:
    """Meetings on `node` that must have a room now: live ones, and accepted ones whose first
    technical check (or first window) is within ROOM_LEAD and whose end is not long past."""
    now = now or timezone.now()
    horizon = now + ROOM_LEAD
    opens_soon = (
        Q(first_check__lte=horizon)
        | Q(rehearsal_starts_at__lte=horizon)
        | Q(starts_at__lte=horizon)
    )
    return (
        Meeting.objects.filter(node=node)
        .annotate(first_check=Min("checks__due_at"))
        .filter(
            Q(status=MeetingStatus.LIVE)
            | (
                Q(status=MeetingStatus.ACCEPTED, ends_at__gt=now - ROOM_GRACE_AFTER_END)
                & opens_soon
            )
        )
    )


def room_wanted(meeting: Meeting, now: dt.datetime | None = None) -> bool:
    """Whether `wanted_meetings(meeting.node)` holds `meeting` — read from the meeting as it
    stands in memory and, only when its own times do not decide it, one lookup of its checks:
    the acceptance asks it inside the transaction that holds the capacity locks."""
    if meeting.node_id is None:
        return False
    if meeting.status == MeetingStatus.LIVE:
        return True
    now = now or timezone.now()
    horizon = now + ROOM_LEAD
    if meeting.status != MeetingStatus.ACCEPTED or meeting.ends_at <= now - ROOM_GRACE_AFTER_END:
        return False
    if meeting.starts_at <= horizon or (
            meeting.rehearsal_starts_at is not None and meeting.rehearsal_starts_at <= horizon):
        return True
    return meeting.checks.filter(due_at__lte=horizon).exists()


def janus_refusal(exc: JanusError) -> str:
    """What a page or a console shows when Janus refuses: the page's own words for Janus's
    error code, never Janus's English reason (that goes to the log)."""
    texts = {
        ROOM_NO_SUCH_ROOM: _("The meeting's room is not ready on the media server yet."),
        ROOM_NO_SUCH_FEED: _("This picture is no longer sent."),
        ROOM_UNAUTHORIZED: _("The media server refused this connection."),
        UNAUTHORIZED_API: _("The media server refused this connection."),
        NO_SUCH_SESSION: _("The media server restarted. Try again."),
        NO_SUCH_HANDLE: _("The media server restarted. Try again."),
    }
    return str(texts.get(exc.code, _("The media server could not do that. Try again in a "
                                     "moment.")))


# The backend's VideoRoom handles, kept open per node by this process (`VideoRoomPool`).
_HANDLES = VideoRoomPool()


@contextmanager
def videoroom(node: McuNode) -> Iterator[VideoRoom]:
    if not node.is_managed:
        raise JanusUnavailable(f"MCU node {node.name} has no Janus API URL")
    with _HANDLES.handle(node.access()) as handle:
        yield handle


# ---------------------------------------------------------------------------- one meeting


def ensure_room(meeting: Meeting, *, actor: User | None = None) -> Room:
    """Make sure the meeting's room exists on its node (idempotent). Called by the services
    that need the room and by `reconcile`; `actor` is who caused it (None: the system)."""
    room = _prepare(meeting.pk)
    with videoroom(room.node) as handle:
        made = _create_on_janus(handle, room)
    if made or room.destroyed_at is not None or room.janus_created_at is None:
        room = _mark_created(room, actor=actor, action=_creation(room, made))
    return room


def _creation(room: Room, made: bool) -> str:
    return "room.recreate" if made and room.janus_created_at is not None else "room.create"


def destroy_room(meeting: Meeting, *, actor: User | None = None) -> bool:
    """Destroy the meeting's room after its end; False when it had none. A node that does
    not answer loses the room anyway: the next `reconcile` destroys it as an orphan."""
    room = (
        Room.objects.select_related("node")
        .filter(meeting_id=meeting.pk, destroyed_at__isnull=True)
        .first()
    )
    if room is None:
        return False
    try:
        with videoroom(room.node) as handle:
            handle.destroy(room.janus_room_id, secret=room.room_secret)
    except JanusError as exc:
        if exc.code != ROOM_NO_SUCH_ROOM:
            raise
    except JanusUnavailable as exc:
        log.warning("room %s: node not answering, reconcile will destroy it: %s", room, exc)
    _mark_destroyed(room, actor=actor, action="room.destroy")
    return True


def _prepare(meeting_id: int) -> Room:
    """The meeting's room row on its current node. Once it exists, as for every join after
    the first, it is read without a lock: joins of one meeting do not wait for each other."""
    room = (
        Room.objects.select_related("node")
        .filter(meeting_id=meeting_id, meeting__status__in=HOLDING_STATUSES,
                node_id=F("meeting__node_id"))
        .first()
    )
    return room if room is not None else _prepare_locked(meeting_id)


@transaction.atomic
def _prepare_locked(meeting_id: int) -> Room:
    """Lock the meeting and give it its room row (new id, PIN and secret), or move the row to
    the meeting's current node."""
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("node").get(pk=meeting_id)
    )
    if meeting.status not in HOLDING_STATUSES:
        raise InvalidTransition(_("Only an accepted or live meeting has a room."))
    node = meeting.node
    if node is None:
        raise InvalidTransition(_("The meeting has no MCU node."))
    room = Room.objects.select_for_update().select_related("node").filter(meeting=meeting).first()
    if room is not None and room.node_id == node.pk:
        return room
    if room is None:
        room = Room(meeting=meeting)
    # New, or moved to another node: the old node's room becomes an orphan there.
    room.node = node
    room.janus_room_id = _free_room_id(node)
    room.room_pin = secrets.token_urlsafe(12)
    room.room_secret = derived_room_secret(node, room.janus_room_id)
    room.janus_created_at = None
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError:  # a concurrent call made it first
        return Room.objects.select_related("node").get(meeting=meeting)
    return room


def _free_room_id(node: McuNode) -> int:
    while True:
        room_id = secrets.randbelow(_MAX_ROOM_ID) + 1
        if not Room.objects.filter(node=node, janus_room_id=room_id).exists():
            return room_id


def _create_on_janus(handle: VideoRoom, room: Room) -> bool:
    """Create the room on Janus; False when it is already there."""
    meeting_id = room.meeting_id
    endpoints = Meeting.participants.through.objects.filter(meeting_id=meeting_id).count() + 1
    try:
        handle.create(
            room.janus_room_id,
            description=description_for(meeting_id),
            pin=room.room_pin,
            secret=room.room_secret,
            publishers=endpoints + PUBLISHER_MARGIN,
            record=False,  # started by the host's technician, when asked (R16, R20)
            rec_dir=str(settings.JANUS_RECORDINGS_DIR / str(meeting_id)),
            # A keyframe request every 10 s: a new subscriber, or a recording after a
            # mute/unmute (`moderate`), gets a whole picture soon.
            fir_freq=10,
        )
    except JanusError as exc:
        if exc.code == ROOM_EXISTS:
            return False
        raise
    return True


@transaction.atomic
def _mark_created(room: Room, *, actor: User | None, action: str) -> Room:
    room = Room.objects.select_for_update().select_related("node").get(pk=room.pk)
    before = audit.snapshot(room, ROOM_FIELDS)
    room.janus_created_at, room.destroyed_at = timezone.now(), None
    room.save(update_fields=["janus_created_at", "destroyed_at"])
    audit.record(action, room, actor=actor, before=before, after=audit.snapshot(room, ROOM_FIELDS))
    # Pages that wait for their media (`media_ready` in their state) learn it is back.
    broadcast.meeting_changed(room.meeting_id)
    return room


@transaction.atomic
def _mark_destroyed(room: Room, *, actor: User | None, action: str) -> None:
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.destroyed_at is not None:
        return
    before = audit.snapshot(room, ROOM_FIELDS)
    room.destroyed_at = timezone.now()
    room.save(update_fields=["destroyed_at"])
    audit.record(action, room, actor=actor, before=before, after=audit.snapshot(room, ROOM_FIELDS))


# ---------------------------------------------------------------------------- a whole node


def reconcile(node: McuNode, *, now: dt.datetime | None = None) -> ReconcileReport:
    """Bring the node's Janus in line with the database: recreate missing rooms, destroy our
    rooms no meeting needs. Raises JanusUnavailable when the node does not answer."""
    report = ReconcileReport(node=node.name)
    started = timezone.now()
    with videoroom(node) as handle:
        # List first, then ask the database: a room made in between is simply not seen,
        # rather than taken for an orphan.
        ours = {
            int(item["room"]): item
            for item in handle.list()
            if str(item.get("description", "")).startswith(MARKER)
        }
        keep: set[int] = set()
        for meeting in wanted_meetings(node, now):
            try:
                room = _prepare(meeting.pk)
            except InvalidTransition:
                continue  # it changed state meanwhile
            keep.add(room.janus_room_id)
            made = False
            if room.janus_room_id not in ours:
                try:
                    made = _create_on_janus(handle, room)
                except JanusError as exc:
                    report.failed.append(f"create {room.janus_room_id}: {exc}")
                    continue
            if made:
                report.created.append(room.janus_room_id)
            if made or room.destroyed_at is not None or room.janus_created_at is None:
                _mark_created(room, actor=None, action=_creation(room, made))
        for room_id in sorted(set(ours) - keep):
            if not _destroy_orphan(handle, node, room_id, ours[room_id], report):
                keep.add(room_id)  # still there: its row must not say otherwise
    _forget_gone_rooms(node, keep, started)
    return report


def _destroy_orphan(
    handle: VideoRoom,
    node: McuNode,
    room_id: int,
    item: dict[str, object],
    report: ReconcileReport,
) -> bool:
    """Destroy one of our rooms that no meeting needs; False when Janus refused."""
    row = Room.objects.filter(node=node, janus_room_id=room_id).first()
    secret = row.room_secret if row else derived_room_secret(node, room_id)
    try:
        handle.destroy(room_id, secret=secret)
    except JanusError as exc:
        if exc.code != ROOM_NO_SUCH_ROOM:
            report.failed.append(f"destroy {room_id}: {exc}")
            return False
    report.destroyed.append(room_id)
    if row is not None and row.destroyed_at is None:
        _mark_destroyed(row, actor=None, action="room.destroy_orphan")
    elif row is None:
        _audit_unknown_orphan(node, room_id, str(item.get("description", "")))
    return True


@transaction.atomic
def _audit_unknown_orphan(node: McuNode, room_id: int, description: str) -> None:
    audit.record(
        "room.destroy_orphan",
        None,
        actor=None,
        object_type="media.room",
        object_id="",
        object_repr=f"room {room_id} on {node.pk} (no record)",
        after={"node_id": node.pk, "janus_room_id": room_id, "description": description},
    )


def _forget_gone_rooms(node: McuNode, keep: set[int], started: dt.datetime) -> None:
    """Rows that say a room is there although no meeting needs it and Janus no longer has it
    (a restart took it): mark them destroyed. Rooms made since this reconcile started were
    not in its list, so they are left alone."""
    stale = Room.objects.filter(
        node=node, destroyed_at__isnull=True, janus_created_at__lt=started
    ).exclude(janus_room_id__in=keep)
    for room in stale:
        _mark_destroyed(room, actor=None, action="room.destroy")
