"""The audit events of WebSocket actions carry the client's address (R22), as those of the
pages do."""

from __future__ import annotations

import asyncio

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.media.routing import websocket_urlpatterns
from diemcau.scheduling.choices import Classification
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_action_on_the_host_console_is_audited_with_the_client_address(kh_tree):
    live = live_meeting(None, kh_tree.district, [kh_tree.commune],
                        classification=Classification.INTERNAL)
    host_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)

    async def run() -> None:
        console = WebsocketCommunicator(URLRouter(websocket_urlpatterns),
                                        f"/ws/live/meetings/{live.meeting.pk}/")
        console.scope["user"] = host_tech
        console.scope["client"] = ("198.51.100.23", 51234)
        assert (await console.connect())[0]
        await console.send_json_to({"action": "escalate", "request": 7,
                                    "description": "Mất tiếng điểm cầu xã"})
        for _ in range(10):
            message = await console.receive_json_from(timeout=5)
            if message.get("type") == "result":
                assert message["ok"] and message["request"] == 7
                break
        await console.disconnect()

    asyncio.run(run())
    event = AuditEvent.objects.get(action="live.escalate")
    assert event.ip == "198.51.100.23" and event.actor_id == host_tech.pk


def test_the_operator_console_needs_a_session_signed_in_with_the_second_factor(kh_tree):
    from django_otp import DEVICE_ID_SESSION_KEY

    from diemcau.testing.two_factor import device_for

    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    verified = {DEVICE_ID_SESSION_KEY: device_for(operator).persistent_id}

    async def connects(session: dict) -> bool:
        console = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/live/operator/")
        console.scope["user"] = operator
        console.scope["session"] = session
        connected, _ = await console.connect()
        await console.disconnect()
        return connected

    assert not asyncio.run(connects({}))
    assert asyncio.run(connects(verified))
