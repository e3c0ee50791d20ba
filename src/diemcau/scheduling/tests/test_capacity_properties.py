"""`capacity.peak`, `capacity.fits` and `planning.plan` against a brute force (R11,
KH Đ12.4a with Đ13.2b): random bookings on a small grid of whole minutes, and at every minute
of the new meeting's windows, the meetings, endpoints and mixers that hold the node at that
instant are counted one by one (a meeting once, however many of its rows cover the minute).
Windows are half-open, and every edge is on the grid, so the count is constant on each minute
[t, t+1): looking at each whole minute looks at every instant.

`plan` is checked with random rulebook values for the technical check (how long before, how
long it lasts, how much earlier it may move), a 40-hour `hours_before` among them: the check
holds the node only for its own window, placed by the brute force the same way — the latest
place, then earlier by steps of 15 minutes, while the node is full then.
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
from diemcau.directory.choices import TerminalKind
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import Rulebook, active_rulebook
from diemcau.scheduling.capacity import Load, Window, disjoint, fits, merge, peak
from diemcau.scheduling.choices import HoldKind, MeetingStatus
from diemcau.scheduling.models import Booking, Meeting
from diemcau.scheduling.planning import node_loads, plan
from diemcau.scheduling.windows import node_windows
from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

T0 = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)  # minute 0 of the grid
MINUTE = dt.timedelta(minutes=1)
CHECK_STEP = 15  # minutes: how far a check moves earlier at a time


def at(minute: int) -> dt.datetime:
    return T0 + minute * MINUTE


def minute_of(moment: dt.datetime) -> int:
    minutes, rest = divmod(moment - T0, MINUTE)
    assert not rest, "every edge is on the grid"
    return minutes


@dataclass(frozen=True)
class Holder:
    """One meeting holding the node: its rows in grid minutes (they may overlap, as a
    rehearsal and the check before the session may), its endpoints, and whether it needs a
    mixer."""

    windows: tuple[tuple[int, int], ...]
    endpoints: int
    mixers: int = 0

    def holds_at(self, minute: int) -> bool:
        return any(start <= minute < end for start, end in self.windows)


def span(low: int, high: int, longest: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(
        st.integers(low, high), st.integers(1, longest)
    ).map(lambda s: (s[0], s[0] + s[1]))


def merged(spans: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    windows = merge(Window(at(a), at(b)) for a, b in spans)
    return tuple((minute_of(w.starts_at), minute_of(w.ends_at)) for w in windows)


def holders_of(endpoints: st.SearchStrategy[int], low: int = -150,
               rows: st.SearchStrategy[tuple[int, int]] | None = None,
               ) -> st.SearchStrategy[list[Holder]]:
    row = rows if rows is not None else span(low, 450, 200)
    return st.lists(
        st.builds(
            Holder,
            windows=st.lists(row, min_size=1, max_size=3).map(tuple),
            endpoints=endpoints,
            mixers=st.integers(0, 1),
        ),
        max_size=8,
    )


holders = holders_of(st.integers(1, 12))
within = st.lists(span(0, 300, 180), min_size=1, max_size=3).map(merged)


def brute_force(
    holders: Sequence[Holder], windows: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """(meetings, endpoints, mixers) holding the node at each minute of `windows`."""
    minutes = sorted({m for start, end in windows for m in range(start, end)})
    counts = []
    for minute in minutes:
        present = [h for h in holders if h.holds_at(minute)]
        counts.append((len(present), sum(h.endpoints for h in present),
                       sum(h.mixers for h in present)))
    return counts


def loads(holders: Sequence[Holder], first_id: int = 1) -> list[Load]:
    return [
        Load(first_id + n, Window(at(start), at(end)), holder.endpoints, holder.mixers)
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
    assert (top.meetings, top.endpoints, top.mixers) == (
        max((m for m, _, _ in counts), default=0),
        max((e for _, e, _ in counts), default=0),
        max((x for _, _, x in counts), default=0),
    )


@settings(max_examples=300, deadline=None)
@given(
    holders,
    st.builds(Holder, windows=within, endpoints=st.integers(1, 12), mixers=st.integers(0, 1)),
    st.integers(0, 6),
    st.integers(0, 40),
    st.none() | st.integers(0, 4),
)
def test_fits_exactly_when_every_instant_is_within_the_caps(
    existing: list[Holder], new: Holder, meeting_cap: int, endpoint_cap: int,
    mixer_cap: int | None,
) -> None:
    counts = brute_force([*existing, new], new.windows)
    # Mixers count on a node that has them (a cap), when the new meeting needs one.
    mixers_count = mixer_cap is not None and new.mixers
    expected = all(m <= meeting_cap and e <= endpoint_cap
                   and (not mixers_count or x <= (mixer_cap or 0))
                   for m, e, x in counts)
    new_loads = loads([new], first_id=len(existing) + 1)
    assert fits(loads(existing), new_loads, meeting_cap, endpoint_cap, mixer_cap) is expected


@settings(max_examples=300, deadline=None)
@given(st.lists(span(-100, 300, 200), min_size=1, max_size=4))
def test_a_meetings_stored_rows_cover_its_minutes_once(spans: list[tuple[int, int]]) -> None:
    """`disjoint` (what `holdings.hold` writes): the same minutes, none of them twice."""
    rows = disjoint([Load(1, Window(at(a), at(b)), 3) for a, b in spans])
    covered = [m for row in rows for m in range(minute_of(row.window.starts_at),
                                                 minute_of(row.window.ends_at))]
    assert sorted(covered) == sorted({m for a, b in spans for m in range(a, b)})


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
    # A host with a hardware terminal: its meetings need a mixer of the node (R24).
    t.vcs_host = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang 3",
                                         terminal_kind=TerminalKind.VCS, vcs_ip="10.2.0.3")
    t.invited = [ApprovedEndpointFactory(agency=t.commune, name=f"NT.{n}") for n in range(4)]
    return t


def _meeting(world: SimpleNamespace, host: Any, start: int, end: int, **fields: Any) -> Meeting:
    return Meeting.objects.create(
        title="Họp", host_agency=world.district, host_endpoint=host,
        starts_at=at(start), ends_at=at(end), place="Phòng họp",
        contact_name="Nguyễn Văn A", contact_phone="0912345678",
        created_by=world.office, **fields,
    )


def with_check(rulebook: Rulebook, **values: Any) -> Rulebook:
    """The rulebook with other technical-check values, validated as a loaded one would be."""
    section = type(rulebook.technical_check).model_validate(
        {**rulebook.technical_check.model_dump(), **values})
    return rulebook.model_copy(update={"technical_check": section})


Caps = tuple[int, int, int | None]


def fits_by_minutes(holders: Sequence[Holder], new: Holder, minutes: Sequence[tuple[int, int]],
                    caps: Caps) -> bool:
    meeting_cap, endpoint_cap, mixer_cap = caps
    return all(m <= meeting_cap and e <= endpoint_cap
               and (mixer_cap is None or not new.mixers or x <= mixer_cap)
               for m, e, x in brute_force([*holders, new], minutes))


def brute_plan(existing: Sequence[Holder], windows: list[tuple[int, int]],
               slots: Sequence[tuple[int, int, int]], endpoints: int, mixers: int,
               caps: Caps) -> list[tuple[int, int]] | None:
    """The checks' places, minute by minute, or None when the meeting does not fit: every
    window must fit; then each check (latest end, earliest start, length) goes to the latest
    place where the node has room, trying earlier by CHECK_STEP minutes."""
    if not fits_by_minutes(existing, Holder(tuple(windows), endpoints, mixers), windows, caps):
        return None
    placed: list[tuple[int, int]] = []
    for latest_end, earliest_start, length in slots:
        end = latest_end
        while end - length >= earliest_start:
            trial = Holder(tuple([*windows, *placed, (end - length, end)]), endpoints, mixers)
            if fits_by_minutes(existing, trial, [(end - length, end)], caps):
                placed.append((end - length, end))
                break
            end -= CHECK_STEP
        else:
            return None
    return placed


@pytest.mark.django_db
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    # few endpoints against small nodes: a peak right at a cap comes up often; rows near the
    # new meeting, short ones (checks) where its checks go, and near where a 40-hour check
    # would go
    existing=holders_of(st.integers(1, 4), rows=span(-150, 450, 200) | span(-400, 200, 40)
                        | span(-2600, -2200, 200))
    # or only before the meeting, where its checks go: they move earlier, or find no room
    | holders_of(st.integers(1, 4), rows=span(-420, -60, 60))
    | holders_of(st.integers(1, 4), rows=span(-240, -60, 30)),
    session=span(0, 300, 180),
    rehearsal=st.none() | span(0, 300, 120),
    invited=st.integers(0, 4),
    max_meetings=st.integers(2, 8),
    max_endpoints=st.integers(2, 24),
    mixer=st.none() | st.integers(1, 3),
    hours_before=st.sampled_from([0, 1, 2, 40]),
    check_minutes=st.sampled_from([5, 30, 90]),
    later=st.sampled_from([0, 1, 3]),
)
def test_plan_accepts_exactly_when_the_brute_force_finds_room(
    world: SimpleNamespace,
    existing: list[Holder],
    session: tuple[int, int],
    rehearsal: tuple[int, int] | None,
    invited: int,
    max_meetings: int,
    max_endpoints: int,
    mixer: int | None,
    hours_before: int,
    check_minutes: int,
    later: int,
) -> None:
    rulebook = with_check(active_rulebook(), hours_before=hours_before,
                          check_minutes=check_minutes,
                          earliest_hours_before=hours_before + later)
    rule = rulebook.technical_check
    with transaction.atomic():
        # `mixer`: the node takes SIP terminals with that many mixers, and the new meeting's
        # host has a hardware terminal, so it needs one.
        node = McuNode.objects.create(name="mcu-grid", max_meetings=max_meetings,
                                      max_endpoints=max_endpoints,
                                      max_mixers=mixer or 1,
                                      sip_address="10.0.0.5:5060" if mixer else "")
        for holder in existing:
            start = min(a for a, _ in holder.windows)
            end = max(b for _, b in holder.windows)
            held = _meeting(world, world.others_host, start, end,
                            status=MeetingStatus.ACCEPTED, node=node)
            Booking.objects.bulk_create(
                Booking(meeting=held, kind=HoldKind.SESSION, node=node, starts_at=at(a),
                        ends_at=at(b), endpoints_count=holder.endpoints,
                        needs_mixer=bool(holder.mixers))
                for a, b in holder.windows
            )
        extra: dict[str, Any] = {}
        windows = [session]
        if rehearsal is not None:
            extra = {"rehearsal_starts_at": at(rehearsal[0]),
                     "rehearsal_ends_at": at(rehearsal[1])}
            windows = [rehearsal, session]
        host = world.vcs_host if mixer else world.host
        new = _meeting(world, host, *session, status=MeetingStatus.SUBMITTED, **extra)
        new.participants.set(world.invited[:invited])

        # The checks: one before each window the rulebook names, ending at the latest
        # `hours_before` before it, starting no earlier than `earliest_hours_before`.
        kinds = [(rehearsal, rule.before_rehearsal), (session, rule.before_session)]
        slots = [(w[0] - hours_before * 60,
                  min(w[0] - (hours_before + later) * 60,
                      w[0] - hours_before * 60 - check_minutes), check_minutes)
                 for w, wanted in kinds if w is not None and wanted]
        cap = rulebook.capacity.cap_percent
        caps = (node.meeting_cap(cap), node.endpoint_cap(cap),
                node.mixer_cap(cap) if mixer else None)
        expected = brute_plan(existing, windows, slots, 1 + invited, int(bool(mixer)), caps)

        # What the node holds, read back from the bookings, peaks as counted one by one.
        reading = node_windows(new, rulebook)
        read = node_loads(node, reading, exclude_meeting=new.pk)
        spans = [(minute_of(w.starts_at), minute_of(w.ends_at)) for w in reading]
        counts = brute_force(existing, spans)
        top = peak(read, reading)
        assert (top.meetings, top.endpoints, top.mixers) == (
            max(m for m, _, _ in counts), max(e for _, e, _ in counts),
            max(x for _, _, x in counts))

        event("room" if expected is not None else "no room")
        if expected is None and fits_by_minutes(
                existing, Holder(tuple(windows), 1 + invited, int(bool(mixer))), windows, caps):
            event("no room for a check only")
        if expected and any(end != latest for (_, end), (latest, _, _) in zip(expected, slots,
                                                                              strict=True)):
            event("a check moved earlier")
        outcome = plan(new, rulebook, nodes=[node])
        assert outcome.possible is (expected is not None)
        assert (outcome.node == node) is (expected is not None)
        assert outcome.full is (expected is None)
        assert outcome.revocations == [] and outcome.blocking_conflicts == []
        if expected is not None:
            checks = [(minute_of(load.window.starts_at), minute_of(load.window.ends_at))
                      for load in outcome.loads if load.kind == HoldKind.CHECK]
            assert checks == expected
            held = sorted((minute_of(load.window.starts_at), minute_of(load.window.ends_at))
                          for load in outcome.loads if load.kind != HoldKind.CHECK)
            assert held == sorted(windows)
        else:
            assert [over.node for over in outcome.overflows] == [node]
        transaction.set_rollback(True)
