"""Keeping the attendance true to what Janus sees (R18).

A participant's page ends its participation when its socket closes, but a browser that
crashes, a line that drops or a Janus that restarts leaves rows that say "connected" while
Janus no longer has the participant. `sync_participations` closes those (reason: connection
lost), and also grants that were never used to join. The worker runs it every minute and
right after a node comes back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.utils import timezone

from diemcau.mcu.janus_client import JanusError, JanusUnavailable, VideoRoom
from diemcau.mcu.models import McuNode

from ..models import LeaveReason, Participation, Room, Transport
from .participations import leave
from .rooms import videoroom

log = logging.getLogger(__name__)

# A joined participant Janus has not listed for this long is gone (a page reloading or a
# line recovering gets this long to come back before its row is closed).
JOINED_GRACE = dt.timedelta(seconds=30)
# A grant nobody used to join within this long is abandoned.
UNUSED_GRANT = dt.timedelta(minutes=2)


def sync_participations(node: McuNode, *, now: dt.datetime | None = None) -> list[int]:
    """Close the participations on `node` that Janus does not have; returns their ids.
    Raises JanusUnavailable when the node does not answer (nothing is closed then: a node
    that is down is the operator's alarm, not every endpoint's absence)."""
    now = now or timezone.now()
    rows = list(
        Participation.objects.select_related("node")
        .filter(node=node, left_at__isnull=True)
        .exclude(transport=Transport.SIP)  # the mixer agent follows its own calls
        .filter(granted_at__lt=now - min(JOINED_GRACE, UNUSED_GRANT))
    )
    if not rows:
        return []
    by_meeting: dict[int, list[Participation]] = defaultdict(list)
    for row in rows:
        by_meeting[row.meeting_id].append(row)
    rooms = {
        room.meeting_id: room
        for room in Room.objects.filter(meeting_id__in=by_meeting, destroyed_at__isnull=True)
    }
    closed: list[int] = []
    with videoroom(node) as handle:
        for meeting_id, participations in by_meeting.items():
            listed = _listed(handle, rooms.get(meeting_id))
            for row in participations:
                if _gone(row, listed, now) and leave(row, reason=LeaveReason.LOST):
                    closed.append(row.pk)
    if closed:
        log.info("node %s: %d participations closed as lost", node.name, len(closed))
    return closed


def _listed(handle: VideoRoom, room: Room | None) -> set[int]:
    if room is None:
        return set()
    try:
        return {int(p["id"]) for p in handle.listparticipants(room.janus_room_id)}
    except JanusError:  # no such room: Janus lost it (restart); reconcile recreates it
        return set()


def _gone(row: Participation, listed: set[int], now: dt.datetime) -> bool:
    if row.janus_id in listed:
        return False
    if row.joined_at is None:
        return row.granted_at < now - UNUSED_GRANT
    return row.joined_at < now - JOINED_GRACE


def sync_all_nodes(now: dt.datetime | None = None) -> dict[str, int]:
    """Node name → participations closed, for every managed node that answers."""
    result: dict[str, int] = {}
    for node in McuNode.objects.filter(is_active=True):
        if not node.is_managed:
            continue
        try:
            result[node.name] = len(sync_participations(node, now=now))
        except (JanusUnavailable, JanusError) as exc:
            log.warning("node %s: attendance not synced: %s", node.name, exc)
    return result
