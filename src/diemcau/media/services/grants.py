"""Joining a live meeting: join links, the grant, the backend's join on the browser's handle,
leaving, and what an endpoint reports (R16, R18, R20).

How a browser (or a test endpoint) gets in, without ever learning the room's PIN:

1. It is granted a place: by login (`grant_by_login`) or by a signed, expiring, revocable join
   link of its endpoint (`grant_by_link`). The grant checks the meeting, the endpoint and the
   rulebook (R20), adds a one-off token to Janus (`token_auth`) and returns that token, the
   participant's own access key and the Janus WebSocket address.
2. With the token it opens a Janus session and a VideoRoom handle (janus.js), and hands the
   session and handle ids to `join_publisher`: the backend sends the `join`, with the PIN and
   the participant id it chose, on that handle. Janus delivers `joined` to the browser.
3. It publishes; `record_published` learns its stream ids and mutes its microphone on Janus
   (KH Đ11.6: participants enter muted). Subscriptions go the same way (`join_subscriber`).

Janus is called outside database transactions: a slow node never holds database locks.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.calendar import DISPLAY_FORMAT
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Endpoint
from diemcau.mcu.janus_client import AdminClient, JanusClient, JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.rules import personal_internet_refusal

from .. import broadcast
from ..models import JoinLink, LeaveReason, Participation, Room
from ..permissions import can_control, joinable_endpoints
from .join_links import LINK_GRACE_AFTER_END, in_meeting, link_from_token
from .participations import (
    add_janus_token,
    close_participation,
    hash_secret,
    kick_quietly,
    snapshot,
    withdraw_janus_token,
)
from .rooms import ensure_room, janus_refusal, videoroom

log = logging.getLogger(__name__)


# How long the backend waits for Janus to list a participant it has just joined.
JOIN_CONFIRM_TIMEOUT = 3.0


_MAX_JANUS_ID = 2**53 - 1  # browsers read ids as JavaScript numbers


@dataclass(frozen=True)
class JoinGrant:
    """What a joining browser needs; `key` and `janus_token` are shown only here."""

    participation: Participation
    key: str
    janus_token: str
    ws_url: str
    room_id: int

    @property
    def janus_id(self) -> int:
        return self.participation.janus_id

    def as_json(self) -> dict[str, object]:
        """What the joining page (or an API client) receives."""
        return {
            "participation": self.participation.pk,
            "key": self.key,
            "janus_token": self.janus_token,
            "ws_url": self.ws_url,
            "room_id": self.room_id,
            "janus_id": self.janus_id,
            "muted": self.participation.audio_muted,
            "display": self.participation.display,
        }


def grant_by_login(meeting: Meeting, endpoint: Endpoint, *, actor: User) -> JoinGrant:
    require(actor, Action.JOIN_MEETING)
    if not joinable_endpoints(actor, meeting).filter(pk=endpoint.pk).exists():
        raise PermissionDenied(
            str(Action.JOIN_MEETING), _("You may not connect this endpoint to this meeting.")
        )
    return _grant(meeting, endpoint, user=actor, link=None)


def grant_by_link(token: str) -> JoinGrant:
    link = link_from_token(token)
    return _grant(link.meeting, link.endpoint, user=None, link=link)


def _grant(
    meeting: Meeting, endpoint: Endpoint, *, user: User | None, link: JoinLink | None
) -> JoinGrant:
    check_may_enter(meeting, endpoint)
    token = secrets.token_hex(24)
    try:
        room = ensure_room(meeting)  # network: before the transaction
        node = room.node
        add_janus_token(node, token)
    except JanusError as exc:
        log.info("grant refused by Janus: %s", exc)
        raise InvalidTransition(janus_refusal(exc)) from exc
    except JanusUnavailable as exc:
        raise InvalidTransition(_("The media server is not answering. Try again.")) from exc
    try:
        grant, replaced = _record_grant(meeting.pk, endpoint, room, token, user=user, link=link)
    except Exception:
        withdraw_janus_token(node, token)
        raise
    if replaced is not None:
        kick_quietly(replaced)
    return grant


# Endpoints may connect this long before the first technical check (or the rehearsal, or the
# session when there is neither), to set up their room.
JOIN_OPENS_BEFORE = dt.timedelta(minutes=30)


def room_window(meeting: Meeting, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """Where the meeting's room stands now: "open" (endpoints may connect), "not_yet" (it
    opens at the time given), "over", or "closed" (the meeting is not accepted or live)."""
    now = now or timezone.now()
    opens = room_opens_at(meeting)
    if meeting.status not in (MeetingStatus.ACCEPTED, MeetingStatus.LIVE):
        return "closed", opens
    if meeting.ends_at + LINK_GRACE_AFTER_END <= now:
        return "over", opens
    if now < opens:
        return "not_yet", opens
    return "open", opens


def room_opens_at(meeting: Meeting) -> dt.datetime:
    """When endpoints may first connect: the first technical check runs in the real room
    (R15), so the room opens a little before it."""
    first = min(
        [meeting.starts_at]
        + ([meeting.rehearsal_starts_at] if meeting.rehearsal_starts_at else [])
        + list(meeting.checks.values_list("due_at", flat=True)[:50])
    )
    return first - JOIN_OPENS_BEFORE


def check_may_enter(meeting: Meeting, endpoint: Endpoint) -> None:
    """The meeting is open to this endpoint now; R20 for state-secret meetings."""
    if meeting.status not in (MeetingStatus.ACCEPTED, MeetingStatus.LIVE):
        raise InvalidTransition(_("This meeting is not open: it is %(status)s.")
                                % {"status": meeting.get_status_display()})
    now = timezone.now()
    if meeting.ends_at + LINK_GRACE_AFTER_END <= now:
        raise InvalidTransition(_("This meeting is over."))
    opens = room_opens_at(meeting)
    if now < opens:
        raise InvalidTransition(
            _("The meeting room opens at %(time)s, before the first technical check.")
            % {"time": timezone.localtime(opens).strftime(DISPLAY_FORMAT)}
        )
    if not in_meeting(meeting, endpoint):
        raise PermissionDenied("join", _("This endpoint is not in the meeting."))
    if endpoint.status != EndpointStatus.APPROVED:
        raise PermissionDenied(
            "join", _("This endpoint is not admitted (its status is %(status)s).")
            % {"status": endpoint.get_status_display()},
        )
    refusal = personal_internet_refusal(meeting.classification, endpoint)
    if refusal is not None:
        raise refusal


@transaction.atomic
def _record_grant(
    meeting_id: int,
    endpoint: Endpoint,
    room: Room,
    token: str,
    *,
    user: User | None,
    link: JoinLink | None,
) -> tuple[JoinGrant, Participation | None]:
    meeting = _lock_for_grant(meeting_id, endpoint.pk)
    check_may_enter(meeting, endpoint)  # again, under the lock
    room = Room.objects.select_related("node").get(pk=room.pk)
    if room.locked and not (user is not None and can_control(user, meeting)):
        raise InvalidTransition(_("The host has locked the meeting: no one else may join."))
    # One connection per endpoint: a second device with the same link takes the place over,
    # and the first is removed (a leaked link shows up at once in the room).
    replaced = (
        Participation.objects.select_for_update()
        .filter(meeting=meeting, endpoint=endpoint, left_at__isnull=True)
        .first()
    )
    if replaced is not None:
        close_participation(replaced, LeaveReason.LEFT, actor=user, action="live.replaced")
    # The node's hardware maximum (R11): bookings keep within the rulebook's cap, but extra
    # devices joining on the day must not push the node past what it can carry.
    on_node = Participation.objects.filter(node=room.node, left_at__isnull=True).count()
    if on_node >= room.node.max_endpoints:
        raise InvalidTransition(
            _("The MCU node %(node)s already carries its maximum of %(max)s endpoints.")
            % {"node": room.node.name, "max": room.node.max_endpoints}
        )
    key = secrets.token_urlsafe(24)
    rulebook = active_rulebook()
    # KH Đ11.6: participant endpoints enter muted; the host's own endpoint speaks.
    muted = rulebook.session.participants_join_muted and endpoint.pk != meeting.host_endpoint_id
    participation = Participation.objects.create(
        meeting=meeting,
        endpoint=endpoint,
        user=user,
        join_link=link,
        node=room.node,
        display=_display(endpoint),
        janus_id=_free_janus_id(meeting),
        key_hash=hash_secret(key),
        janus_token_secret=token,
        audio_muted=muted,
    )
    if link is not None:
        link.last_used_at = timezone.now()
        link.save(update_fields=["last_used_at"])
    audit.record("live.grant", participation, actor=user, after=snapshot(participation))
    # The consoles show the new line at once; the participant pages list only the endpoints
    # that joined the room (`join_publisher`), so they are told then, not now: on a Monday
    # morning each grant would otherwise make every page of the meeting read its state again.
    broadcast.meeting_changed(meeting.pk, participants=False)
    grant = JoinGrant(
        participation=participation,
        key=key,
        janus_token=token,
        ws_url=room.node.ws_url or settings.JANUS_PUBLIC_WS_URL,
        room_id=room.janus_room_id,
    )
    return grant, replaced


def _lock_for_grant(meeting_id: int, endpoint_id: int) -> Meeting:
    """The locks of one grant. Grants of one meeting run side by side: each holds the meeting
    with a shared lock, so a change of its status (which locks it for update) waits for them
    and they for it, but not for each other. One connection per endpoint: its own row is
    locked, so two devices of the same endpoint are taken in turn. (SQLite takes one write
    lock for the whole database, so there the plain read is enough.)"""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Meeting._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR SHARE", [meeting_id])
    endpoint_row = Endpoint.objects.filter(pk=endpoint_id).order_by()  # no join: its row only
    list(endpoint_row.select_for_update(no_key=True, of=("self",)).values("pk"))
    return Meeting.objects.get(pk=meeting_id)


def _display(endpoint: Endpoint) -> str:
    return f"{endpoint.name} — {endpoint.agency.name}"[:160]


def _free_janus_id(meeting: Meeting) -> int:
    while True:
        candidate = secrets.randbelow(_MAX_JANUS_ID) + 1
        if not Participation.objects.filter(meeting=meeting, janus_id=candidate).exists():
            return candidate


def join_publisher(participation: Participation, *, session_id: int, handle_id: int) -> None:
    """Join the browser's VideoRoom handle to the room, as the backend, with the PIN."""
    room = _open_room(participation)
    body = {
        "request": "join",
        "ptype": "publisher",
        "room": room.janus_room_id,
        "pin": room.room_pin,
        "id": participation.janus_id,
        "display": participation.display,
    }
    _message(participation.node, session_id, handle_id, body)
    if not _listed(room, participation.janus_id):
        raise InvalidTransition(_("The media server did not accept the connection. Try again."))
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            raise InvalidTransition(_("This connection is no longer valid. Join again."))
        before = snapshot(current)
        current.janus_session_id, current.janus_handle_id = session_id, handle_id
        current.joined_at = current.joined_at or timezone.now()
        current.save(update_fields=["janus_session_id", "janus_handle_id", "joined_at"])
        audit.record("live.join", current, actor=current.user, before=before,
                     after=snapshot(current))
        broadcast.meeting_changed(current.meeting_id)
    participation.refresh_from_db()


def join_subscriber(
    participation: Participation, *, session_id: int, handle_id: int, feeds: list[int]
) -> None:
    """Subscribe the browser's second handle to some publishers of the room (no state
    changes: watching is part of being connected)."""
    room = _open_room(participation)
    if not feeds:
        raise InvalidInput({"feeds": [_("Choose at least one picture to receive.")]})
    body = {
        "request": "join",
        "ptype": "subscriber",
        "room": room.janus_room_id,
        "pin": room.room_pin,
        "streams": [{"feed": int(feed)} for feed in feeds],
    }
    _message(participation.node, session_id, handle_id, body)


def _open_room(participation: Participation) -> Room:
    if participation.left_at is not None:
        raise InvalidTransition(_("This connection is no longer valid. Join again."))
    room = Room.objects.select_related("node").filter(
        meeting_id=participation.meeting_id, destroyed_at__isnull=True
    ).first()
    if room is None:
        raise InvalidTransition(_("The meeting room is not open."))
    return room


def _message(node: McuNode, session_id: int, handle_id: int, body: dict[str, object]) -> None:
    try:
        JanusClient(node.access()).message(int(session_id), int(handle_id), body)
    except JanusError as exc:
        log.info("join refused by Janus: %s", exc)
        raise InvalidTransition(janus_refusal(exc)) from exc
    except JanusUnavailable as exc:
        raise InvalidTransition(_("The media server is not answering. Try again.")) from exc


def _listed(room: Room, janus_id: int) -> bool:
    deadline = time.monotonic() + JOIN_CONFIRM_TIMEOUT
    with videoroom(room.node) as handle:
        while True:
            ids = {int(p["id"]) for p in handle.listparticipants(room.janus_room_id)}
            if janus_id in ids:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def record_published(participation: Participation, *, audio_mid: str = "",
                     video_mid: str = "") -> None:
    """The endpoint published; mute its microphone on Janus when it must enter muted.

    The stream ids are read from Janus (the admin API's view of the publisher's handle); what
    the page says is used only when Janus cannot tell, so a page cannot dodge the mute."""
    participation = Participation.objects.select_related("node").get(pk=participation.pk)
    audio_mid, video_mid = _published_mids(participation, audio_mid, video_mid)
    if participation.audio_muted and audio_mid:
        from .control import apply_audio  # the control module owns moderation

        apply_audio(participation, muted=True, audio_mid=audio_mid)
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        current.audio_mid, current.video_mid = audio_mid[:16], video_mid[:16]
        current.save(update_fields=["audio_mid", "video_mid"])
        broadcast.meeting_changed(current.meeting_id)


def _published_mids(participation: Participation, audio_mid: str, video_mid: str
                    ) -> tuple[str, str]:
    if participation.janus_session_id and participation.janus_handle_id:
        try:
            info = AdminClient(participation.node.access()).handle_info(
                participation.janus_session_id, participation.janus_handle_id
            )
        except (JanusError, JanusUnavailable) as exc:
            log.warning("participation %s: no handle_info: %s", participation.pk, exc)
        else:
            streams = info.get("plugin_specific", {}).get("streams", [])
            mids = {s.get("type"): str(s.get("mid", "")) for s in streams
                    if not s.get("disabled")}
            if mids:
                return mids.get("audio", ""), mids.get("video", "")
    return audio_mid, video_mid
