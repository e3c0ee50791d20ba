"""The live plane follows the meeting lifecycle: when a meeting stops holding (revoked,
cancelled, ended by the host or by the system) its open connections are closed as *ended*
in the same transaction, and its room goes once the change commits. No Janus is needed: the
node here is not managed, so the room's destruction only logs."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from django.utils import timezone

from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.media.models import LeaveReason, Participation, Room
from diemcau.media.services import session
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.services import lifecycle, registration
from diemcau.scheduling.tests.test_services import _fill, meeting_input, working_day_at
from diemcau.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def _connect(meeting, endpoint) -> Participation:
    meeting.refresh_from_db()
    return Participation.objects.create(
        meeting=meeting, endpoint=endpoint, node=meeting.node, display=endpoint.name,
        janus_id=secrets.randbelow(2**40) + 1, key_hash=secrets.token_hex(32),
        janus_token_secret=secrets.token_hex(12), joined_at=timezone.now(),
    )


def _accepted(kh_world, start=None):
    start = start or working_day_at(5, 9)
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [kh_world.ep_commune], start),
        actor=kh_world.district_office,
    )
    return lifecycle.accept_meeting(meeting, actor=kh_world.operator)


def _assert_ended(participation: Participation) -> None:
    participation.refresh_from_db()
    assert participation.left_reason == LeaveReason.ENDED
    assert participation.left_at is not None
    assert AuditEvent.objects.filter(
        action="live.leave", object_id=str(participation.pk)
    ).exists()


def test_cancel_closes_connections_as_ended(kh_world, django_capture_on_commit_callbacks):
    meeting = _accepted(kh_world)
    host = _connect(meeting, kh_world.ep_district)
    commune = _connect(meeting, kh_world.ep_commune)
    Room.objects.create(meeting=meeting, node=meeting.node, janus_room_id=7, room_pin="p",
                        room_secret="s", janus_created_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lifecycle.cancel_meeting(meeting, reason="Lãnh đạo bận", actor=kh_world.district_office)
    for participation in (host, commune):
        _assert_ended(participation)
    # The room is destroyed once the cancellation commits (the node here does not answer,
    # so the row is marked destroyed and `reconcile` removes the room from the node).
    assert callbacks, "nothing was deferred to the commit"
    assert Room.objects.get(meeting=meeting).destroyed_at is not None


def test_revocation_closes_the_victims_connections_as_ended(
    kh_world, django_capture_on_commit_callbacks
):
    start = working_day_at(5, 9)
    lower = _fill(kh_world, start, 4)
    latest = lower[-1]
    connected = _connect(latest, latest.host_endpoint)
    province = registration.create_meeting(
        meeting_input(kh_world.province, kh_world.ep_province, [], start),
        actor=kh_world.province_office,
    )
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(province, actor=kh_world.operator, confirm_revocations=[latest.pk])
    latest.refresh_from_db()
    assert latest.status == MeetingStatus.REVOKED
    _assert_ended(connected)


def test_host_end_closes_connections_as_ended(kh_world, django_capture_on_commit_callbacks):
    meeting = _accepted(kh_world)
    technician = UserFactory(role=Role.TECHNICIAN, agency=kh_world.district)
    session.start_session(meeting, actor=technician)
    connected = _connect(meeting, kh_world.ep_commune)
    with django_capture_on_commit_callbacks(execute=True):
        session.end_meeting(meeting, actor=technician)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.ENDED
    assert not meeting.bookings.filter(holds=True).exists()
    _assert_ended(connected)


def test_the_system_ends_only_meetings_nobody_is_in(kh_world, django_capture_on_commit_callbacks):
    empty = _accepted(kh_world)
    busy = _accepted(kh_world, working_day_at(6, 9))
    still_here = _connect(busy, kh_world.ep_commune)
    later = max(empty.ends_at, busy.ends_at) + lifecycle.OVERDUE_AFTER_END + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        ended = session.end_overdue_meetings(later)
    assert ended == [empty.pk]
    empty.refresh_from_db()
    busy.refresh_from_db()
    assert empty.status == MeetingStatus.ENDED and busy.status == MeetingStatus.ACCEPTED
    event = AuditEvent.objects.get(action="meeting.end", object_id=str(empty.pk))
    assert event.actor_id is None  # ended by the system
    still_here.refresh_from_db()
    assert still_here.left_at is None
