"""`capacity.peak`, `capacity.fits` and `planning.plan` against a brute force (R11,
KH Đ12.4a): random bookings on a small grid of whole minutes, and at every minute of the new
meeting's windows, the meetings and endpoints that hold the node at that instant are counted
one by one. Windows are half-open, and every edge is on the grid, so the count is constant on
each minute [t, t+1): looking at each whole minute looks at every instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from diemcau.core.roles import Role
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.capacity import Load, Window, fits, merge, peak
from diemcau.scheduling.choices import MeetingStatus, WindowKind
from diemcau.scheduling.models import Booking, Meeting
from diemcau.scheduling.planning import node_loads, plan
from diemcau.scheduling.windows import node_windows
from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

T0 = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)  # minute 0 of the grid
MINUTE = dt.timedelta(minutes=1)


def at(minute: int) -> dt.datetime:
    return T0 + minute * MINUTE


def minute_of(moment: dt.datetime) -> int:
    minutes, rest = divmod(moment - T0, MINUTE)
    assert not rest, "every edge is on the grid"
    return minutes


@dataclass(frozen=True)
class Holder:
    """One meeting holding the node: its windows (merged, as a meeting's are) in grid
    minutes, and its endpoints."""

    windows: tuple[tuple[int, int], ...]
    endpoints: int

    def holds_at(self, minute: int) -> bool:
        return any(start <= minute < end for start, end in self.windows)


def span(low: int, high: int, longest: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(
        st.integers(low, high), st.integers(1, longest)
    ).map(lambda s: (s[0], s[0] + s[1]))


def merged(spans: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    windows = merge(Window(at(a), at(b)) for a, b in spans)
    return tuple((minute_of(w.starts_at), minute_of(w.ends_at)) for w in windows)


def holders_of(endpoints: st.SearchStrategy[int]) -> st.SearchStrategy[list[Holder]]:
    return st.lists(
        st.builds(
            Holder,
            windows=st.lists(span(-150, 450, 200), min_size=1, max_size=2).map(merged),
            endpoints=endpoints,
        ),
        max_size=8,
    )


holders = holders_of(st.integers(1, 12))
within = st.lists(span(0, 300, 180), min_size=1, max_size=3).map(merged)


def brute_force(
    holders: Sequence[Holder], windows: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """(meetings, endpoints) holding the node at each minute of `windows`."""
    minutes = sorted({m for start, end in windows for m in range(start, end)})
    counts = []
    for minute in minutes:
        present = [h for h in holders if h.holds_at(minute)]
        counts.append((len(present), sum(h.endpoints for h in present)))
    return counts


def loads(holders: Sequence[Holder], first_id: int = 1) -> list[Load]:
    return [
        Load(first_id + n, Window(at(start), at(end)), holder.endpoints)
        for n, holder in enumerate(holders)
        for start, end in holder.windows
    ]


def as_windows(spans: Sequence[tuple[int, int]]) -> list[Window]:
    return [Window(at(a), at(b)) for a, b in spans]


# ---------------------------------------------------------------- the arithmetic alone


@settings(max_examples=300, deadline=None)
@given(holders, within)
def test_peak_is_the_highest_count_at_any_instant(holders: list[Holder], spans: Any) -> None:
    counts = brute_force(holders, spans)
    top = peak(loads(holders), as_windows(spans))
    assert (top.meetings, top.endpoints) == (
        max((m for m, _ in counts), default=0),
        max((e for _, e in counts), default=0),
    )


@settings(max_examples=300, deadline=None)
@given(
    holders,
    st.builds(Holder, windows=within, endpoints=st.integers(1, 12)),
    st.integers(0, 6),
    st.integers(0, 40),
)
def test_fits_exactly_when_every_instant_is_within_both_caps(
    existing: list[Holder], new: Holder, meeting_cap: int, endpoint_cap: int
) -> None:
    counts = brute_force([*existing, new], new.windows)
    expected = all(m <= meeting_cap and e <= endpoint_cap for m, e in counts)
    new_loads = loads([new], first_id=len(existing) + 1)
    assert fits(loads(existing), new_loads, meeting_cap, endpoint_cap) is expected


# ---------------------------------------------------------------- plan() on the database


@pytest.fixture
def world(kh_tree: SimpleNamespace, use_rulebook: Any) -> SimpleNamespace:
    """One district that hosts every meeting (all of one level: none gives way to another),
    its endpoint, and endpoints to invite."""
    use_rulebook("khanh-hoa-2023")
    t = kh_tree
    t.office = UserFactory(role=Role.OFFICE, agency=t.district)
    t.host = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang")
    t.others_host = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang 2")
    t.invited = [ApprovedEndpointFactory(agency=t.commune, name=f"NT.{n}") for n in range(4)]
    return t


def _meeting(world: SimpleNamespace, host: Any, start: int, end: int, **fields: Any) -> Meeting:
    return Meeting.objects.create(
        title="Họp", host_agency=world.district, host_endpoint=host,
        starts_at=at(start), ends_at=at(end), place="Phòng họp",
        contact_name="Nguyễn Văn A", contact_phone="0912345678",
        created_by=world.office, **fields,
    )


@pytest.mark.django_db
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    # few endpoints against small nodes: a peak right at a cap comes up often
    existing=holders_of(st.integers(1, 4)),
    session=span(0, 300, 180),
    rehearsal=st.none() | span(0, 300, 120),
    invited=st.integers(0, 4),
    max_meetings=st.integers(2, 8),
    max_endpoints=st.integers(2, 24),
)
def test_plan_accepts_exactly_when_the_brute_force_finds_room(
    world: SimpleNamespace,
    existing: list[Holder],
    session: tuple[int, int],
    rehearsal: tuple[int, int] | None,
    invited: int,
    max_meetings: int,
    max_endpoints: int,
) -> None:
    rulebook = active_rulebook()
    with transaction.atomic():
        node = McuNode.objects.create(name="mcu-grid", max_meetings=max_meetings,
                                      max_endpoints=max_endpoints)
        for holder in existing:
            start, end = holder.windows[0][0], holder.windows[-1][1]
            held = _meeting(world, world.others_host, start, end,
                            status=MeetingStatus.ACCEPTED, node=node)
            Booking.objects.bulk_create(
                Booking(meeting=held, kind=WindowKind.SESSION, node=node, starts_at=at(a),
                        ends_at=at(b), endpoints_count=holder.endpoints)
                for a, b in holder.windows
            )
        rehearsal_fields = {}
        if rehearsal is not None:
            rehearsal_fields = {"rehearsal_starts_at": at(rehearsal[0]),
                                "rehearsal_ends_at": at(rehearsal[1])}
        new = _meeting(world, world.host, *session, status=MeetingStatus.SUBMITTED,
                       **rehearsal_fields)
        new.participants.set(world.invited[:invited])

        # The new meeting holds the node from the check before each window (merged).
        spans = [(minute_of(w.starts_at), minute_of(w.ends_at))
                 for w in node_windows(new, rulebook)]
        newcomer = Holder(tuple(spans), 1 + invited)
        counts = brute_force([*existing, newcomer], spans)
        cap = rulebook.capacity.cap_percent
        room = all(m <= node.meeting_cap(cap) and e <= node.endpoint_cap(cap)
                   for m, e in counts)

        # What the node holds, read back from the bookings, peaks as counted one by one.
        read = node_loads(node, as_windows(spans), exclude_meeting=new.pk)
        top = peak([*read, *loads([newcomer], first_id=new.pk)], as_windows(spans))
        assert (top.meetings, top.endpoints) == (max(m for m, _ in counts),
                                                 max(e for _, e in counts))

        event("room" if room else "no room")
        outcome = plan(new, rulebook, nodes=[node])
        assert outcome.possible is room
        assert (outcome.node == node) is room
        assert outcome.full is not room
        assert outcome.revocations == [] and outcome.blocking_conflicts == []
        transaction.set_rollback(True)
