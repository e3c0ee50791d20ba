"""The consoles' SIP panel (R23–R25), role by role: who may open it, and which of its actions
(call, hang up, layout, call or test the upstream link, set the link) each role may take over
the console's WebSocket; the operator console's mixers. No media server is needed: the
requests are rows the node's mixer agent acts on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from diemcau.core.roles import Role
from diemcau.media import selectors
from diemcau.media.models import CallState, Room, SipCall
from diemcau.media.routing import websocket_urlpatterns
from diemcau.media.services import sip
from diemcau.testing.factories import McuNodeFactory, UserFactory
from diemcau.testing.two_factor import device_for

from .live_fixtures import live_meeting

router = URLRouter(websocket_urlpatterns)
# The meeting page's panel of every user comes from the same state: one matrix, by hand.
ROLES = ("host_tech", "operator", "commune_tech", "office", "auditor")
ACTIONS = ("call", "hangup", "layout", "call_upstream", "test_upstream", "upstream_link")
ALLOWED = {
    "host_tech": {"call", "hangup", "layout", "call_upstream"},
    "operator": set(ACTIONS),
    "commune_tech": set(),  # the console refuses them: they do not control the meeting
    "office": set(),
    "auditor": set(),
}
CONSOLE_OPENS = {"host_tech", "operator"}


def _verified(user: Any) -> Any:
    user.verified_session = {DEVICE_ID_SESSION_KEY: device_for(user).persistent_id}
    return user


@pytest.fixture
def setup(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    node = McuNodeFactory(name="mcu-consoles", sip_address="10.0.0.5:5060")
    live = live_meeting(node, kh_tree.district, [kh_tree.commune], code="5550004321",
                        upstream_uri="sip:chinhphu@10.0.0.1")
    Room.objects.create(meeting=live.meeting, node=node, janus_room_id=42, room_pin="p",
                        room_secret="s")
    live.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "operator": _verified(UserFactory(role=Role.OPERATOR, agency=kh_tree.department)),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        "office": UserFactory(role=Role.OFFICE, agency=kh_tree.district),
        "auditor": UserFactory(role=Role.AUDITOR, agency=kh_tree.province),
    }
    return live


def _payload(setup: Any, action: str) -> dict[str, Any]:
    if action == "call":
        return {"endpoint": setup.participants[0].pk}
    if action == "hangup":
        call = SipCall.objects.filter(meeting=setup.meeting, state=CallState.REQUESTED,
                                      endpoint=setup.host_endpoint).first()
        if call is None:
            call = sip.request_call(setup.meeting, setup.host_endpoint,
                                    actor=setup.users["operator"])
        return {"call": call.pk}
    if action == "layout":
        return {"layout": "speaker"}
    if action == "upstream_link":
        return {"uri": "sip:quochoi@10.0.0.2"}
    return {}


async def _act(setup: Any, user: Any, action: str, payload: dict[str, Any]) -> str:
    client = WebsocketCommunicator(router, f"/ws/live/meetings/{setup.meeting.pk}/")
    client.scope["user"] = user
    # As signed in through the page: with the second factor where the role needs one.
    client.scope["session"] = getattr(user, "verified_session", {})
    connected, _ = await client.connect()
    if not connected:
        return "refused"
    try:
        await client.send_json_to({"action": action, "request": 7, **payload})
        for _ in range(10):
            message = await client.receive_json_from(timeout=5)
            if message.get("request") == 7:
                return "ok" if message["type"] == "result" else "error"
        return "silent"
    finally:
        await client.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_role_by_action_on_the_console_socket(setup, role):
    user = setup.users[role]
    seen = {}
    for action in ACTIONS:
        payload = _payload(setup, action)
        # Each action starts from a quiet meeting: no call under way that would refuse it.
        SipCall.objects.filter(meeting=setup.meeting).exclude(
            state=CallState.REQUESTED, endpoint=setup.host_endpoint).update(
            state=CallState.ENDED)
        seen[action] = asyncio.run(_act(setup, user, action, payload))
    if role not in CONSOLE_OPENS:
        assert set(seen.values()) == {"refused"}, seen
        return
    assert {a for a, outcome in seen.items() if outcome == "ok"} == ALLOWED[role], seen


@pytest.fixture
def client():
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.mark.django_db
def test_the_console_page_has_the_sip_panel(client, setup):
    url = reverse("media:console", args=[setup.meeting.pk])
    client.force_login(setup.users["host_tech"])
    html = client.get(url).content.decode()
    assert 'id="sip-panel"' in html and 'data-layout="speaker"' in html
    assert "data-may-set-upstream" not in html  # the link is the operators' once accepted
    state = selectors.live_state(setup.meeting, user=setup.users["host_tech"])
    assert state["sip"]["dial_in"] == "sip:5550004321@10.0.0.5"
    assert not state["sip"]["can_test_upstream"]
    client.force_login(setup.users["operator"])
    html = client.get(url).content.decode()
    assert "data-may-set-upstream" in html
    assert selectors.live_state(setup.meeting, user=setup.users["operator"])["sip"][
        "can_test_upstream"]
    for role in ("commune_tech", "office", "auditor"):
        client.force_login(setup.users[role])
        assert client.get(url).status_code == 403, role


@pytest.mark.django_db
def test_the_operator_sees_each_nodes_mixers_and_each_meetings_terminals(setup):
    call = sip.request_call(setup.meeting, setup.participants[0],
                            actor=setup.users["operator"])
    sip.record_answered(call.pk, feed=11)
    sip.call_upstream(setup.meeting, actor=setup.users["host_tech"])
    setup.meeting.status = "live"
    setup.meeting.save()
    overview = selectors.operator_overview_json()
    node = next(n for n in overview["nodes"] if n["name"] == "mcu-consoles")
    assert (node["sip"], node["mixers"], node["max_mixers"]) == (True, 1, 4)
    meeting = next(m for m in overview["meetings"] if m["id"] == setup.meeting.pk)
    assert (meeting["terminals"], meeting["upstream"]) == (1, "requested")
