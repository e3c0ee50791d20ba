"""Attendance stays true to Janus: rows of participants Janus no longer has are closed as
lost (a crashed browser, a restarted Janus), unused grants expire, and the meeting goes on
after a restart (R18)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from diemcau.core.roles import Role
from diemcau.mcu.janus_client import JanusUnavailable
from diemcau.mcu.services import register_node
from diemcau.media import selectors
from diemcau.media.models import LeaveReason, Participation, Room
from diemcau.media.services import grants, presence, rooms
from diemcau.testing.factories import UserFactory

from .live_fixtures import BrowserSession, live_meeting

pytestmark = [pytest.mark.janus, pytest.mark.django_db]
LATER = dt.timedelta(minutes=5)


def test_janus_restart_mid_meeting_closes_rows_and_the_room_comes_back(janus_factory, kh_tree):
    janus = janus_factory()
    node = register_node(janus.node_input("mcu-restart"), actor=UserFactory(role=Role.OPERATOR))
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune, kh_tree.other_commune])
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    present = grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=user)
    browser = BrowserSession(node.janus_url, present.janus_token)
    grants.join_publisher(present.participation, session_id=browser.session_id,
                           handle_id=browser.attach())
    unused = grants.grant_by_login(setup.meeting, setup.participants[0], actor=user)

    # While Janus has it, the joined participant stays, even long after; the unused grant goes.
    assert presence.sync_participations(node, now=timezone.now() + LATER) == [
        unused.participation.pk
    ]
    assert Participation.objects.get(pk=present.participation.pk).left_at is None

    janus.stop(kill=True)
    janus.start()
    # Right after the restart, within the grace, nothing is closed yet.
    assert presence.sync_participations(node) == []
    assert presence.sync_participations(node, now=timezone.now() + LATER) == [
        present.participation.pk
    ]
    row = Participation.objects.get(pk=present.participation.pk)
    assert row.left_reason == LeaveReason.LOST

    report = rooms.reconcile(node)
    assert Room.objects.get(meeting=setup.meeting).janus_room_id in report.created
    again = grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=user)
    browser = BrowserSession(node.janus_url, again.janus_token)
    grants.join_publisher(again.participation, session_id=browser.session_id,
                           handle_id=browser.attach())
    assert Participation.objects.get(pk=again.participation.pk).joined_at is not None
    lines = {line.endpoint_id: line for line in selectors.attendance(setup.meeting)}
    assert lines[setup.host_endpoint.pk].connections == 2


def test_a_node_that_does_not_answer_closes_nothing(janus_factory, kh_tree):
    janus = janus_factory()
    node = register_node(janus.node_input("mcu-down"), actor=UserFactory(role=Role.OPERATOR))
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune])
    user = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    grant = grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=user)
    janus.stop(kill=True)
    with pytest.raises(JanusUnavailable):
        presence.sync_participations(node, now=timezone.now() + LATER)
    assert presence.sync_all_nodes(now=timezone.now() + LATER) == {}  # logged, not raised
    assert Participation.objects.get(pk=grant.participation.pk).left_at is None
