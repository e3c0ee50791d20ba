"""While a line or its media node recovers, the host console shows the endpoint as
reconnecting rather than dropping it, and "connected" means its media flows (R18)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from diemcau.mcu.models import NodeHealth
from diemcau.media import selectors
from diemcau.media.models import RECONNECT_WINDOW, LeaveReason, Participation, Presence, Room
from diemcau.testing.factories import McuNodeFactory

from .live_fixtures import live_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _khanh_hoa(use_rulebook):
    use_rulebook("khanh-hoa-2023")


@pytest.fixture
def setup(kh_tree):
    return live_meeting(McuNodeFactory(health=NodeHealth.UP), kh_tree.district,
                        [kh_tree.commune, kh_tree.other_commune])


def place(setup, endpoint, **fields) -> Participation:
    return Participation.objects.create(
        meeting=setup.meeting, endpoint=endpoint, node=setup.meeting.node,
        display=endpoint.name, janus_id=Participation.objects.count() + 100,
        key_hash=f"{Participation.objects.count():064d}", janus_token_secret="t",
        joined_at=timezone.now() - dt.timedelta(minutes=5), **fields,
    )


def test_connected_means_the_media_is_up(setup):
    a, b = setup.participants
    joined = place(setup, a)
    flowing = place(setup, b, audio_mid="0", video_mid="1")
    state = selectors.live_state(setup.meeting)
    rows = {r["id"]: r for r in state["participants"]}
    assert rows[joined.pk]["connected"] is False  # joined, but its webrtcup not yet reported
    assert rows[flowing.pk]["connected"] is True
    presence = {r["endpoint_id"]: r["presence"] for r in state["invited_endpoints"]}
    assert presence[a.pk] == Presence.CONNECTING and presence[b.pk] == Presence.IN_ROOM


def test_a_line_lost_moments_ago_is_shown_reconnecting_until_it_is_back(setup):
    a, b = setup.participants
    lost = place(setup, a, audio_mid="0", left_at=timezone.now(),
                 left_reason=LeaveReason.LOST)
    place(setup, b, audio_mid="0", left_at=timezone.now(), left_reason=LeaveReason.LEFT)
    state = selectors.live_state(setup.meeting)
    assert state["participants"] == []
    assert [r["id"] for r in state["reconnecting"]] == [lost.pk]
    rows = {r["endpoint_id"]: r for r in state["invited_endpoints"]}
    assert rows[a.pk]["presence"] == Presence.RECONNECTING and rows[a.pk]["present"]
    assert rows[b.pk]["presence"] == Presence.LEFT  # who left on purpose is not coming back

    # Its page joined again: the new connection is listed, the lost one no longer.
    again = place(setup, a)
    state = selectors.live_state(setup.meeting)
    assert [r["id"] for r in state["participants"]] == [again.pk]
    assert state["reconnecting"] == []


def test_reconnecting_lasts_while_the_node_is_down_and_a_window_after(setup):
    a = setup.participants[0]
    long_ago = timezone.now() - RECONNECT_WINDOW - dt.timedelta(seconds=5)
    lost = place(setup, a, audio_mid="0", left_at=long_ago, left_reason=LeaveReason.LOST)
    rows = {r["endpoint_id"]: r for r in selectors.presence_rows(setup.meeting)}
    assert rows[a.pk]["presence"] == Presence.LOST
    assert selectors.live_state(setup.meeting)["reconnecting"] == []

    node = setup.meeting.node
    node.health = NodeHealth.DOWN
    node.save(update_fields=["health"])
    rows = {r["endpoint_id"]: r for r in selectors.presence_rows(setup.meeting)}
    assert rows[a.pk]["presence"] == Presence.RECONNECTING
    assert [r["id"] for r in selectors.live_state(setup.meeting)["reconnecting"]] == [lost.pk]


def test_the_page_waits_while_the_media_server_is_down(setup):
    me = place(setup, setup.participants[0], left_at=timezone.now(),
               left_reason=LeaveReason.LOST)
    assert selectors.participant_view(me)["media_ready"] is False  # no room yet
    Room.objects.create(meeting=setup.meeting, node=setup.meeting.node, janus_room_id=7,
                        room_pin="p", room_secret="s", janus_created_at=timezone.now())
    assert selectors.participant_view(me)["media_ready"] is True
    node = setup.meeting.node
    node.health = NodeHealth.DOWN
    node.save(update_fields=["health"])
    assert selectors.participant_view(me)["media_ready"] is False
