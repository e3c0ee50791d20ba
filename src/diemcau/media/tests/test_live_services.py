"""Joining and controlling a live meeting against a real Janus: the grant and its token, the
backend's join on the browser's handle (the PIN never leaves the server), hostile attempts,
the host's controls and the end of the meeting (R16–R18, R20)."""

from __future__ import annotations

import pytest

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory.choices import EndpointStatus, Network, TerminalKind
from diemcau.mcu.models import McuNode
from diemcau.mcu.services import register_node
from diemcau.mcu.testing.janus import JanusProcess
from diemcau.media import selectors
from diemcau.media.models import LeaveReason, Participation, Room
from diemcau.media.services import (
    control,
    grants,
    join_links,
    participations,
    rooms,
    session,
    telemetry,
)
from diemcau.scheduling.choices import Classification, MeetingStatus
from diemcau.scheduling.models import Incident, Meeting
from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

from .live_fixtures import BrowserSession, live_meeting

pytestmark = [pytest.mark.janus, pytest.mark.django_db]


@pytest.fixture
def node(janus_server: JanusProcess) -> McuNode:
    return register_node(janus_server.node_input("mcu-live"),
                         actor=UserFactory(role=Role.OPERATOR))


@pytest.fixture
def meeting_setup(node, kh_tree):
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune, kh_tree.other_commune])
    setup.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        "other_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.other_commune),
        "operator": UserFactory(role=Role.OPERATOR, agency=kh_tree.department),
    }
    return setup


def connect(grant: grants.JoinGrant, node: McuNode) -> BrowserSession:
    """Open the browser's session with the grant's token and let the backend join it."""
    browser = BrowserSession(node.janus_url, grant.janus_token)
    handle = browser.attach()
    grants.join_publisher(grant.participation, session_id=browser.session_id,
                           handle_id=handle)
    browser.handle = handle  # type: ignore[attr-defined]
    return browser


def janus_ids(node: McuNode, room: Room) -> set[int]:
    from diemcau.media.services.rooms import videoroom

    with videoroom(node) as handle:
        return {int(p["id"]) for p in handle.listparticipants(room.janus_room_id)}


def test_join_by_login_the_backend_joins_the_browser_handle(meeting_setup, node):
    setup = meeting_setup
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])
    browser = connect(grant, node)
    try:
        joined = [e for e in browser.plugin_events() if e.get("videoroom") == "joined"]
        assert joined and joined[0]["id"] == grant.janus_id
        room = Room.objects.get(meeting=setup.meeting)
        assert grant.room_id == room.janus_room_id
        assert grant.janus_id in janus_ids(node, room)
        participation = Participation.objects.get(pk=grant.participation.pk)
        assert participation.joined_at is not None
        assert participation.audio_muted  # KH Đ11.6: participants enter muted
        # The grant never carries the PIN; the audit log never carries the token.
        assert room.room_pin not in repr(grant)
        assert not AuditEvent.objects.filter(after__icontains=grant.janus_token).exists()
    finally:
        browser.destroy()


def test_the_host_endpoint_enters_with_its_microphone_open(meeting_setup):
    setup = meeting_setup
    grant = grants.grant_by_login(setup.meeting, setup.host_endpoint,
                                   actor=setup.users["host_tech"])
    assert grant.participation.audio_muted is False


def test_a_browser_cannot_join_by_itself_nor_without_a_token(meeting_setup, node):
    setup = meeting_setup
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])
    browser = BrowserSession(node.janus_url, grant.janus_token)
    try:
        handle = browser.attach()
        browser.message(handle, {"request": "join", "ptype": "publisher",
                                 "room": grant.room_id, "pin": "guess", "display": "x"})
        errors = [e for e in browser.plugin_events() if "error_code" in e]
        assert errors and errors[0]["error_code"] == 433  # wrong PIN
    finally:
        browser.destroy()
    with pytest.raises(PermissionError):
        BrowserSession(node.janus_url, "not-a-token")
    # Once the participation ends, its token opens nothing any more.
    participations.leave(Participation.objects.get(pk=grant.participation.pk))
    with pytest.raises(PermissionError):
        BrowserSession(node.janus_url, grant.janus_token)


def test_join_by_link_and_a_revoked_link(meeting_setup, node):
    setup = meeting_setup
    tech = setup.users["host_tech"]
    link, token = join_links.issue_join_link(setup.meeting, setup.participants[1], actor=tech)
    grant = grants.grant_by_link(token)
    assert grant.participation.join_link == link
    assert grant.participation.user is None
    browser = connect(grant, node)
    try:
        join_links.revoke_join_link(link, actor=tech)
        # Whoever is in with the link is removed with it.
        row = Participation.objects.get(pk=grant.participation.pk)
        assert row.left_reason == LeaveReason.KICKED
        room = Room.objects.get(meeting=setup.meeting)
        assert grant.janus_id not in janus_ids(node, room)
    finally:
        browser.destroy()
    with pytest.raises(PermissionDenied, match="revoked"):
        grants.grant_by_link(token)


def test_a_second_device_with_the_same_link_replaces_the_first(meeting_setup, node):
    setup = meeting_setup
    _, token = join_links.issue_join_link(setup.meeting, setup.participants[1],
                                       actor=setup.users["host_tech"])
    first = grants.grant_by_link(token)
    browser = connect(first, node)
    try:
        second = grants.grant_by_link(token)
        first_row = Participation.objects.get(pk=first.participation.pk)
        assert first_row.left_reason == LeaveReason.LEFT and first_row.left_at is not None
        room = Room.objects.get(meeting=setup.meeting)
        assert first.janus_id not in janus_ids(node, room)
        assert second.participation.left_at is None
    finally:
        browser.destroy()


def test_state_secret_refuses_personal_devices_on_the_internet(node, kh_tree):
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune],
                         classification=Classification.STATE_SECRET)
    phone = ApprovedEndpointFactory(agency=kh_tree.commune, terminal_kind=TerminalKind.PERSONAL,
                                    network=Network.INTERNET, vcs_ip=None)
    setup.meeting.participants.add(phone)
    user = UserFactory(role=Role.OFFICE, agency=kh_tree.commune)
    with pytest.raises(RuleViolation) as refused:
        grants.grant_by_login(setup.meeting, phone, actor=user)
    assert refused.value.code == "state_secret_personal_internet"
    assert "Điều 5.2" in refused.value.article
    assert not Participation.objects.filter(meeting=setup.meeting).exists()
    # The room endpoint of the same commune, on the government network, is let in.
    grant = grants.grant_by_login(setup.meeting, setup.participants[0], actor=user)
    assert grant.participation.pk


def test_suspended_endpoint_and_closed_meeting_are_refused(meeting_setup):
    setup = meeting_setup
    endpoint = setup.participants[0]
    endpoint.status = EndpointStatus.SUSPENDED
    endpoint.save()
    with pytest.raises(PermissionDenied, match="not admitted"):
        grants.grant_by_login(setup.meeting, endpoint, actor=setup.users["commune_tech"])
    setup.meeting.status = MeetingStatus.CANCELLED
    setup.meeting.save()
    with pytest.raises(InvalidTransition):
        grants.grant_by_login(setup.meeting, setup.participants[1],
                               actor=setup.users["other_tech"])


def test_a_locked_meeting_takes_only_its_controllers(meeting_setup):
    setup = meeting_setup
    host_tech = setup.users["host_tech"]
    control.set_locked(setup.meeting, locked=True, actor=host_tech)
    with pytest.raises(InvalidTransition, match="locked"):
        grants.grant_by_login(setup.meeting, setup.participants[0],
                               actor=setup.users["commune_tech"])
    grant = grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=host_tech)
    assert grant.participation.pk
    control.set_locked(setup.meeting, locked=False, actor=host_tech)
    assert grants.grant_by_login(setup.meeting, setup.participants[0],
                                  actor=setup.users["commune_tech"]).participation.pk


def test_speaking_queue_floor_and_mute(meeting_setup, node):
    setup = meeting_setup
    host_tech = setup.users["host_tech"]
    a = grants.grant_by_login(setup.meeting, setup.participants[0],
                               actor=setup.users["commune_tech"]).participation
    b = grants.grant_by_login(setup.meeting, setup.participants[1],
                               actor=setup.users["other_tech"]).participation
    control.raise_hand(b)
    control.raise_hand(a)
    assert [p.pk for p in control.speaking_queue(setup.meeting)] == [b.pk, a.pk]
    with pytest.raises(PermissionDenied):
        control.give_floor(a, actor=setup.users["commune_tech"])  # KH Đ14.3a: not the commune
    control.give_floor(b, actor=host_tech)
    b.refresh_from_db()
    assert (b.has_floor, b.audio_muted, b.hand_raised_at) == (True, False, None)
    control.give_floor(a, actor=host_tech)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.has_floor and not a.audio_muted
    assert not b.has_floor and b.audio_muted  # the previous speaker is muted again
    control.set_audio(a, muted=True, actor=host_tech)
    a.refresh_from_db()
    assert a.audio_muted and not a.has_floor
    state = selectors.live_state(setup.meeting, user=host_tech)
    assert {row["id"] for row in state["participants"]} == {a.pk, b.pk}
    assert state["can_control"] is True
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"live.raise_hand", "live.give_floor", "live.mute"} <= actions


def test_kick_drops_the_endpoint_from_janus(meeting_setup, node):
    setup = meeting_setup
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])
    browser = connect(grant, node)
    try:
        room = Room.objects.get(meeting=setup.meeting)
        assert grant.janus_id in janus_ids(node, room)
        control.kick(grant.participation, actor=setup.users["host_tech"])
        assert grant.janus_id not in janus_ids(node, room)
        row = Participation.objects.get(pk=grant.participation.pk)
        assert row.left_reason == LeaveReason.KICKED
        with pytest.raises(PermissionDenied):
            participations.participation_for_key(grant.key)
    finally:
        browser.destroy()


def test_recording_only_when_requested_and_allowed(node, kh_tree):
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    plain = live_meeting(node, kh_tree.district, [kh_tree.commune]).meeting
    rooms.ensure_room(plain)
    with pytest.raises(RuleViolation) as refused:
        control.set_recording(plain, recording=True, actor=tech)
    assert refused.value.code == "recording_not_requested"
    secret = live_meeting(node, kh_tree.district, [kh_tree.commune], recording_requested=True,
                          classification=Classification.STATE_SECRET).meeting
    rooms.ensure_room(secret)
    with pytest.raises(RuleViolation, match="state secrets"):
        control.set_recording(secret, recording=True, actor=tech)
    requested = live_meeting(node, kh_tree.district, [kh_tree.commune],
                             recording_requested=True).meeting
    rooms.ensure_room(requested)
    room = control.set_recording(requested, recording=True, actor=tech)
    assert room.recording and room.recording_started_at
    assert not control.set_recording(requested, recording=False, actor=tech).recording


def test_attendance_and_the_end_of_the_meeting(meeting_setup, node,
                                               django_capture_on_commit_callbacks):
    setup = meeting_setup
    host_tech = setup.users["host_tech"]
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])
    browser = connect(grant, node)
    try:
        telemetry.report_attendees(grant.participation, 12)
        session.start_session(setup.meeting, actor=host_tech)
        incident = control.escalate(setup.meeting, description="Mất tiếng điểm cầu xã",
                                    actor=host_tech)
        assert Incident.objects.get(pk=incident.pk).status == "open"
        with django_capture_on_commit_callbacks(execute=True):  # the room goes on commit
            session.end_meeting(setup.meeting, actor=host_tech)
        setup.meeting.refresh_from_db()
        assert setup.meeting.status == MeetingStatus.ENDED
        assert Room.objects.get(meeting=setup.meeting).destroyed_at is not None
        row = Participation.objects.get(pk=grant.participation.pk)
        assert row.left_reason == LeaveReason.ENDED
        lines = {line.endpoint_id: line for line in selectors.attendance(setup.meeting)}
        assert lines[setup.participants[0].pk].attendee_count == 12
        assert lines[setup.participants[0].pk].first_joined == row.joined_at
        assert lines[setup.participants[1].pk].connections == 0  # invited, never came
        assert not setup.meeting.bookings.filter(holds=True).exists()
        assert verify_chain().ok
    finally:
        browser.destroy()


def test_overdue_meetings_are_ended_by_the_system_once_empty(node, kh_tree):
    import datetime as dt

    from django.utils import timezone

    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    overdue = live_meeting(node, kh_tree.district, [kh_tree.commune], status=MeetingStatus.LIVE,
                           starts_in=-dt.timedelta(hours=4))
    occupied = live_meeting(node, kh_tree.district, [kh_tree.other_commune],
                            status=MeetingStatus.LIVE)
    running = live_meeting(node, kh_tree.district, [kh_tree.commune],
                           starts_in=-dt.timedelta(minutes=30))
    grant = grants.grant_by_login(occupied.meeting, occupied.host_endpoint, actor=user)
    # Still connected when its end has long passed.
    Meeting.objects.filter(pk=occupied.meeting.pk).update(
        starts_at=overdue.meeting.starts_at, ends_at=overdue.meeting.ends_at
    )
    assert session.end_overdue_meetings() == [overdue.meeting.pk]
    overdue.meeting.refresh_from_db()
    assert overdue.meeting.status == MeetingStatus.ENDED
    assert AuditEvent.objects.filter(action="meeting.end", actor__isnull=True).count() == 1
    participations.leave(grant.participation)
    later = timezone.now() + dt.timedelta(minutes=1)
    assert session.end_overdue_meetings(later) == [occupied.meeting.pk]
    running.meeting.refresh_from_db()
    assert running.meeting.status == MeetingStatus.ACCEPTED


def test_the_room_opens_shortly_before_the_first_check(node, kh_tree):
    import datetime as dt

    from diemcau.scheduling.choices import WindowKind
    from diemcau.scheduling.models import TechnicalCheck

    later = live_meeting(node, kh_tree.district, [kh_tree.commune],
                         starts_in=dt.timedelta(hours=5))
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    with pytest.raises(InvalidTransition, match="opens at"):
        grants.grant_by_login(later.meeting, later.host_endpoint, actor=user)
    # A technical check due 20 minutes from now opens it (KH: checks in the real room).
    TechnicalCheck.objects.create(
        meeting=later.meeting, endpoint=later.host_endpoint, kind=WindowKind.SESSION,
        due_at=later.meeting.starts_at - dt.timedelta(hours=4, minutes=40),
    )
    assert grants.grant_by_login(later.meeting, later.host_endpoint, actor=user).room_id


def test_a_full_node_takes_no_more_endpoints(meeting_setup, node):
    setup = meeting_setup
    McuNode.objects.filter(pk=node.pk).update(max_endpoints=1)
    grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=setup.users["host_tech"])
    with pytest.raises(InvalidTransition, match="maximum of 1"):
        grants.grant_by_login(setup.meeting, setup.participants[0],
                               actor=setup.users["commune_tech"])
    # The same endpoint joining again takes its own place over: that is not one more.
    assert grants.grant_by_login(setup.meeting, setup.host_endpoint,
                                  actor=setup.users["host_tech"]).participation.pk
