"""The Janus client against a real Janus 1.1.2: the requests the backend makes and the error
codes Janus answers with."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

import pytest

from diemcau.mcu import janus_client as jc
from diemcau.mcu.janus_client import (
    AdminClient,
    JanusAccess,
    JanusClient,
    JanusError,
    JanusUnavailable,
    VideoRoom,
)
from diemcau.mcu.testing.janus import JanusProcess, free_ports


def test_unreachable_janus_is_unavailable():
    (port,) = free_ports(1)
    access = JanusAccess(f"http://127.0.0.1:{port}/janus", f"http://127.0.0.1:{port}/admin",
                         timeout=1)
    with pytest.raises(JanusUnavailable):
        JanusClient(access).info()
    with pytest.raises(JanusUnavailable):
        AdminClient(access).ping()




def test_an_answer_cut_short_is_unavailable():
    """Janus closing a long poll mid-answer (chunked, then nothing) is JanusUnavailable, not
    http.client's IncompleteRead, which would end a poll thread."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               b"Content-Type: application/json\r\n\r\n5\r\n{\"jan")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    access = JanusAccess(f"http://127.0.0.1:{port}/janus", "", timeout=5)
    try:
        with pytest.raises(JanusUnavailable):
            JanusClient(access).events(1)
    finally:
        thread.join(5)
        server.close()


def _room_id() -> int:
    return secrets.randbelow(2**52) + 1


@pytest.fixture
def room(janus_server: JanusProcess):
    """A room of this test on the shared Janus, destroyed afterwards."""
    room_id = _room_id()
    with janus_server.client().videoroom() as handle:
        handle.create(room_id, description="diemcau:client-test", pin="1234", secret="s3cret")
    yield room_id
    # The test may have destroyed it already.
    with janus_server.client().videoroom() as handle, contextlib.suppress(JanusError):
        handle.destroy(room_id, secret="s3cret")


@pytest.mark.janus
def test_info_and_admin(janus_server: JanusProcess):
    assert janus_server.client().info()["janus"] == "server_info"
    admin = janus_server.admin()
    admin.ping()
    assert admin.get_status()["session_timeout"] == 60
    session = janus_server.client().create_session()
    assert session in admin.list_sessions()
    janus_server.client().keepalive(session)
    janus_server.client().destroy_session(session)
    assert session not in admin.list_sessions()


@pytest.mark.janus
def test_admin_needs_the_admin_secret(janus_server: JanusProcess):
    wrong = AdminClient(JanusAccess(janus_server.config.janus_url,
                                    janus_server.config.admin_url, admin_secret="wrong"))
    wrong.ping()  # Janus answers ping without checking the secret…
    with pytest.raises(JanusError) as refused:
        wrong.get_status()  # …but nothing else
    assert refused.value.code == jc.UNAUTHORIZED_API


@pytest.mark.janus
def test_stored_tokens_open_the_janus_api(janus_server: JanusProcess):
    token = secrets.token_urlsafe(16)
    admin = janus_server.admin()
    admin.add_token(token)
    try:
        assert token in admin.list_tokens()
        with_token = jc._call(janus_server.config.janus_url,
                              {"janus": "create", "transaction": "t", "token": token}, 5)
        assert with_token["janus"] == "success"
    finally:
        admin.remove_token(token)
    with pytest.raises(JanusError) as refused:
        jc._call(janus_server.config.janus_url,
                 {"janus": "create", "transaction": "t", "token": token}, 5)
    assert refused.value.code == 403


@pytest.mark.janus
def test_room_requests(janus_server: JanusProcess, room: int):
    with janus_server.client().videoroom() as handle:
        assert handle.exists(room)
        assert not handle.exists(_room_id())
        listed = {item["room"]: item for item in handle.list()}
        assert listed[room]["description"] == "diemcau:client-test"
        assert listed[room]["pin_required"] is True and listed[room]["is_private"] is True
        assert handle.listparticipants(room) == []
        handle.edit(room, secret="s3cret", new_description="diemcau:edited")
        assert {i["room"]: i for i in handle.list()}[room]["description"] == "diemcau:edited"
        handle.enable_recording(room, secret="s3cret", record=False)
        with pytest.raises(JanusError) as exists:
            handle.create(room, description="x", pin="1", secret="x")
        assert exists.value.code == jc.ROOM_EXISTS  # 427
        with pytest.raises(JanusError) as wrong_secret:
            handle.destroy(room, secret="wrong")
        assert wrong_secret.value.code == jc.ROOM_UNAUTHORIZED  # 433
        handle.destroy(room, secret="s3cret")
        assert not handle.exists(room)
        with pytest.raises(JanusError) as gone:
            handle.destroy(room, secret="s3cret")
        assert gone.value.code == jc.ROOM_NO_SUCH_ROOM  # 426
        with pytest.raises(JanusError) as gone:
            handle.listparticipants(room)
        assert gone.value.code == jc.ROOM_NO_SUCH_ROOM


@pytest.mark.janus
def test_only_the_admin_key_creates_and_lists_rooms(janus_server: JanusProcess, room: int):
    with janus_server.client().videoroom() as handle:
        without = VideoRoom(handle.client, handle.session_id, handle.handle_id, admin_key="")
        with pytest.raises(JanusError) as missing:
            without.create(_room_id(), description="x", pin="1", secret="x")
        assert missing.value.code == jc.ROOM_MISSING_ELEMENT  # 429
        wrong = VideoRoom(handle.client, handle.session_id, handle.handle_id, admin_key="bad")
        with pytest.raises(JanusError) as refused:
            wrong.create(_room_id(), description="x", pin="1", secret="x")
        assert refused.value.code == jc.ROOM_UNAUTHORIZED  # 433
        # Without the key, private rooms are simply not listed.
        assert room not in {item["room"] for item in without.list()}
        assert room in {item["room"] for item in handle.list()}


@pytest.mark.janus
def test_wrong_pin_is_refused_and_participants_can_be_kicked(
    janus_server: JanusProcess, room: int
):
    client = janus_server.client()
    session = client.create_session()
    try:
        handle = client.attach(session)
        join = {"request": "join", "ptype": "publisher", "room": room, "display": "Thử"}
        assert client.message(session, handle, {**join, "pin": "9999"}) == {}  # an ack
        events = client.events(session)
        error = events[0]["plugindata"]["data"]
        assert error["error_code"] == jc.ROOM_UNAUTHORIZED  # 433: wrong pin
        client.message(session, handle, {**join, "pin": "1234"})
        joined = client.events(session)[0]["plugindata"]["data"]
        assert joined["videoroom"] == "joined"
        participant = joined["id"]
        with client.videoroom() as admin_handle:
            people = admin_handle.listparticipants(room)
            assert [p["id"] for p in people] == [participant]
            with pytest.raises(JanusError) as no_stream:
                admin_handle.moderate(room, secret="s3cret", participant=participant, mid="0",
                                      mute=True)
            assert no_stream.value.code == jc.ROOM_NO_SUCH_FEED  # 428: nothing published yet
            admin_handle.kick(room, secret="s3cret", participant=participant)
            assert admin_handle.listparticipants(room) == []
        left = client.events(session)[0]["plugindata"]["data"]
        assert left.get("leaving") == "ok" and left.get("reason") == "kicked"
    finally:
        client.destroy_session(session)


def test_an_event_after_a_quiet_spell_is_not_lost(janus_server: JanusProcess):
    """A long poll outlasts Janus's own 30 s: one given up sooner stays pending in Janus,
    which would hand it the next event on a closed connection (a dial-in lost that way)."""
    import threading
    import time
    from dataclasses import replace

    client = JanusClient(replace(janus_server.access, timeout=1.0))
    session = client.create_session()
    handle = client.attach(session)
    received: list[dict[str, Any]] = []
    poller = threading.Thread(target=lambda: received.extend(client.events(session)),
                              daemon=True)
    poller.start()
    time.sleep(2.5)  # longer than the request timeout: the poll must still be waiting
    assert poller.is_alive() and not received
    # An asynchronous request: its answer comes as an event on the pending poll.
    client._post(f"/{session}/{handle}", {"janus": "message", "body": {
        "request": "join", "ptype": "publisher", "room": 999999999}})
    poller.join(5)
    assert any(event.get("sender") == handle for event in received), received
    client.destroy_session(session)


def test_kept_handles_are_reused_and_outlive_a_restart(janus_factory):
    janus = janus_factory()
    pool = jc.VideoRoomPool()
    with pool.handle(janus.access) as first:
        assert first.list() == []
    with pool.handle(janus.access) as again:
        assert again is first  # one request to Janus, not four
        session = again.session_id
    janus.restart()  # Janus forgets every session
    with pool.handle(janus.access) as after:
        assert after.list() == []  # "no such session": a new one, and the request again
        assert after.session_id != session
    janus.stop(kill=True)
    with pytest.raises(JanusUnavailable), pool.handle(janus.access) as dead:
        dead.list()
    janus.start()
    with pool.handle(janus.access) as fresh:  # the dead node's handle was not kept
        assert fresh is not after and fresh.list() == []
