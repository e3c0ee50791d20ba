"""An endpoint's connection to a meeting, from grant to leave (R16, R18): closing it with
its reason, removing it from Janus, and the one-off Janus tokens.

Janus is called outside database transactions: a slow node never holds database locks.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import PermissionDenied
from diemcau.core.models import User
from diemcau.mcu.janus_client import AdminClient, JanusClient, JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode

from .. import broadcast
from ..models import LeaveReason, Participation, Room, Transport
from .rooms import videoroom

log = logging.getLogger(__name__)


PARTICIPATION_FIELDS = [
    "meeting_id",
    "endpoint_id",
    "user_id",
    "join_link_id",
    "display",
    "janus_id",
    "joined_at",
    "left_at",
    "left_reason",
    "audio_muted",
    "video_muted",
    "has_floor",
    "attendee_count",
    "transport",
]


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def snapshot(participation: Participation) -> dict[str, object]:
    return audit.snapshot(participation, PARTICIPATION_FIELDS)


def add_janus_token(node: McuNode, token: str) -> None:
    AdminClient(node.access()).add_token(token)


def withdraw_janus_token(node: McuNode, token: str) -> None:
    try:
        AdminClient(node.access()).remove_token(token)
    except (JanusError, JanusUnavailable) as exc:  # it dies with the Janus process anyway
        log.warning("node %s: could not remove a join token: %s", node, exc)


def participation_for_key(key: str) -> Participation:
    """The open participation an access key stands for."""
    found = (
        Participation.objects.select_related("meeting", "endpoint", "node")
        .filter(key_hash=hash_secret(key or ""), left_at__isnull=True)
        .first()
    )
    if found is None:
        raise PermissionDenied("join", _("This connection is no longer valid. Join again."))
    return found


def leave(participation: Participation, *, reason: str = LeaveReason.LEFT,
          actor: User | None = None) -> bool:
    """The participation ends; its Janus token is withdrawn. False when it had ended."""
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            return False
        close_participation(current, reason, actor=actor, action="live.leave")
    if current.janus_token_secret:  # a SIP leg has none: the mixer joined it
        withdraw_janus_token(current.node, current.janus_token_secret)
    return True


def close_participation(participation: Participation, reason: str, *, actor: User | None,
           action: str) -> None:
    """Close a participation inside the caller's transaction."""
    before = snapshot(participation)
    participation.left_at = timezone.now()
    participation.left_reason = reason
    participation.hand_raised_at = None
    participation.has_floor = False
    participation.save(update_fields=["left_at", "left_reason", "hand_raised_at", "has_floor"])
    Room.objects.filter(meeting_id=participation.meeting_id, spotlight=participation).update(
        spotlight=None
    )
    audit.record(action, participation, actor=actor, before=before, after=snapshot(participation))
    broadcast.meeting_changed(participation.meeting_id)
    broadcast.tell_participant(participation.pk, "closed", reason=reason)


def kick_quietly(participation: Participation) -> None:
    """Remove a replaced connection from Janus and withdraw its token (a SIP leg's call is
    hung up by the mixer agent, which sees its participation closed)."""
    if participation.transport == Transport.SIP:
        return
    kick_from_janus(participation)
    withdraw_janus_token(participation.node, participation.janus_token_secret)


def kick_from_janus(participation: Participation) -> None:
    """Drop a closed participation's feed from Janus, if it is still there (a page that
    closed its socket may still send media until its Janus session times out)."""
    room = Room.objects.select_related("node").filter(
        meeting_id=participation.meeting_id, destroyed_at__isnull=True
    ).first()
    if room is None:
        return
    try:
        with videoroom(room.node) as handle:
            handle.kick(room.janus_room_id, secret=room.room_secret,
                        participant=participation.janus_id)
    except (JanusError, JanusUnavailable):
        pass  # not there any more, or the node is down: nothing left to drop
    end_janus_session(participation)


def end_janus_session(participation: Participation) -> None:
    """Destroy the participant's whole Janus session: a kick drops only its published feed,
    and without this its subscriptions would go on showing the meeting until the session
    timed out. The backend may do it with its api_secret, as it sends the joins."""
    if not participation.janus_session_id:
        return
    # It may be gone already (the page closed it, or Janus restarted).
    with contextlib.suppress(JanusError, JanusUnavailable):
        JanusClient(participation.node.access()).destroy_session(participation.janus_session_id)
