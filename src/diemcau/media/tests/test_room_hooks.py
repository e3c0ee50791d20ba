"""The scheduling services keep rooms in step with decisions, against a real Janus: an accepted
meeting due soon gets its room, a cancelled or revoked one loses it, and a node that does not
answer never makes a decision fail (R15, KH Đ12.4b)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from diemcau.core import calendar
from diemcau.core.audit import verify_chain
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind
from diemcau.mcu.models import McuNode
from diemcau.mcu.services import register_node
from diemcau.mcu.testing.janus import JanusProcess
from diemcau.media import tasks
from diemcau.media.models import Room
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus, Urgency
from diemcau.scheduling.services import lifecycle, registration
from diemcau.testing.factories import AgencyFactory, ApprovedEndpointFactory, UserFactory

# The hooks run on commit, as in production: each decision is made inside
# `django_capture_on_commit_callbacks(execute=True)`, whose end stands for the commit (Huey runs
# the tasks at once in tests).
pytestmark = [pytest.mark.django_db, pytest.mark.janus]

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def setup(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    t = kh_tree
    t.operator = UserFactory(role=Role.OPERATOR, agency=t.department)
    t.province_office = UserFactory(role=Role.OFFICE, agency=t.province)
    t.district_office = UserFactory(role=Role.OFFICE, agency=t.district)
    t.ep_province = ApprovedEndpointFactory(agency=t.province, name="UBND.Khanh Hoa")
    t.ep_district = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang")
    t.ep_commune = ApprovedEndpointFactory(agency=t.commune, name="NT.XuongHuan")
    return t


def managed_node(janus: JanusProcess, operator, **extra) -> McuNode:
    return register_node(janus.node_input("mcu-1", **extra), actor=operator)


def soon(hours: int = 6) -> dt.datetime:
    """A start within ROOM_LEAD; only an emergency may be registered this late (KH Đ13.2a)."""
    return timezone.localtime(timezone.now() + hours * HOUR).replace(second=0, microsecond=0)


def register(setup, host, endpoint, participants, start, *, emergency=True, actor=None):
    extra = {"urgency": Urgency.EMERGENCY, "emergency_reason": "Bão số 5"} if emergency else {}
    return registration.create_meeting(
        registration.MeetingInput(
            title=f"Họp {host.name} {start:%d/%m %H:%M}",
            host_agency=host,
            host_endpoint=endpoint,
            participants=list(participants),
            starts_at=start,
            ends_at=start + 2 * HOUR,
            place="Phòng họp trực tuyến",
            contact_name="Nguyễn Văn A",
            contact_phone="0912345678",
            **extra,
        ),
        actor=actor or setup.operator,
    )


def room_on_janus(janus: JanusProcess, meeting) -> bool:
    room = Room.objects.get(meeting=meeting)
    with janus.client().videoroom() as handle:
        return handle.exists(room.janus_room_id)


def test_accepting_a_meeting_due_soon_creates_its_room_and_cancelling_destroys_it(
    setup, janus_server, django_capture_on_commit_callbacks
):
    managed_node(janus_server, setup.operator)
    meeting = register(setup, setup.district, setup.ep_district, [setup.ep_commune], soon())

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(meeting, actor=setup.operator)

    room = Room.objects.get(meeting=meeting)
    assert room.janus_created_at is not None and room.destroyed_at is None
    assert room_on_janus(janus_server, meeting)
    created = AuditEvent.objects.get(action="room.create", object_id=str(room.pk))
    assert created.actor == setup.operator  # the operator's decision caused it

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.cancel_meeting(meeting, reason="Lãnh đạo bận", actor=setup.district_office)

    assert not room_on_janus(janus_server, meeting)
    room.refresh_from_db()
    assert room.destroyed_at is not None
    destroyed = AuditEvent.objects.get(action="room.destroy", object_id=str(room.pk))
    assert destroyed.actor == setup.district_office
    assert verify_chain().ok


def test_a_meeting_not_due_yet_is_left_to_reconcile(
    setup, janus_server, django_capture_on_commit_callbacks
):
    """Its room would be an orphan to the five-minute reconcile; that run makes it in time."""
    managed_node(janus_server, setup.operator)
    work = calendar.WorkCalendar.for_rulebook(active_rulebook())
    day = timezone.localtime(work.add_working_days(timezone.now(), 5))
    start = day.replace(hour=9, minute=0, second=0, microsecond=0)
    meeting = register(setup, setup.district, setup.ep_district, [], start, emergency=False)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(meeting, actor=setup.operator)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.cancel_meeting(meeting, reason="Lãnh đạo bận", actor=setup.district_office)

    assert not Room.objects.filter(meeting=meeting).exists()
    assert not AuditEvent.objects.filter(action__startswith="room.").exists()


def test_a_revoked_meeting_loses_its_room(setup, janus_server, django_capture_on_commit_callbacks):
    node = managed_node(janus_server, setup.operator, max_meetings=5)  # KH Đ12.4a: 80 % → 4
    start = soon()
    lower = []
    for n in range(4):
        agency = AgencyFactory(
            parent=setup.province,
            kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
            name=f"UBND huyện Thử {n}",
            abbreviation=f"T{n}",
        )
        endpoint = ApprovedEndpointFactory(agency=agency, name=f"UBND.Thu {n}")
        meeting = register(setup, agency, endpoint, [], start + dt.timedelta(minutes=5 * n))
        with django_capture_on_commit_callbacks(execute=True):
            lower.append(lifecycle.accept_meeting(meeting, actor=setup.operator))
    assert all(room_on_janus(janus_server, m) for m in lower)
    province = register(setup, setup.province, setup.ep_province, [], start,
                        actor=setup.province_office)

    latest = lower[-1]
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(province, actor=setup.operator,
                                 confirm_revocations=[latest.pk])

    latest.refresh_from_db()
    assert latest.status == MeetingStatus.REVOKED
    assert not room_on_janus(janus_server, latest)
    assert Room.objects.get(meeting=latest).destroyed_at is not None
    assert all(room_on_janus(janus_server, m) for m in [*lower[:-1], province])
    assert Room.objects.get(meeting=province).node == node


def test_a_node_that_is_down_does_not_make_accepting_or_cancelling_fail(
    setup, janus_factory, caplog, django_capture_on_commit_callbacks
):
    janus: JanusProcess = janus_factory()
    managed_node(janus, setup.operator)
    janus.stop(kill=True)
    meeting = register(setup, setup.district, setup.ep_district, [], soon())

    with (caplog.at_level(logging.WARNING, logger="diemcau.media.tasks"),
          django_capture_on_commit_callbacks(execute=True)):
        accepted = lifecycle.accept_meeting(meeting, actor=setup.operator)
    assert accepted.status == MeetingStatus.ACCEPTED and accepted.code
    assert "reconcile will retry" in caplog.text
    # The room's row waits, not created on Janus, for the reconcile once the node is back.
    room = Room.objects.get(meeting=meeting)
    assert room.janus_created_at is None

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.cancel_meeting(meeting, reason="Lãnh đạo bận", actor=setup.district_office)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED


def test_the_tasks_skip_meetings_that_changed_meanwhile(
    setup, janus_server, django_capture_on_commit_callbacks
):
    managed_node(janus_server, setup.operator)
    meeting = register(setup, setup.district, setup.ep_district, [], soon())
    # Still submitted: no node held, so no room.
    tasks.ensure_meeting_room(meeting.pk)
    assert not Room.objects.filter(meeting=meeting).exists()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(meeting, actor=setup.operator)
    # Still accepted: a destroy enqueued for an older state leaves the room alone.
    tasks.destroy_meeting_room(meeting.pk)
    assert room_on_janus(janus_server, meeting)
    # Gone altogether: nothing to do, no error.
    tasks.ensure_meeting_room(10**9)
    tasks.destroy_meeting_room(10**9)
