"""Live events to the open consoles and participant pages, sent after the change commits.

Events only say *that* something changed; every consumer then reads the state again from the
database. That keeps them correct across several web processes (the Redis channel layer) and
after a missed event.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

OPERATORS_GROUP = "live.operators"


def meeting_group(meeting_id: int) -> str:
    """The consoles of one meeting (host, operators)."""
    return f"live.meeting.{meeting_id}"


def participants_group(meeting_id: int) -> str:
    """The participant pages of one meeting."""
    return f"live.participants.{meeting_id}"


def participant_group(participation_id: int) -> str:
    return f"live.participant.{participation_id}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, message)


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
