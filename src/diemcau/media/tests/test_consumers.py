"""The live WebSockets: who may open them, the state they push on every change, and actions
that go through the same services (refusals come back with their article)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from diemcau.asgi import application
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.mcu.services import register_node
from diemcau.media.models import LeaveReason, Participation
from diemcau.media.routing import websocket_urlpatterns
from diemcau.media.services import grants, telemetry
from diemcau.scheduling.choices import Classification
from diemcau.testing.factories import UserFactory
from diemcau.testing.two_factor import device_for

from .live_fixtures import live_meeting

# Real commits: the consumers read the database from other threads, with their own connections.
pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True)]
router = URLRouter(websocket_urlpatterns)


def communicator(path: str, user: Any = None) -> WebsocketCommunicator:
    client = WebsocketCommunicator(router, path)
    if user is not None:
        client.scope["user"] = user
        # As signed in through the page: with the second factor where the role needs one.
        client.scope["session"] = getattr(user, "verified_session", {})
    return client


async def receive_type(client: WebsocketCommunicator, wanted: str) -> dict[str, Any]:
    for _ in range(10):
        message = await client.receive_json_from(timeout=5)
        if message.get("type") == wanted:
            return message
    raise AssertionError(f"no {wanted} message")


@pytest.fixture
def setup(janus_server, kh_tree):
    node = register_node(janus_server.node_input("mcu-ws"),
                         actor=UserFactory(role=Role.OPERATOR))
    live = live_meeting(node, kh_tree.district, [kh_tree.commune],
                        classification=Classification.INTERNAL)
    live.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        "operator": UserFactory(role=Role.OPERATOR, agency=kh_tree.department),
    }
    operator = live.users["operator"]
    operator.verified_session = {DEVICE_ID_SESSION_KEY: device_for(operator).persistent_id}
    return live


def test_console_is_for_controllers_only(setup):
    path = f"/ws/live/meetings/{setup.meeting.pk}/"

    async def run() -> None:
        refused = communicator(path, setup.users["commune_tech"])
        connected, _ = await refused.connect()
        assert not connected
        anonymous = communicator(path)
        connected, _ = await anonymous.connect()
        assert not connected
        console = communicator(path, setup.users["host_tech"])
        connected, _ = await console.connect()
        assert connected
        state = await receive_type(console, "state")
        assert state["meeting"]["id"] == setup.meeting.pk
        assert state["can_control"] is True
        await console.disconnect()

    asyncio.run(run())


def test_a_participant_and_the_host_see_each_others_changes(setup):
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])

    async def run() -> None:
        console = communicator(f"/ws/live/meetings/{setup.meeting.pk}/", setup.users["host_tech"])
        assert (await console.connect())[0]
        await receive_type(console, "state")
        participant = communicator("/ws/live/participant/")
        assert (await participant.connect())[0]
        await participant.send_json_to({"action": "hello", "key": grant.key})
        view = await receive_type(participant, "state")
        assert view["me"]["id"] == grant.participation.pk and view["me"]["audio_muted"]

        await participant.send_json_to({"action": "raise_hand", "request": 1})
        assert (await receive_type(participant, "result"))["ok"]
        state = await receive_type(console, "state")
        assert state["queue"] == [grant.participation.pk]

        await console.send_json_to({"action": "give_floor", "request": 2,
                                    "participation": grant.participation.pk})
        assert (await receive_type(console, "result"))["request"] == 2
        view = await receive_type(participant, "state")
        while view["me"]["has_floor"] is not True:
            view = await receive_type(participant, "state")
        assert view["me"]["audio_muted"] is False

        # A refused action comes back with its article (R20: recording not requested).
        await console.send_json_to({"action": "record", "on": True, "request": 3})
        error = await receive_type(console, "error")
        assert error["request"] == 3 and "Điều" in error["article"]

        await console.send_json_to({"action": "kick", "request": 4,
                                    "participation": grant.participation.pk})
        told = await receive_type(participant, "told")
        while told["event"] != "closed":
            told = await receive_type(participant, "told")
        assert told["reason"] == LeaveReason.KICKED
        await participant.disconnect()
        await console.disconnect()

    asyncio.run(run())


def test_a_wrong_key_is_refused_and_a_closed_socket_ends_the_participation(setup):
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])

    async def run() -> None:
        intruder = communicator("/ws/live/participant/")
        await intruder.connect()
        await intruder.send_json_to({"action": "hello", "key": "guessed"})
        assert (await intruder.receive_json_from())["type"] == "error"
        assert (await intruder.receive_output())["type"] == "websocket.close"

        participant = communicator("/ws/live/participant/")
        await participant.connect()
        await participant.send_json_to({"action": "hello", "key": grant.key})
        await receive_type(participant, "state")
        await participant.send_json_to({"action": "attendees", "count": 25, "request": 1})
        assert (await receive_type(participant, "result"))["ok"]
        await participant.disconnect()

    asyncio.run(run())
    row = Participation.objects.get(pk=grant.participation.pk)
    assert row.attendee_count == 25
    assert row.left_reason == LeaveReason.LOST


def test_a_participant_closes_its_own_microphone_and_gives_the_floor_back(setup):
    """KH Đ11.6 from the room's page: opening the microphone without the floor is refused
    with the article; with the floor it closes, opens again, and is given back."""
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])

    async def run() -> None:
        console = communicator(f"/ws/live/meetings/{setup.meeting.pk}/", setup.users["host_tech"])
        assert (await console.connect())[0]
        await receive_type(console, "state")
        participant = communicator("/ws/live/participant/")
        assert (await participant.connect())[0]
        await participant.send_json_to({"action": "hello", "key": grant.key})
        view = await receive_type(participant, "state")
        assert view["me"]["may_unmute"] is False

        await participant.send_json_to({"action": "unmute_self", "request": 1})
        error = await receive_type(participant, "error")
        assert error["request"] == 1 and "Điều 11.6" in error["article"]

        await console.send_json_to({"action": "give_floor", "request": 2,
                                    "participation": grant.participation.pk})
        await receive_type(console, "result")
        for action, request in (("mute_self", 3), ("unmute_self", 4), ("yield_floor", 5)):
            await participant.send_json_to({"action": action, "request": request})
            result = await receive_type(participant, "result")
            assert result["request"] == request and result["ok"]
        view = await receive_type(participant, "state")
        while view["me"]["has_floor"] or not view["me"]["audio_muted"]:
            view = await receive_type(participant, "state")
        await participant.disconnect()
        await console.disconnect()

    asyncio.run(run())
    actions = list(AuditEvent.objects.filter(object_id=str(grant.participation.pk))
                   .values_list("action", flat=True))
    assert {"live.mute_self", "live.unmute_self", "live.yield_floor"} <= set(actions)


def test_the_operator_calls_an_absent_terminal_from_its_console(setup):
    """The operator console's one action goes through the SIP service, which refuses here
    (the node has no SIP address) with its reason; ids beyond any database are refused."""
    async def run() -> None:
        console = communicator("/ws/live/operator/", setup.users["operator"])
        assert (await console.connect())[0]
        await receive_type(console, "state")
        await console.send_json_to({"action": "call", "request": 1, "meeting": setup.meeting.pk,
                                    "endpoint": setup.participants[0].pk})
        error = await receive_type(console, "error")
        assert error["request"] == 1 and "SIP" in error["message"]
        await console.send_json_to({"action": "call", "request": 2, "meeting": 2 ** 70,
                                    "endpoint": "x"})
        assert (await receive_type(console, "error"))["request"] == 2
        await console.send_json_to({"action": "kick", "request": 3})
        assert (await receive_type(console, "error"))["request"] == 3
        await console.disconnect()

    asyncio.run(run())


def test_operator_console_and_a_foreign_origin(setup):
    async def run() -> None:
        console = communicator("/ws/live/operator/", setup.users["operator"])
        assert (await console.connect())[0]
        state = await receive_type(console, "state")
        assert any(n["name"] == "mcu-ws" for n in state["nodes"])
        await console.disconnect()
        refused = communicator("/ws/live/operator/", setup.users["host_tech"])
        assert not (await refused.connect())[0]
        # Through the whole application, a page of another site may not open a socket.
        foreign = WebsocketCommunicator(application, "/ws/live/operator/",
                                        headers=[(b"origin", b"https://evil.example")])
        assert not (await foreign.connect())[0]

    asyncio.run(run())


def test_a_burst_of_changes_reaches_a_console_as_few_states(setup):
    from channels.db import database_sync_to_async

    given = [
        grants.grant_by_login(setup.meeting, endpoint, actor=setup.users["operator"])
        for endpoint in [setup.host_endpoint, *setup.participants]
    ]

    async def run() -> None:
        console = communicator(f"/ws/live/meetings/{setup.meeting.pk}/", setup.users["host_tech"])
        assert (await console.connect())[0]
        await receive_type(console, "state")
        watcher = communicator("/ws/live/participant/")
        await watcher.connect()
        await watcher.send_json_to({"action": "hello", "key": given[0].key})
        await receive_type(watcher, "state")

        report = database_sync_to_async(telemetry.report_quality, thread_sensitive=False)
        for rtt in range(100, 1100, 100):  # ten reports, the last one poor
            await report(given[1].participation, rtt_ms=rtt, loss_percent=0.0,
                         bitrate_kbps=800)
        states = []
        while not await console.receive_nothing(timeout=1.5):
            states.append(await console.receive_json_from())
        assert 1 <= len(states) < 10
        last = {row["id"]: row for row in states[-1]["participants"]}
        assert last[given[1].participation.pk]["rtt_ms"] == 1000
        assert last[given[1].participation.pk]["quality"] == "poor"
        # Another endpoint's line quality is not news for a participant's page.
        assert await watcher.receive_nothing(timeout=1.0)
        await watcher.disconnect()
        await console.disconnect()

    asyncio.run(run())


def test_a_console_sees_changes_made_where_no_event_reaches_it(setup, monkeypatch):
    """With the in-process layer, the worker's changes send no event to the web process: the
    console reads the state again on its own."""
    from channels.db import database_sync_to_async

    from diemcau.media import consumers

    monkeypatch.setattr(consumers, "REFRESH_SECONDS", 0.3)
    grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                   actor=setup.users["commune_tech"])

    async def run() -> None:
        console = communicator(f"/ws/live/meetings/{setup.meeting.pk}/", setup.users["host_tech"])
        assert (await console.connect())[0]
        first = await receive_type(console, "state")
        assert [row["id"] for row in first["participants"]] == [grant.participation.pk]
        # As the worker would, in its own process: the row is closed, no event is sent here.
        await database_sync_to_async(
            Participation.objects.filter(pk=grant.participation.pk).update,
            thread_sensitive=False,
        )(left_at=timezone.now(), left_reason=LeaveReason.LOST)
        state = await receive_type(console, "state")
        assert state["participants"] == []
        await console.disconnect()

    asyncio.run(run())
