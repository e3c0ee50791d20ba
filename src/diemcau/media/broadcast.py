"""Live events to the open consoles and participant pages, sent after the change commits.

Events only say *that* something changed; every consumer then reads the state again from the
database. That keeps them correct across several web processes (the Redis channel layer) and
after a missed event.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import weakref
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

OPERATORS_GROUP = "live.operators"


def meeting_group(meeting_id: int) -> str:
    """The consoles of one meeting (host, operators)."""
    return f"live.meeting.{meeting_id}"


def participants_group(meeting_id: int) -> str:
    """The participant pages of one meeting."""
    return f"live.participants.{meeting_id}"


def participant_group(participation_id: int) -> str:
    return f"live.participant.{participation_id}"


# The event loop of the live consumer whose worker thread is running (set by the consumer,
# inherited by its threads): a change made there is told without waiting for the loop.
consumer_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar(
    "consumer_loop", default=None)


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = consumer_loop.get()
    if loop is not None and loop.is_running():
        # In a consumer's worker thread: hand the message to the consumer's loop and go on.
        # Waiting for it (async_to_sync) held the thread, one of a few, for as long as the
        # busy loop took to get round to it: on a Monday morning, most of a line sample's time.
        future = asyncio.run_coroutine_threadsafe(_send_soon(layer, group, message), loop)
        future.add_done_callback(_log_failure)
        return
    async_to_sync(layer.group_send)(group, message)


# Messages handed to a loop at once, each on a connection to Redis of the process's pool
# (100 at most, shared with every socket's own calls): a burst — hundreds of pages closing
# together — queues here instead of taking them all.
SENDS_AT_ONCE = 16
_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


async def _send_soon(layer: Any, group: str, message: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    limit = _limits.get(loop)
    if limit is None:
        limit = _limits[loop] = asyncio.Semaphore(SENDS_AT_ONCE)
    async with limit:
        await layer.group_send(group, message)


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("live event not sent: %s", future.exception())


def meeting_changed(meeting_id: int, *, participants: bool = True,
                    telemetry: bool = False) -> None:
    """Consoles of this meeting and the operators' console read the state again, and the
    participant pages too unless the change is one they do not show (`participants=False`:
    another endpoint's line quality, reported every few seconds by each of them).
    `telemetry`: only a line's measurements changed; the consoles may read a little later,
    once for several samples."""

    def send() -> None:
        message: dict[str, Any] = {"type": "live.changed", "meeting": meeting_id}
        if telemetry:
            message["telemetry"] = True
        _send(meeting_group(meeting_id), message)
        _send(OPERATORS_GROUP, message)
        if participants:
            _send(participants_group(meeting_id), message)

    transaction.on_commit(send)


def tell_participant(participation_id: int, event: str, **data: Any) -> None:
    """One participant's page: it was removed, the meeting ended, its microphone changed…"""

    def send() -> None:
        _send(participant_group(participation_id), {"type": "live.told", "event": event, **data})

    transaction.on_commit(send)


def rejoin(meeting_id: int) -> None:
    """Every participant page of the meeting: its media server is back with the room, join
    again now (the page's own backoff is only for a node that stays down)."""

    def send() -> None:
        _send(participants_group(meeting_id), {"type": "live.told", "event": "rejoin"})

    transaction.on_commit(send)
