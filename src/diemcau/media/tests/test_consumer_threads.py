"""The live consumers' database work: two pools of threads of their own, each thread keeping
its database connection for its next call unless a call failed or left a transaction open."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from diemcau.media import consumers


@pytest.fixture
def one_thread(monkeypatch):
    """A pool of one thread, so that successive calls run on the same thread; its connection
    is closed at the end (the suite's database is dropped later)."""
    monkeypatch.setattr(consumers, "KEEP_CONNECTIONS", True)
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.submit(lambda: connection.close()).result()
    pool.shutdown()


def _call(pool, function):
    return pool.submit(consumers._kept_connection(function)).result()


def _backend() -> object:
    """The driver's connection object this thread uses (kept, so no other takes its id)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.connection


@pytest.mark.django_db(transaction=True)
def test_a_pool_thread_keeps_its_connection_unless_a_call_failed(one_thread):
    first = _call(one_thread, _backend)
    assert _call(one_thread, _backend) is first  # kept: no new connection for each call

    def fails() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    with pytest.raises(Exception):  # noqa: B017 (the database's own error class)
        _call(one_thread, fails)
    assert one_thread.submit(lambda: connection.connection).result() is None  # closed

    def leaves_a_transaction_open() -> None:
        transaction.set_autocommit(False)
        _backend()

    _call(one_thread, _backend)
    _call(one_thread, leaves_a_transaction_open)
    assert one_thread.submit(lambda: connection.connection).result() is None  # closed


@pytest.mark.django_db(transaction=True)
def test_an_idle_connection_is_opened_again(one_thread, monkeypatch):
    first = _call(one_thread, _backend)
    monkeypatch.setattr(consumers, "KEEP_IDLE_SECONDS", -1.0)
    assert _call(one_thread, _backend) is not first


def test_in_the_suite_each_call_closes_its_connection():
    assert consumers.KEEP_CONNECTIONS is False  # root conftest: the databases are dropped


class _Counting(consumers._LiveConsumer):
    """A live consumer whose state is a count of its reads (no database, no socket)."""

    def __init__(self) -> None:
        self.reads = 0
        self.sent: list[dict] = []

    def state(self) -> dict:
        self.reads += 1
        return {"reads": self.reads}

    async def send_json(self, content, close=False):  # type: ignore[override]
        self.sent.append(content)


def test_changes_are_coalesced_and_a_line_sample_waits_longer(monkeypatch):
    import asyncio

    monkeypatch.setattr(consumers, "COALESCE_SECONDS", 0.01)
    monkeypatch.setattr(consumers, "TELEMETRY_COALESCE_SECONDS", 3600.0)

    async def scenario() -> _Counting:
        socket = _Counting()
        for _ in range(5):
            await socket.live_changed({"telemetry": True})
        await asyncio.sleep(0.2)
        assert socket.reads == 0  # line samples only: not yet
        await socket.live_changed({})  # a host's action: soon, and covers the samples
        for _ in range(20):
            await asyncio.sleep(0.05)
            if socket.sent:
                break
        await asyncio.sleep(0.1)
        await socket.disconnect(1000)
        return socket

    socket = asyncio.run(scenario())
    assert socket.reads == 1 and socket.sent == [{"type": "state", "reads": 1}]
    assert socket._refresh_timer is None or socket._refresh_timer.cancelled()


def test_a_change_in_a_consumer_thread_is_told_through_the_consumer_loop(settings):
    """The worker thread does not wait for the loop: the message is handed to it."""
    import asyncio

    from channels.layers import get_channel_layer

    from diemcau.media import broadcast

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    async def scenario() -> dict:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(broadcast.meeting_group(7), channel)
        broadcast.consumer_loop.set(asyncio.get_running_loop())
        waited = []

        def in_thread() -> None:
            broadcast._send(broadcast.meeting_group(7), {"type": "live.changed", "meeting": 7})
            waited.append(True)

        await asyncio.to_thread(in_thread)  # returns without the loop having run the send
        message = await asyncio.wait_for(layer.receive(channel), 10)
        assert waited == [True]
        return message

    assert asyncio.run(scenario()) == {"type": "live.changed", "meeting": 7}
