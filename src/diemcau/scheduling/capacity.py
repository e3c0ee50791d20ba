"""MCU capacity arithmetic (KH Đ12.4a, R11): pure functions, no database.

A meeting holds its MCU node from the first technical check to its end, per window
(rehearsal, session). At every instant the number of concurrent meetings and the total of
connected endpoints must stay within the rulebook's cap of the node's maximum; so must the
meetings that need one of the node's mixers (hardware terminals or an upstream link, R24).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    starts_at: dt.datetime
    ends_at: dt.datetime

    def overlaps(self, other: Window) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


@dataclass(frozen=True)
class Load:
    """One holder of a node during a window: a meeting with its endpoint count."""

    meeting_id: int
    window: Window
    endpoints: int
    mixers: int = 0  # 1 when the meeting needs a mixer of the node


@dataclass(frozen=True)
class Peak:
    meetings: int
    endpoints: int
    mixers: int = 0


def merge(windows: Iterable[Window]) -> list[Window]:
    """Overlapping or touching windows of one meeting become one, so it is counted once."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda w: w.starts_at):
        if merged and window.starts_at <= merged[-1].ends_at:
            last = merged[-1]
            merged[-1] = Window(last.starts_at, max(last.ends_at, window.ends_at))
        else:
            merged.append(window)
    return merged


@dataclass(frozen=True)
class Step:
    """From `at` until the next step, this many meetings, endpoints and mixers hold the node."""

    at: dt.datetime
    meetings: int
    endpoints: int
    mixers: int = 0


def sweep(loads: Sequence[Load], within: Sequence[Window]) -> list[Step]:
    """The load inside `within` as a step function: one step at each instant where a load
    starts or ends, with the value once every change at that instant is applied.

    Windows are half-open [start, end), so a meeting that ends at 10:00 and one that starts
    at 10:00 never count together. Booking (`peak`, `fits`) and the load page both read
    this one sweep, so the page can never show a peak the booking did not see.
    """
    deltas: dict[dt.datetime, list[int]] = {}
    for load in loads:
        for area in within:
            if not load.window.overlaps(area):
                continue
            start = max(load.window.starts_at, area.starts_at)
            end = min(load.window.ends_at, area.ends_at)
            for at, sign in ((start, 1), (end, -1)):
                change = deltas.setdefault(at, [0, 0, 0])
                change[0] += sign
                change[1] += sign * load.endpoints
                change[2] += sign * load.mixers
    steps = []
    meetings = endpoints = mixers = 0
    for at in sorted(deltas):
        meetings += deltas[at][0]
        endpoints += deltas[at][1]
        mixers += deltas[at][2]
        steps.append(Step(at, meetings, endpoints, mixers))
    return steps


def peak(loads: Sequence[Load], within: Sequence[Window]) -> Peak:
    """The highest concurrent meetings, endpoints and mixers at any instant inside `within`
    (each its own highest: they may peak at different instants)."""
    steps = sweep(loads, within)
    return Peak(
        max((step.meetings for step in steps), default=0),
        max((step.endpoints for step in steps), default=0),
        max((step.mixers for step in steps), default=0),
    )


def fits(
    existing: Sequence[Load], new: Sequence[Load], meeting_cap: int, endpoint_cap: int,
    mixer_cap: int | None = None,
) -> bool:
    """Whether adding `new` keeps every instant of its windows within the caps (`mixer_cap`
    None: the node has no mixers to count, it takes no SIP terminals)."""
    within = [load.window for load in new]
    top = peak([*existing, *new], within)
    mixers_fit = mixer_cap is None or top.mixers <= mixer_cap or not any(
        load.mixers for load in new)
    return top.meetings <= meeting_cap and top.endpoints <= endpoint_cap and mixers_fit
