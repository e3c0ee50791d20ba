"""The host's and the operator's controls of a live meeting (R16, R17, R20).

Every control is a service: it checks the actor's control rights (the rulebook's delegation,
`permissions.can_control`), applies the change to Janus (`moderate`, `kick`,
`enable_recording`), then records it with its audit event and tells the open consoles. Janus
is called first and outside the transaction: when the media server refuses or does not
answer, nothing is recorded and the console shows why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.mcu.janus_client import JanusError, JanusUnavailable
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.models import Incident, Meeting
from diemcau.scheduling.rules import recording_refusal
from diemcau.scheduling.services.checks import report_incident

from .. import broadcast
from ..models import Layout, LeaveReason, Participation, Room, Transport
from ..permissions import control_standing
from .participations import close_participation, end_janus_session, snapshot, withdraw_janus_token
from .rooms import ensure_room, janus_refusal, videoroom

log = logging.getLogger(__name__)

ROOM_STATE_FIELDS = ["locked", "recording", "recording_started_at", "spotlight_id", "layout"]

# Apps above the live plane that follow Janus's recording (the archive) register here in
# their `AppConfig.ready`; each is told (room, recording, actor) inside the transaction that
# records the switch.
RecordingObserver = Callable[[Room, bool, User | None], None]
_recording_observers: list[RecordingObserver] = []


def on_recording(observer: RecordingObserver) -> None:
    if observer not in _recording_observers:
        _recording_observers.append(observer)


def require_control(actor: User, meeting: Meeting) -> None:
    allowed, refusal = control_standing(actor, meeting)
    if not allowed:
        raise PermissionDenied(
            str(Action.CONTROL_MEETING),
            _("Only the technicians of the controlling endpoint and the MCU operators may "
              "control this meeting."),
        )
    if refusal is not None:
        raise refusal  # KH Đ10.2, ĐN Đ9.2: the controlling room must meet its requirements


def _room(meeting_id: int) -> Room:
    """The meeting's open room; made now if it is not there yet (a host may lock or set up
    the meeting before anyone joins). Never call it inside a transaction: it may ask Janus."""
    room = Room.objects.select_related("node").filter(
        meeting_id=meeting_id, destroyed_at__isnull=True
    ).first()
    if room is None:
        meeting = Meeting.objects.get(pk=meeting_id)
        _janus("ensure_room", lambda: ensure_room(meeting))
        room = Room.objects.select_related("node").get(meeting_id=meeting_id)
    return room


def _janus(action: str, call: object) -> None:
    """Run one Janus call; its refusal or silence becomes a message for the console."""
    try:
        call()  # type: ignore[operator]
    except JanusError as exc:
        log.warning("%s refused by Janus: %s", action, exc)
        raise InvalidTransition(janus_refusal(exc)) from exc
    except JanusUnavailable as exc:
        raise InvalidTransition(_("The media server is not answering. Try again.")) from exc


def _open_participation(participation: Participation) -> Participation:
    current = Participation.objects.select_related("meeting", "node").get(pk=participation.pk)
    if current.left_at is not None:
        raise InvalidTransition(_("This endpoint is no longer connected."))
    return current


# ---------------------------------------------------------------------------- sound


def apply_audio(participation: Participation, *, muted: bool, audio_mid: str = "") -> None:
    """Mute or unmute the endpoint's microphone stream on Janus (nothing to do before it
    has published: it then enters with the recorded state)."""
    mid = audio_mid or participation.audio_mid
    if not mid:
        return
    room = _room(participation.meeting_id)

    def call() -> None:
        with videoroom(room.node) as handle:
            handle.moderate(room.janus_room_id, secret=room.room_secret,
                            participant=participation.janus_id, mid=mid, mute=muted)

    _janus("moderate", call)


def _save(participation: Participation, action: str, actor: User | None, **changes: object
          ) -> Participation:
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            raise InvalidTransition(_("This endpoint is no longer connected."))
        before = snapshot(current)
        for name, value in changes.items():
            setattr(current, name, value)
        current.save(update_fields=list(changes))
        audit.record(action, current, actor=actor, before=before, after=snapshot(current))
        broadcast.meeting_changed(current.meeting_id)
        broadcast.tell_participant(current.pk, "state")
    return current


def set_audio(participation: Participation, *, muted: bool, actor: User) -> Participation:
    """Mute one endpoint, or let it speak (which is giving it the floor)."""
    participation = _open_participation(participation)
    require_control(actor, participation.meeting)
    if not muted:
        return give_floor(participation, actor=actor)
    apply_audio(participation, muted=True)
    return _save(participation, "live.mute", actor, audio_muted=True, has_floor=False)


def mute_all(meeting: Meeting, *, actor: User) -> int:
    """Mute every connected endpoint but the host's own (KH Đ11.6); returns how many."""
    require_control(actor, meeting)
    targets = list(
        Participation.objects.select_related("node")
        .filter(meeting=meeting, left_at__isnull=True, audio_muted=False)
        .exclude(endpoint_id=meeting.host_endpoint_id)
    )
    for participation in targets:
        apply_audio(participation, muted=True)
    with transaction.atomic():
        changed = Participation.objects.filter(pk__in=[p.pk for p in targets],
                                               left_at__isnull=True)
        count = changed.update(audio_muted=True, has_floor=False)
        audit.record(
            "live.mute_all", meeting, actor=actor,
            after={"muted": sorted(p.pk for p in targets)},
        )
        broadcast.meeting_changed(meeting.pk)
        for participation in targets:
            broadcast.tell_participant(participation.pk, "state")
    return count


# ---------------------------------------------------------------------------- one's own microphone
#
# The microphone belongs to the people in the room: every endpoint may close its own, and an
# endpoint that has the floor may give it back. Opening it is the host's to allow for the
# participants (KH Đ11.6: they open it only when the host gives them the floor): a
# participant opens its own microphone only while it holds the floor the host gave it. The
# host's own endpoint enters with its microphone on and opens and closes it itself.


def is_host_endpoint(participation: Participation) -> bool:
    return participation.endpoint_id == participation.meeting.host_endpoint_id


def may_unmute_self(participation: Participation) -> bool:
    """Whether the endpoint may open its own microphone now."""
    if is_host_endpoint(participation) or participation.has_floor:
        return True
    return not active_rulebook().session.participants_join_muted


def unmute_refusal() -> RuleViolation:
    rulebook = active_rulebook()
    session = rulebook.session
    article = (rulebook.cite_setting("session.participants_join_muted")
               if "participants_join_muted" in session.deployment_defaults
               else rulebook.cite(session.article))
    return RuleViolation(
        code="unmute_needs_floor",
        article=article,
        message=_("Your microphone opens when the host gives you the floor: ask to speak."),
    )


def mute_self(participation: Participation) -> Participation:
    """The endpoint closes its own microphone (it keeps the floor, if it has it, and may
    open the microphone again while it does)."""
    participation = _open_participation(participation)
    if participation.audio_muted:
        return participation
    apply_audio(participation, muted=True)
    return _save(participation, "live.mute_self", participation.user, audio_muted=True)


def unmute_self(participation: Participation) -> Participation:
    """The endpoint opens its own microphone: the host's endpoint at any time, a participant
    only while it holds the floor (KH Đ11.6)."""
    participation = _open_participation(participation)
    if not participation.audio_muted:
        return participation
    if not may_unmute_self(participation):
        raise unmute_refusal()
    apply_audio(participation, muted=False)
    return _save(participation, "live.unmute_self", participation.user, audio_muted=False)


def yield_floor(participation: Participation) -> Participation:
    """The endpoint that has the floor gives it back ("Kết thúc phát biểu"): a participant's
    microphone closes with it; the host's own endpoint keeps its microphone as it is."""
    participation = _open_participation(participation)
    if not participation.has_floor:
        raise InvalidTransition(_("This endpoint does not have the floor."))
    changes: dict[str, object] = {"has_floor": False, "hand_raised_at": None}
    if not is_host_endpoint(participation) and not participation.audio_muted:
        apply_audio(participation, muted=True)
        changes["audio_muted"] = True
    return _save(participation, "live.yield_floor", participation.user, **changes)


# ---------------------------------------------------------------------------- the floor


def raise_hand(participation: Participation, *, actor: User | None = None) -> Participation:
    """The endpoint asks to speak; it joins the end of the queue (R16)."""
    participation = _open_participation(participation)
    if participation.hand_raised_at is not None:
        return participation
    return _save(participation, "live.raise_hand", actor, hand_raised_at=timezone.now())


def lower_hand(participation: Participation, *, actor: User | None = None,
               by_host: bool = False) -> Participation:
    """The endpoint withdraws its request, or the host declines it."""
    participation = _open_participation(participation)
    if by_host:
        if actor is None:
            raise PermissionDenied(str(Action.CONTROL_MEETING))
        require_control(actor, participation.meeting)
    if participation.hand_raised_at is None:
        return participation
    return _save(participation, "live.lower_hand", actor, hand_raised_at=None)


def give_floor(participation: Participation, *, actor: User) -> Participation:
    """The host gives the endpoint the floor: its microphone opens, its hand goes down, and
    whoever spoke before (but the host's own endpoint) is muted again (KH Đ11.6)."""
    participation = _open_participation(participation)
    meeting = participation.meeting
    require_control(actor, meeting)
    previous = list(
        Participation.objects.select_related("node")
        .filter(meeting=meeting, left_at__isnull=True, has_floor=True)
        .exclude(pk=participation.pk)
        .exclude(endpoint_id=meeting.host_endpoint_id)
    )
    for speaker in previous:
        apply_audio(speaker, muted=True)
    apply_audio(participation, muted=False)
    for speaker in previous:
        _save(speaker, "live.mute", actor, audio_muted=True, has_floor=False)
    return _save(participation, "live.give_floor", actor, audio_muted=False, has_floor=True,
                 hand_raised_at=None)


def speaking_queue(meeting: Meeting) -> list[Participation]:
    """Who asked to speak, first asked first (R16: the list of participants who asked)."""
    return list(
        Participation.objects.select_related("endpoint")
        .filter(meeting=meeting, left_at__isnull=True, hand_raised_at__isnull=False)
        .order_by("hand_raised_at", "pk")
    )


# ---------------------------------------------------------------------------- the room


def _save_room(meeting: Meeting, action: str, actor: User, **changes: object) -> Room:
    opened = _room(meeting.pk)
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=opened.pk)
        before = audit.snapshot(room, ROOM_STATE_FIELDS)
        for name, value in changes.items():
            setattr(room, name, value)
        room.save(update_fields=list(changes))
        audit.record(action, room, actor=actor, before=before,
                     after=audit.snapshot(room, ROOM_STATE_FIELDS))
        if "recording" in changes:
            for observer in _recording_observers:
                observer(room, room.recording, actor)
        broadcast.meeting_changed(meeting.pk)
    return room


def set_spotlight(meeting: Meeting, participation: Participation | None, *,
                  actor: User) -> Room:
    """The main picture every participant's layout follows (R16: what is displayed)."""
    require_control(actor, meeting)
    if participation is not None:
        participation = _open_participation(participation)
        if participation.meeting_id != meeting.pk:
            raise InvalidInput({"participation": [_("This endpoint is not in the meeting.")]})
    return _save_room(meeting, "live.spotlight", actor, spotlight=participation)


def set_layout(meeting: Meeting, layout: str, *, actor: User) -> Room:
    """What the composed picture shows to hardware terminals and the upstream MCU: a grid,
    the main speaker large, or the main picture alone (R25: ĐN Đ12.2b, KH Đ14.3b)."""
    require_control(actor, meeting)
    if layout not in Layout.values:
        raise InvalidInput({"layout": [_("Choose a grid, the main speaker large, or the main "
                                         "picture only.")]})
    return _save_room(meeting, "live.layout", actor, layout=layout)


def set_locked(meeting: Meeting, *, locked: bool, actor: User) -> Room:
    """A locked meeting takes no new connections (but its controllers')."""
    require_control(actor, meeting)
    return _save_room(meeting, "live.lock" if locked else "live.unlock", actor, locked=locked)


def set_recording(meeting: Meeting, *, recording: bool, actor: User) -> Room:
    """Start or stop Janus's recording of the room, only when it was requested and the
    classification allows it (ĐN Đ5.2, KH Đ7.4)."""
    meeting = Meeting.objects.get(pk=meeting.pk)
    require_control(actor, meeting)
    if recording:
        refusal = recording_refusal(meeting)
        if refusal is not None:
            raise refusal
    room = _room(meeting.pk)
    if room.recording == recording:
        return room

    def call() -> None:
        with videoroom(room.node) as handle:
            handle.enable_recording(room.janus_room_id, secret=room.room_secret,
                                    record=recording)

    _janus("enable_recording", call)
    return _save_room(
        meeting, "live.record_start" if recording else "live.record_stop", actor,
        recording=recording,
        recording_started_at=timezone.now() if recording else room.recording_started_at,
    )


def kick(participation: Participation, *, actor: User) -> Participation:
    """Remove an endpoint from the meeting: Janus drops it and its token is withdrawn."""
    participation = _open_participation(participation)
    require_control(actor, participation.meeting)
    if participation.transport == Transport.SIP:
        return _remove_terminal(participation, actor=actor)
    room = _room(participation.meeting_id)

    def call() -> None:
        with videoroom(room.node) as handle:
            try:
                handle.kick(room.janus_room_id, secret=room.room_secret,
                            participant=participation.janus_id)
            except JanusError as exc:
                if exc.code != 428:  # no such feed: it had not published yet
                    raise

    _janus("kick", call)
    end_janus_session(participation)  # its subscriptions stop too
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is None:
            close_participation(current, LeaveReason.KICKED, actor=actor, action="live.kick")
    withdraw_janus_token(participation.node, participation.janus_token_secret)
    current.refresh_from_db()
    return current


def _remove_terminal(participation: Participation, *, actor: User) -> Participation:
    """Remove a hardware terminal: it leaves the attendance at once, and its call is hung up
    by the node's mixer agent (R24: remove hangs up)."""
    from .sip import hang_up_for

    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is None:
            close_participation(current, LeaveReason.KICKED, actor=actor, action="live.kick")
        hang_up_for(current, actor=actor)
    return current


# ---------------------------------------------------------------------------- escalation


def escalate(meeting: Meeting, *, description: str, actor: User,
             endpoint_id: int | None = None) -> Incident:
    """An intervention beyond the host's rights goes to the MCU operator as an incident
    (ĐN Đ12, KH Đ14: escalated to the MCU operator)."""
    require_control(actor, meeting)
    if not description.strip():
        raise InvalidInput({"description": [_("Describe what the operator should do.")]})
    with transaction.atomic():
        incident = report_incident(
            meeting, description=_("Escalated by the host: %(text)s")
            % {"text": description.strip()}, actor=actor, endpoint_id=endpoint_id,
        )
        audit.record("live.escalate", incident, actor=actor,
                     after={"meeting_id": meeting.pk, "incident_id": incident.pk})
        broadcast.meeting_changed(meeting.pk)
    return incident
