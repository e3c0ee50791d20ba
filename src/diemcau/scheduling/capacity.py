"""MCU capacity arithmetic (KH Đ12.4a, R11): pure functions, no database.

KH Đ12.4a counts "số lượng phiên họp diễn ra đồng thời và tổng số điểm cầu tham gia": what
runs at the same instant. A meeting holds its node for each of its windows (rehearsal,
session) and, separately, for each technical check's own window (KH Đ13.2b, ĐN Đ11.2b: the
check is held "chậm nhất 02 giờ trước", no later than two hours before; not the whole time in
between). At every instant the number of meetings holding the node, the total of their
endpoints and the meetings that need one of its mixers (hardware terminals or an upstream
link, R24) must stay within the rulebook's cap of the node's maximum. A meeting whose own
windows overlap (its rehearsal and the check before its session) is counted once.
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
    """One holder of a node during a window: a meeting with its endpoint count, for its
    rehearsal, its session or one of its technical checks (`kind`, a `HoldKind` value)."""

    meeting_id: int
    window: Window
    endpoints: int
    mixers: int = 0  # 1 when the meeting needs a mixer of the node
    kind: str = "session"


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


def _clipped(loads: Sequence[Load], within: Sequence[Window]) -> list[tuple[Load, Window]]:
    clipped = []
    for load in loads:
        for area in within:
            if load.window.overlaps(area):
                clipped.append((load, Window(max(load.window.starts_at, area.starts_at),
                                             min(load.window.ends_at, area.ends_at))))
    return clipped


def sweep(loads: Sequence[Load], within: Sequence[Window]) -> list[Step]:
    """The load inside `within` as a step function: one step at each instant where a load
    starts or ends, with the value once every change at that instant is applied.

    Windows are half-open [start, end), so a meeting that ends at 10:00 and one that starts
    at 10:00 never count together. A meeting counts once however many of its loads cover the
    instant (its endpoints and mixer are the largest of them). Booking (`peak`, `fits`) and
    the load page both read this one sweep, so the page can never show a peak the booking
    did not see.
    """
    changes: dict[dt.datetime, list[tuple[Load, int]]] = {}
    for load, part in _clipped(loads, within):
        changes.setdefault(part.starts_at, []).append((load, 1))
        changes.setdefault(part.ends_at, []).append((load, -1))
    active: dict[int, list[Load]] = {}
    steps = []
    for at in sorted(changes):
        for load, sign in changes[at]:
            held = active.setdefault(load.meeting_id, [])
            if sign > 0:
                held.append(load)
            else:
                held.remove(load)
        holders = [held for held in active.values() if held]
        steps.append(Step(
            at,
            len(holders),
            sum(max(load.endpoints for load in held) for held in holders),
            sum(max(load.mixers for load in held) for held in holders),
        ))
    return steps


def disjoint(loads: Sequence[Load]) -> list[Load]:
    """One meeting's loads with the parts already covered by an earlier one cut away, so its
    stored rows never overlap (a check during its own rehearsal holds nothing more); a
    reader that adds up rows, as the reports do, then counts the meeting once."""
    kept: list[Load] = []
    for load in loads:
        pieces = [load.window]
        for other in kept:
            pieces = [part for piece in pieces for part in _minus(piece, other.window)]
        kept += [Load(load.meeting_id, piece, load.endpoints, load.mixers, load.kind)
                 for piece in pieces]
    return kept


def _minus(window: Window, cut: Window) -> list[Window]:
    if not window.overlaps(cut):
        return [window]
    parts = []
    if window.starts_at < cut.starts_at:
        parts.append(Window(window.starts_at, cut.starts_at))
    if cut.ends_at < window.ends_at:
        parts.append(Window(cut.ends_at, window.ends_at))
    return parts


def holders_at(loads: Sequence[Load], instant: dt.datetime) -> list[Load]:
    """The loads that hold the node at `instant`, in the order of their start."""
    return sorted((load for load in loads
                   if load.window.starts_at <= instant < load.window.ends_at),
                  key=lambda load: (load.window.starts_at, load.meeting_id))


def peak(loads: Sequence[Load], within: Sequence[Window]) -> Peak:
    """The highest concurrent meetings, endpoints and mixers at any instant inside `within`
    (each its own highest: they may peak at different instants)."""
    steps = sweep(loads, within)
    return Peak(
        max((step.meetings for step in steps), default=0),
        max((step.endpoints for step in steps), default=0),
        max((step.mixers for step in steps), default=0),
    )


@dataclass(frozen=True)
class Caps:
    meetings: int
    endpoints: int
    mixers: int | None = None  # None: the node has no mixers to count, it takes no SIP


def first_overflow(existing: Sequence[Load], new: Sequence[Load], caps: Caps
                   ) -> Window | None:
    """The first stretch of `new`'s windows where adding it passes a cap, or None if it
    fits. The mixers count only when `new` needs one."""
    within = [load.window for load in new]
    count_mixers = caps.mixers is not None and any(load.mixers for load in new)
    steps = sweep([*existing, *new], within)
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        over = (step.meetings > caps.meetings or step.endpoints > caps.endpoints
                or (count_mixers and caps.mixers is not None and step.mixers > caps.mixers))
        if over:
            end = following.at if following is not None else step.at
            return Window(step.at, end)
    return None


def fits(
    existing: Sequence[Load], new: Sequence[Load], meeting_cap: int, endpoint_cap: int,
    mixer_cap: int | None = None,
) -> bool:
    """Whether adding `new` keeps every instant of its windows within the caps (`mixer_cap`
    None: the node has no mixers to count, it takes no SIP terminals)."""
    return first_overflow(existing, new, Caps(meeting_cap, endpoint_cap, mixer_cap)) is None


def place_check(
    existing: Sequence[Load], template: Load, latest_end: dt.datetime,
    earliest_start: dt.datetime, length: dt.timedelta, caps: Caps,
    step: dt.timedelta = dt.timedelta(minutes=15),
) -> Load | None:
    """Place one technical check: the latest window of `length` that ends by `latest_end`
    and fits beside `existing` (which includes the meeting's own other loads); moved earlier
    by `step` while the node is busy, never starting before `earliest_start`. None if no such
    window fits (KH Đ13.2b: "chậm nhất 02 giờ trước"; the earlier, the freer)."""
    end = latest_end
    while end - length >= earliest_start:
        candidate = Load(template.meeting_id, Window(end - length, end), template.endpoints,
                         template.mixers, template.kind)
        if first_overflow(existing, [candidate], caps) is None:
            return candidate
        end -= step
    return None
