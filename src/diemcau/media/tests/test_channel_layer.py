"""Beyond one machine (DIEMCAU_REDIS_URL): a change made in one process (the worker closing a
lost connection, another web process) reaches the consoles open in another, through Redis."""

from __future__ import annotations

import asyncio
import os
import socket
from urllib.parse import urlsplit

import pytest

from diemcau.media import broadcast

REDIS_URL = os.environ.get("DIEMCAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _reachable(REDIS_URL), reason=f"Redis is not reachable at {REDIS_URL} (CI runs one)"
)


def test_a_meeting_change_crosses_processes_through_redis():
    from channels_redis.core import RedisChannelLayer

    # Two layers, as two processes have: the web process's console listens, the worker sends.
    web, worker = RedisChannelLayer(hosts=[REDIS_URL]), RedisChannelLayer(hosts=[REDIS_URL])

    async def run() -> dict:
        channel = await web.new_channel()
        group = broadcast.meeting_group(4242)
        await web.group_add(group, channel)
        try:
            await worker.group_send(group, {"type": "live.changed", "meeting": 4242})
            return await asyncio.wait_for(web.receive(channel), timeout=5)
        finally:
            await web.group_discard(group, channel)
            await web.flush()

    assert asyncio.run(run()) == {"type": "live.changed", "meeting": 4242}
