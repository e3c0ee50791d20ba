"""Small steps the mixer's tests repeat: browsers publishing a colour, waiting for a leg's
state, reading a terminal's picture at the tiles of the layout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import frames

Colour = frames.RGB


def publish(plane: Any, room: Any, name: str, colour: Colour, tone_hz: int = 400,
            video: bool = True) -> tuple[Any, int]:
    """An aiortc endpoint joined by the backend, publishing one colour and a tone."""
    endpoint = plane.endpoint(name, colour=colour, tone_hz=tone_hz, video=video,
                              width=320, height=180, fps=10)
    plane.join(endpoint.attached["publisher"], room=room.room, pin=room.pin, display=name)
    feed = int(endpoint.wait_joined()["id"])
    endpoint.publish()
    return endpoint, feed


def watch(plane: Any, room: Any, viewer: Any, feeds: list[int]) -> None:
    def join(attached: Any, feed_ids: list[int]) -> None:
        plane.join(attached, room=room.room, pin=room.pin, ptype="subscriber",
                   streams=[{"feed": feed} for feed in feed_ids])

    viewer.subscribe(feeds, join)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, step: float = 0.25,
             what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


def leg_states(updates: list[Any], leg_id: str) -> list[str]:
    return [str(u.state) for u in list(updates) if u.leg_id == leg_id]


def wait_state(updates: list[Any], leg_id: str, state: str, timeout: float = 30.0) -> None:
    wait_for(lambda: state in leg_states(updates, leg_id), timeout,
             what=f"leg {leg_id} {state} (saw {leg_states(updates, leg_id)})")


def tile_colours(picture: frames.Picture, tiles: dict[Any, Any],
                 canvas: tuple[int, int]) -> dict[Any, Colour]:
    return {key: picture.scaled(tile.centre[0], tile.centre[1], canvas)
            for key, tile in tiles.items()}


def matches(picture: frames.Picture, tiles: dict[Any, Any], canvas: tuple[int, int],
            expected: dict[Any, Colour], tolerance: float = 60.0) -> bool:
    seen = tile_colours(picture, tiles, canvas)
    return all(key in seen and frames.distance(seen[key], colour) < tolerance
               for key, colour in expected.items())
