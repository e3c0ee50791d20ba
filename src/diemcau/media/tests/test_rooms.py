"""Room lifecycle against a real Janus: create before the first check, destroy after the end,
and reconcile after rooms vanish or appear behind our back (and after a Janus restart)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidTransition
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.mcu.janus_client import JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode, NodeHealth
from diemcau.mcu.services import register_node
from diemcau.mcu.testing.janus import JanusProcess, free_ports
from diemcau.media import tasks
from diemcau.media.models import Room
from diemcau.media.services import rooms
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.testing.factories import McuNodeFactory, UserFactory

from .conftest import make_meeting

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def managed_node(janus: JanusProcess, name: str = "mcu-test") -> McuNode:
    return register_node(janus.node_input(name), actor=UserFactory(role=Role.OPERATOR))


def janus_rooms(janus: JanusProcess) -> dict[int, str]:
    with janus.client().videoroom() as handle:
        return {item["room"]: item["description"] for item in handle.list()}


# ----------------------------------------------------------------- which meetings need one


def test_wanted_meetings_are_live_or_due_within_a_day():
    node = McuNodeFactory()
    other = McuNodeFactory()
    due_by_check = make_meeting(node, starts_in=30 * HOUR, check_before=10 * HOUR)
    due_by_start = make_meeting(node, starts_in=20 * HOUR)
    live = make_meeting(node, starts_in=-3 * HOUR, status=MeetingStatus.LIVE)
    make_meeting(node, starts_in=40 * HOUR, check_before=2 * HOUR)  # check in 38 h
    make_meeting(node, starts_in=-4 * HOUR)  # accepted, ended 2 h ago: past the grace
    make_meeting(node, starts_in=5 * HOUR, status=MeetingStatus.SUBMITTED)
    make_meeting(node, starts_in=5 * HOUR, status=MeetingStatus.CANCELLED)
    make_meeting(other, starts_in=5 * HOUR)
    wanted = set(rooms.wanted_meetings(node).values_list("pk", flat=True))
    assert wanted == {due_by_check.pk, due_by_start.pk, live.pk}
    # The acceptance asks the same of one meeting (`room_wanted`), without the node's query.
    on_node = Meeting.objects.filter(node=node)
    assert {m.pk for m in on_node if rooms.room_wanted(m)} == wanted
    assert len(on_node) == 7


def test_no_room_for_a_meeting_that_does_not_hold_a_node():
    node = McuNodeFactory()
    submitted = make_meeting(node, starts_in=5 * HOUR, status=MeetingStatus.SUBMITTED)
    with pytest.raises(InvalidTransition):
        rooms.ensure_room(submitted)
    nodeless = make_meeting(None, starts_in=5 * HOUR)
    with pytest.raises(InvalidTransition):
        rooms.ensure_room(nodeless)
    assert not Room.objects.exists()


def test_unreachable_node_raises_unavailable_and_tasks_carry_on():
    (port,) = free_ports(1)
    node = McuNodeFactory(janus_url=f"http://127.0.0.1:{port}/janus",
                          admin_url=f"http://127.0.0.1:{port}/admin")
    meeting = make_meeting(node, starts_in=5 * HOUR)
    with pytest.raises(JanusUnavailable):
        rooms.ensure_room(meeting)
    assert tasks.reconcile_all_nodes() == []
    assert tasks.poll_all_nodes() == {node.name: False}


# ------------------------------------------------------------------------ against Janus


@pytest.mark.janus
def test_ensure_room_creates_once_and_destroy_room_removes_it(janus_factory):
    janus: JanusProcess = janus_factory()
    node = managed_node(janus)
    meeting = make_meeting(node, starts_in=5 * HOUR, check_before=2 * HOUR)
    room = rooms.ensure_room(meeting)
    assert room.node == node and room.janus_created_at and room.destroyed_at is None
    assert janus_rooms(janus) == {room.janus_room_id: f"diemcau:{meeting.pk}"}
    again = rooms.ensure_room(meeting)
    assert again.pk == room.pk and again.janus_room_id == room.janus_room_id
    assert AuditEvent.objects.filter(action="room.create").count() == 1

    # The PIN is the server's: joining with it works, with another one does not (433).
    client = janus.client()
    session = client.create_session()
    try:
        handle = client.attach(session)
        join = {"request": "join", "ptype": "publisher", "room": room.janus_room_id}
        client.message(session, handle, {**join, "pin": "wrong"})
        assert client.events(session)[0]["plugindata"]["data"]["error_code"] == 433
        client.message(session, handle, {**join, "pin": room.room_pin})
        assert client.events(session)[0]["plugindata"]["data"]["videoroom"] == "joined"
    finally:
        client.destroy_session(session)

    assert rooms.destroy_room(meeting) is True
    assert janus_rooms(janus) == {}
    room.refresh_from_db()
    assert room.destroyed_at is not None
    assert rooms.destroy_room(meeting) is False
    events = AuditEvent.objects.filter(object_type="media.room")
    assert sorted(events.values_list("action", flat=True)) == ["room.create", "room.destroy"]
    text = json.dumps([[e.before, e.after] for e in events])
    assert room.room_pin not in text and room.room_secret not in text
    assert verify_chain().ok


@pytest.mark.janus
def test_reconcile_recreates_missing_destroys_orphans_and_leaves_foreign_rooms(janus_factory):
    janus: JanusProcess = janus_factory()
    node = managed_node(janus)
    kept = make_meeting(node, starts_in=5 * HOUR)
    vanished = make_meeting(node, starts_in=6 * HOUR)
    ended = make_meeting(node, starts_in=5 * HOUR)
    later = make_meeting(node, starts_in=72 * HOUR, check_before=2 * HOUR)
    kept_room = rooms.ensure_room(kept)
    vanished_room = rooms.ensure_room(vanished)
    ended_room = rooms.ensure_room(ended)
    ended.status = MeetingStatus.ENDED  # ended without anyone destroying its room
    ended.save(update_fields=["status"])
    with janus.client().videoroom() as handle:
        handle.destroy(vanished_room.janus_room_id, secret=vanished_room.room_secret)
        # Ours but unknown to the database (e.g. a restored backup): still destroyable.
        handle.create(4242, description="diemcau:999999", pin="1", secret=rooms
                      .derived_room_secret(node, 4242))
        handle.create(4343, description="someone else's room", pin="1", secret="theirs")
        handle.create(4444, description="diemcau:888888", pin="1", secret="unknown")

    report = rooms.reconcile(node)

    assert report.created == [vanished_room.janus_room_id]
    assert sorted(report.destroyed) == sorted([ended_room.janus_room_id, 4242])
    assert len(report.failed) == 1 and "4444" in report.failed[0]
    assert set(janus_rooms(janus)) == {
        kept_room.janus_room_id, vanished_room.janus_room_id, 4343, 4444
    }
    ended_room.refresh_from_db()
    assert ended_room.destroyed_at is not None
    assert not Room.objects.filter(meeting=later).exists()  # not due yet
    actions = list(AuditEvent.objects.filter(action__startswith="room.")
                   .order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == ["room.recreate", "room.destroy_orphan", "room.destroy_orphan"]
    # Nothing left to do.
    second = rooms.reconcile(node)
    assert (second.created, second.destroyed) == ([], [])
    assert verify_chain().ok


@pytest.mark.janus
def test_after_a_janus_restart_rooms_come_back_with_the_same_id_and_pin(janus_factory):
    janus: JanusProcess = janus_factory()
    node = managed_node(janus)
    first = make_meeting(node, starts_in=3 * HOUR)
    second = make_meeting(node, starts_in=-HOUR, status=MeetingStatus.LIVE)
    made = {rooms.ensure_room(m).janus_room_id for m in (first, second)}
    finished = make_meeting(node, starts_in=HOUR)
    finished_room = rooms.ensure_room(finished)
    finished.status = MeetingStatus.ENDED
    finished.save(update_fields=["status"])
    janus.stop(kill=True)
    janus.start()
    assert janus_rooms(janus) == {}  # Janus keeps rooms in memory only

    report = rooms.reconcile(node)

    assert set(report.created) == made and report.destroyed == []
    assert janus_rooms(janus) == {
        Room.objects.get(meeting=m).janus_room_id: f"diemcau:{m.pk}" for m in (first, second)
    }
    with janus.client().videoroom() as handle:
        room = Room.objects.get(meeting=first)
        handle.edit(room.janus_room_id, secret=room.room_secret, new_description="diemcau:x")
    # The ended meeting's room went with the restart; its row says so now.
    finished_room.refresh_from_db()
    assert finished_room.destroyed_at is not None
    assert AuditEvent.objects.filter(action="room.destroy", object_id=str(finished_room.pk))


@pytest.mark.janus
def test_poll_reconciles_a_node_that_comes_back(janus_factory):
    janus: JanusProcess = janus_factory()
    node = managed_node(janus)
    meeting = make_meeting(node, starts_in=3 * HOUR)
    room = rooms.ensure_room(meeting)
    janus.stop(kill=True)
    assert tasks.poll_all_nodes() == {node.name: False}
    assert tasks.reconcile_all_nodes() == []  # down: skipped, no exception
    janus.start()
    assert tasks.poll_all_nodes() == {node.name: True}
    node.refresh_from_db()
    assert node.health == NodeHealth.UP
    assert set(janus_rooms(janus)) == {room.janus_room_id}


@pytest.mark.janus
def test_meeting_moved_to_another_node_gets_a_room_there(janus_factory):
    old_janus: JanusProcess = janus_factory()
    new_janus: JanusProcess = janus_factory()
    old_node = managed_node(old_janus, "mcu-old")
    new_node = managed_node(new_janus, "mcu-new")
    meeting = make_meeting(old_node, starts_in=3 * HOUR)
    old_room_id = rooms.ensure_room(meeting).janus_room_id
    meeting.node = new_node
    meeting.save(update_fields=["node"])

    room = rooms.ensure_room(meeting)
    assert room.node == new_node and set(janus_rooms(new_janus)) == {room.janus_room_id}
    report = rooms.reconcile(old_node)
    assert report.destroyed == [old_room_id] and janus_rooms(old_janus) == {}


@pytest.mark.janus
def test_destroy_room_when_the_node_is_down_leaves_it_to_reconcile(janus_factory):
    janus: JanusProcess = janus_factory()
    node = managed_node(janus)
    meeting = make_meeting(node, starts_in=3 * HOUR)
    room = rooms.ensure_room(meeting)
    meeting.status = MeetingStatus.ENDED
    meeting.save(update_fields=["status"])
    config = janus.config
    janus.stop()
    # Unreachable for a moment: the row is marked, the room stays on Janus…
    assert rooms.destroy_room(meeting) is True
    janus.start()  # (a restart empties Janus anyway; recreate one to stand for a blip)
    with janus.client().videoroom() as handle:
        handle.create(room.janus_room_id, description=f"diemcau:{meeting.pk}", pin="1",
                      secret=room.room_secret)
    assert config.http_port == janus.config.http_port
    # …and reconcile destroys it.
    report = rooms.reconcile(node)
    assert report.destroyed == [room.janus_room_id] and janus_rooms(janus) == {}


def test_janus_error_is_not_swallowed_by_destroy_room(monkeypatch):
    node = McuNodeFactory(janus_url="http://127.0.0.1:1/janus", admin_url="http://127.0.0.1:1/a")
    meeting = make_meeting(node, starts_in=3 * HOUR)
    Room.objects.create(meeting=meeting, node=node, janus_room_id=7, room_pin="p",
                        room_secret="s", janus_created_at=timezone.now())

    class Refusing:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def destroy(self, room_id, *, secret):
            raise JanusError(433, "Unauthorized (wrong secret)")

    monkeypatch.setattr(rooms, "videoroom", lambda node: Refusing())
    with pytest.raises(JanusError):
        rooms.destroy_room(meeting)
    assert Room.objects.get(meeting=meeting).destroyed_at is None
