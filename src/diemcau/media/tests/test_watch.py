"""The node watch against a real Janus killed and started again mid-meeting: the node is
noticed down and back at the next round, its room is recreated at once, and the pages of the
meeting are told on their socket to join again (R16)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connection

from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.mcu.models import McuNode, NodeHealth
from diemcau.mcu.services import poll_health, register_node
from diemcau.media.models import Room
from diemcau.media.routing import websocket_urlpatterns
from diemcau.media.services import grants
from diemcau.media.services.rooms import videoroom
from diemcau.media.watch import NodeWatch
from diemcau.scheduling.choices import Classification
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

# Real commits: the consumer reads the database from other threads.
pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True)]
router = URLRouter(websocket_urlpatterns)


async def next_of(client: WebsocketCommunicator, wanted: dict[str, Any]) -> dict[str, Any]:
    """The next message that has every key of `wanted` with its value."""
    for _ in range(20):
        message = await client.receive_json_from(timeout=10)
        if all(message.get(key) == value for key, value in wanted.items()):
            return message
    raise AssertionError(f"no message like {wanted}")


@pytest.fixture
def meeting_on(janus_factory, kh_tree):
    janus = janus_factory()
    node = register_node(janus.node_input("mcu-watch"), actor=UserFactory(role=Role.OPERATOR))
    live = live_meeting(node, kh_tree.district, [kh_tree.commune],
                        classification=Classification.INTERNAL)
    commune_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    grant = grants.grant_by_login(live.meeting, live.participants[0], actor=commune_tech)
    assert poll_health(node)
    return janus, node, live, grant


async def tick(watch: NodeWatch) -> list[Any]:
    """One round in another thread (this one runs the event loop), which closes its own
    database connection."""

    def run() -> list[Any]:
        try:
            return watch.tick()
        finally:
            connection.close()

    return await asyncio.to_thread(run)


def room_on_janus(node: McuNode, room: Room) -> bool:
    with videoroom(node) as handle:
        return handle.exists(room.janus_room_id)


def test_a_killed_node_is_noticed_and_its_pages_told_to_rejoin_when_it_is_back(meeting_on):
    janus, node, live, grant = meeting_on
    room = Room.objects.get(meeting=live.meeting)
    watch = NodeWatch()
    assert watch.tick() == []  # up, with its room: nothing to do
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()

    async def run() -> None:
        page = WebsocketCommunicator(router, "/ws/live/participant/")
        assert (await page.connect())[0]
        await page.send_json_to({"action": "hello", "key": grant.key})
        state = await next_of(page, {"type": "state"})
        assert state["media_ready"] is True

        janus.stop(kill=True)  # mid-meeting
        events = await tick(watch)
        assert [(e.kind, e.meetings) for e in events] == [("down", [live.meeting.pk])]
        # The page reads its state again: it waits on its socket instead of reloading.
        state = await next_of(page, {"type": "state"})
        assert state["media_ready"] is False
        assert await tick(watch) == []  # still down: said once

        janus.start()  # the same node, with no rooms
        events = await tick(watch)
        assert [(e.kind, e.meetings) for e in events] == [("back", [live.meeting.pk])]
        told = await next_of(page, {"type": "told"})
        assert told["event"] == "rejoin"
        await page.disconnect()

    asyncio.run(run())
    node.refresh_from_db()
    assert node.health == NodeHealth.UP
    assert room_on_janus(node, room)  # recreated before the pages were told
    actions = list(AuditEvent.objects.filter(
        pk__gt=before, action__in=["mcu.node_down", "mcu.node_up", "room.recreate"]).values_list(
        "action", flat=True).order_by("pk"))
    assert actions == ["mcu.node_down", "mcu.node_up", "room.recreate"]


def test_a_restart_between_two_rounds_is_noticed_by_the_lost_session(meeting_on):
    janus, node, live, _grant = meeting_on
    room = Room.objects.get(meeting=live.meeting)
    watch = NodeWatch()
    assert watch.tick() == []
    janus.restart()  # faster than a round: the node never looked down
    assert not room_on_janus(node, room)
    events = watch.tick()
    assert [(e.kind, e.meetings) for e in events] == [("back", [live.meeting.pk])]
    assert room_on_janus(node, room)
    assert watch.tick() == []
