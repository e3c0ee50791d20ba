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

import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.directory.choices import EndpointStatus, Network, TerminalKind
from diemcau.directory.models import Endpoint
from diemcau.mcu.janus_client import AdminClient, JanusClient, JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import Classification, MeetingStatus
from diemcau.scheduling.models import Meeting

from . import broadcast
from .models import JoinLink, LeaveReason, Participation, Quality, Room
from .permissions import can_control, joinable_endpoints
from .rooms import ensure_room, videoroom

log = logging.getLogger(__name__)

LINK_SALT = "diemcau.media.join-link"
# A link is valid until the meeting's end plus this margin, unless it is given a shorter life.
LINK_GRACE_AFTER_END = dt.timedelta(hours=1)
# How long the backend waits for Janus to list a participant it has just joined.
JOIN_CONFIRM_TIMEOUT = 3.0
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
]
_MAX_JANUS_ID = 2**53 - 1  # browsers read ids as JavaScript numbers


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def snapshot(participation: Participation) -> dict[str, object]:
    return audit.snapshot(participation, PARTICIPATION_FIELDS)


# ---------------------------------------------------------------------------- join links


def issue_join_link(
    meeting: Meeting, endpoint: Endpoint, *, actor: User, valid_until: dt.datetime | None = None
) -> tuple[JoinLink, str]:
    """A join link for one endpoint of the meeting; the token is returned only here.

    Whoever may connect the endpoint by login (its agency's scope) or control the meeting may
    hand its room a link."""
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
        _require_may_connect(actor, meeting, endpoint)
        latest = meeting.ends_at + LINK_GRACE_AFTER_END
        expires = min(valid_until, latest) if valid_until else latest
        if expires <= timezone.now():
            raise InvalidInput({"valid_until": [_("The link would already have expired.")]})
        secret = secrets.token_urlsafe(24)
        link = JoinLink.objects.create(
            meeting=meeting,
            endpoint=endpoint,
            token_hash=_hash(secret),
            expires_at=expires,
            created_by=actor,
        )
        audit.record(
            "join_link.issue",
            link,
            actor=actor,
            after=audit.snapshot(link, ["meeting_id", "endpoint_id", "expires_at"]),
        )
    token = signing.dumps({"l": link.pk, "s": secret}, salt=LINK_SALT, compress=True)
    return link, token


def revoke_join_link(link: JoinLink, *, actor: User) -> JoinLink:
    """The link lets no one in any more, and whoever is connected with it now is removed
    (a link that leaked is revoked because someone it was not meant for may be using it)."""
    with transaction.atomic():
        link = JoinLink.objects.select_for_update().select_related("meeting").get(pk=link.pk)
        _require_may_connect(actor, link.meeting, link.endpoint)
        if link.revoked_at is not None:
            raise InvalidTransition(_("The link is already revoked."))
        before = audit.snapshot(link, ["revoked_at"])
        link.revoked_at, link.revoked_by = timezone.now(), actor
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            "join_link.revoke", link, actor=actor, before=before,
            after=audit.snapshot(link, ["revoked_at"]),
        )
        connected = list(
            Participation.objects.select_for_update().select_related("node")
            .filter(join_link=link, left_at__isnull=True)
        )
        for participation in connected:
            close_participation(participation, LeaveReason.KICKED, actor=actor,
                                action="live.kick")
    for participation in connected:  # Janus after the commit
        kick_from_janus(participation)
        withdraw_janus_token(participation.node, participation.janus_token_secret)
    return link


def link_from_token(token: str, *, now: dt.datetime | None = None) -> JoinLink:
    """The valid link a token stands for. A tampered, unknown, revoked or expired token is
    refused with the same kind of error, saying only what the holder can act on."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=LINK_SALT)
        link = JoinLink.objects.select_related("meeting", "endpoint").get(pk=int(data["l"]))
    except (signing.BadSignature, JoinLink.DoesNotExist, KeyError, TypeError, ValueError):
        raise PermissionDenied("join", _("This join link is not valid.")) from None
    if not secrets.compare_digest(link.token_hash, _hash(str(data.get("s", "")))):
        raise PermissionDenied("join", _("This join link is not valid."))
    if link.revoked_at is not None:
        raise PermissionDenied("join", _("This join link was revoked. Ask the host for a new one."))
    if link.expires_at <= now:
        raise PermissionDenied("join", _("This join link has expired. Ask the host for a new one."))
    return link


def _require_may_connect(actor: User, meeting: Meeting, endpoint: Endpoint) -> None:
    if can_control(actor, meeting):
        if not _in_meeting(meeting, endpoint):
            raise InvalidInput({"endpoint": [_("This endpoint is not in the meeting.")]})
        return
    if not joinable_endpoints(actor, meeting).filter(pk=endpoint.pk).exists():
        raise PermissionDenied(
            str(Action.JOIN_MEETING), _("You may not connect this endpoint to this meeting.")
        )


def _in_meeting(meeting: Meeting, endpoint: Endpoint) -> bool:
    return meeting.host_endpoint_id == endpoint.pk or meeting.participants.filter(
        pk=endpoint.pk
    ).exists()


# ---------------------------------------------------------------------------- the grant


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
    _check_may_enter(meeting, endpoint)
    token = secrets.token_hex(24)
    try:
        room = ensure_room(meeting)  # network: before the transaction
        node = room.node
        _add_janus_token(node, token)
    except JanusError as exc:
        raise InvalidTransition(_("The media server refused: %(reason)s")
                                % {"reason": exc.reason}) from exc
    except JanusUnavailable as exc:
        raise InvalidTransition(_("The media server is not answering. Try again.")) from exc
    try:
        grant, replaced = _record_grant(meeting.pk, endpoint, room, token, user=user, link=link)
    except Exception:
        withdraw_janus_token(node, token)
        raise
    if replaced is not None:
        _kick_quietly(replaced)
    return grant


# Endpoints may connect this long before the first technical check (or the rehearsal, or the
# session when there is neither), to set up their room.
JOIN_OPENS_BEFORE = dt.timedelta(minutes=30)


def room_opens_at(meeting: Meeting) -> dt.datetime:
    """When endpoints may first connect: the first technical check runs in the real room
    (R15), so the room opens a little before it."""
    first = min(
        [meeting.starts_at]
        + ([meeting.rehearsal_starts_at] if meeting.rehearsal_starts_at else [])
        + list(meeting.checks.values_list("due_at", flat=True)[:50])
    )
    return first - JOIN_OPENS_BEFORE


def _check_may_enter(meeting: Meeting, endpoint: Endpoint) -> None:
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
            % {"time": timezone.localtime(opens).strftime("%H:%M %d/%m/%Y")}
        )
    if not _in_meeting(meeting, endpoint):
        raise PermissionDenied("join", _("This endpoint is not in the meeting."))
    if endpoint.status != EndpointStatus.APPROVED:
        raise PermissionDenied(
            "join", _("This endpoint is not admitted (its status is %(status)s).")
            % {"status": endpoint.get_status_display()},
        )
    rulebook = active_rulebook()
    secrecy = rulebook.secrecy
    if (
        meeting.classification == Classification.STATE_SECRET
        and secrecy.state_secret_refuses_personal_internet
        and endpoint.terminal_kind == TerminalKind.PERSONAL
        and endpoint.network == Network.INTERNET
    ):
        raise RuleViolation(
            code="state_secret_personal_internet",
            article=rulebook.cite(secrecy.article),
            message=_(
                "A personal device on the Internet may not join a meeting with state secrets."
            ),
            field="endpoint",
        )


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
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting_id)
    _check_may_enter(meeting, endpoint)  # again, under the lock
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
        key_hash=_hash(key),
        janus_token_secret=token,
        audio_muted=muted,
    )
    if link is not None:
        link.last_used_at = timezone.now()
        link.save(update_fields=["last_used_at"])
    audit.record("live.grant", participation, actor=user, after=snapshot(participation))
    broadcast.meeting_changed(meeting.pk)
    grant = JoinGrant(
        participation=participation,
        key=key,
        janus_token=token,
        ws_url=room.node.ws_url or settings.JANUS_PUBLIC_WS_URL,
        room_id=room.janus_room_id,
    )
    return grant, replaced


def _display(endpoint: Endpoint) -> str:
    return f"{endpoint.name} — {endpoint.agency.name}"[:160]


def _free_janus_id(meeting: Meeting) -> int:
    while True:
        candidate = secrets.randbelow(_MAX_JANUS_ID) + 1
        if not Participation.objects.filter(meeting=meeting, janus_id=candidate).exists():
            return candidate


def _add_janus_token(node: McuNode, token: str) -> None:
    AdminClient(node.access()).add_token(token)


def withdraw_janus_token(node: McuNode, token: str) -> None:
    try:
        AdminClient(node.access()).remove_token(token)
    except (JanusError, JanusUnavailable) as exc:  # it dies with the Janus process anyway
        log.warning("node %s: could not remove a join token: %s", node, exc)


# ---------------------------------------------------------------------------- participant


def participation_for_key(key: str) -> Participation:
    """The open participation an access key stands for."""
    found = (
        Participation.objects.select_related("meeting", "endpoint", "node")
        .filter(key_hash=_hash(key or ""), left_at__isnull=True)
        .first()
    )
    if found is None:
        raise PermissionDenied("join", _("This connection is no longer valid. Join again."))
    return found


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
        raise InvalidTransition(_("The media server refused the connection: %(reason)s")
                                % {"reason": exc.reason}) from exc
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


def leave(participation: Participation, *, reason: str = LeaveReason.LEFT,
          actor: User | None = None) -> bool:
    """The participation ends; its Janus token is withdrawn. False when it had ended."""
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            return False
        close_participation(current, reason, actor=actor, action="live.leave")
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


def _kick_quietly(participation: Participation) -> None:
    """Remove a replaced connection from Janus and withdraw its token."""
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


def report_attendees(participation: Participation, count: int, *,
                     actor: User | None = None) -> Participation:
    """R18 (ĐN Đ12.4, KH Đ14.4): each endpoint gives the host its attendee count."""
    if count < 0 or count > 10000:
        raise InvalidInput({"attendee_count": [_("Enter the number of people in the room.")]})
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            raise InvalidTransition(_("This connection is no longer valid. Join again."))
        before = snapshot(current)
        current.attendee_count, current.attendee_count_at = count, timezone.now()
        current.save(update_fields=["attendee_count", "attendee_count_at"])
        audit.record("live.attendees", current, actor=actor, before=before,
                     after=snapshot(current))
        broadcast.meeting_changed(current.meeting_id)
    return current


# Round-trip time and loss that make a line fair or poor for a video conference.
FAIR_RTT_MS, POOR_RTT_MS = 250, 500
FAIR_LOSS, POOR_LOSS = 2.0, 8.0


def quality_level(rtt_ms: int | None, loss_percent: float | None) -> str:
    rtt, loss = rtt_ms or 0, loss_percent or 0.0
    if rtt >= POOR_RTT_MS or loss >= POOR_LOSS:
        return Quality.POOR
    if rtt >= FAIR_RTT_MS or loss >= FAIR_LOSS:
        return Quality.FAIR
    return Quality.GOOD


def report_quality(
    participation: Participation,
    *,
    rtt_ms: int | None,
    loss_percent: float | None,
    bitrate_kbps: int | None,
) -> Participation:
    """The endpoint's own connection measurements, every few seconds. Not an audited change:
    it is telemetry; only a change of level is written to the audit log, so an auditor sees
    when a line became poor without thousands of samples."""
    level = quality_level(rtt_ms, loss_percent)
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            return current
        changed = current.quality != level
        before = audit.snapshot(current, ["quality"])
        current.rtt_ms = None if rtt_ms is None else max(0, int(rtt_ms))
        current.loss_percent = None if loss_percent is None else max(0.0, float(loss_percent))
        current.bitrate_kbps = None if bitrate_kbps is None else max(0, int(bitrate_kbps))
        current.quality, current.quality_at = level, timezone.now()
        current.save(update_fields=["rtt_ms", "loss_percent", "bitrate_kbps", "quality",
                                    "quality_at"])
        if changed:
            audit.record("live.quality", current, actor=None, before=before,
                         after=audit.snapshot(current, ["quality", "rtt_ms", "loss_percent"]))
        broadcast.meeting_changed(current.meeting_id, participants=False)
    return current
