"""Where an accepted meeting would go: which MCU node has room, which endpoints are busy,
and — for a higher-level meeting — which lower-level meetings would have to give way.

Read-only. `accept_meeting` runs it again inside its transaction, after locking the nodes
and endpoints, so what it decides cannot change underneath it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from diemcau.directory.choices import TerminalKind
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import Rulebook
from diemcau.rulebooks.schema import MAX_CHECK_MINUTES

from .capacity import Caps, Load, Window, first_overflow, holders_at, peak, place_check
from .choices import HOLDING_STATUSES, HoldKind, MeetingStatus
from .models import Booking, Meeting
from .windows import CheckSlot, check_slots, meeting_windows, node_windows

# A rehearsal or a session lasts at most MAX_MEETING_LENGTH (registration refuses longer
# ones), and a technical check at most the rulebook's bound on `check_minutes`. Every booking
# row holds one of them alone, so no row is longer than MAX_BOOKING_HOLD, whatever the
# rulebook's `hours_before` (`holdings.hold` refuses to write a longer one).
MAX_MEETING_LENGTH = dt.timedelta(hours=12)
MAX_BOOKING_HOLD = max(MAX_MEETING_LENGTH, dt.timedelta(minutes=MAX_CHECK_MINUTES))


@dataclass(frozen=True)
class Conflict:
    endpoint: Endpoint
    meeting: Meeting


@dataclass(frozen=True)
class Overflow:
    """Why a node has no room: from `window.starts_at` the meetings and checks in `holders`
    fill it (with the new meeting's `what`: its session, rehearsal or a check)."""

    node: McuNode
    window: Window
    what: str  # HoldKind of the new meeting's load that does not fit
    holders: list[Load]


@dataclass
class Plan:
    """The outcome for one meeting: a node (or none), and what stands in the way."""

    node: McuNode | None = None
    revocations: list[Meeting] = field(default_factory=list)
    blocking_conflicts: list[Conflict] = field(default_factory=list)
    full: bool = False  # no node has room, even with revocations
    # What the meeting would hold on the chosen node: its windows and its placed checks.
    loads: list[Load] = field(default_factory=list)
    # When full: on each node, what fills it.
    overflows: list[Overflow] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return self.node is not None and not self.blocking_conflicts


def endpoint_count(meeting: Meeting) -> int:
    return 1 + meeting.participants.exclude(pk=meeting.host_endpoint_id).count()


def invited_ids(meeting: Meeting, participants: Iterable[int] | None = None) -> list[int]:
    """The host endpoint and every participant (`participants`, when the caller has read
    them), once each."""
    if participants is None:
        participants = meeting.participants.values_list("pk", flat=True)
    return list(dict.fromkeys([meeting.host_endpoint_id, *participants]))


def hardware_endpoints(meeting: Meeting, ids: Iterable[int] | None = None
                       ) -> QuerySet[Endpoint]:
    """The invited endpoints (host and participants) with a hardware terminal the MCU can
    call or recognise: a VCS with its IP address or a SIP account (R24, KH Đ11.7)."""
    ids = set(ids if ids is not None else invited_ids(meeting))
    return (Endpoint.objects.filter(pk__in=ids, terminal_kind=TerminalKind.VCS)
            .filter(Q(vcs_ip__isnull=False) | Q(sip_uri__isnull=False)))


def needs_mixer(meeting: Meeting, ids: Iterable[int] | None = None) -> bool:
    """A meeting with hardware terminals or an upstream link needs a mixer of its node: the
    composed picture and mixed sound that SIP legs receive (R24, R25)."""
    return bool(meeting.upstream_uri) or hardware_endpoints(meeting, ids).exists()


def takes_sip(node: McuNode) -> bool:
    """Only a node with a SIP address calls terminals, so only its mixers are counted."""
    return bool(node.sip_address)


def rank(meeting: Meeting, rulebook: Rulebook) -> int | None:
    """The meeting's priority by the level of its host (KH Đ12.4b); a meeting hosted upstream
    — the Government's or a national body's, carried through the provincial MCU — outranks
    every provincial one (R23: KH Đ4.1, Đ5.4 with Đ12.4b). None for a host on a level the
    rulebook leaves unranked (`priority.unranked_levels`: KH Đ3.2đ)."""
    if meeting.upstream_uri:
        return rulebook.upstream_rank
    return rulebook.priority_rank_for_kind(meeting.host_agency.kind)


def outranks(meeting: Meeting, other: Meeting, rulebook: Rulebook) -> bool:
    """Whether `meeting` is of a higher-level body than `other` (KH Đ12.4b "cơ quan nhà nước
    cấp cao hơn"). An unranked host is neither higher nor lower than a ranked one; only a
    meeting hosted upstream stands above it."""
    mine, theirs = rank(meeting, rulebook), rank(other, rulebook)
    if mine is None:
        return False
    if theirs is None:
        return bool(meeting.upstream_uri) and not other.upstream_uri
    return theirs < mine


def overlapping(windows: Sequence[Window]) -> Q:
    """Bookings that overlap any of the windows. No booking holds longer than
    `MAX_BOOKING_HOLD`, so the scan of the (…, starts_at) index starts there rather than at
    the beginning of time: the query stays as fast with years of bookings as with a week."""
    overlap = Q(pk__in=[])
    for window in windows:
        overlap |= Q(
            starts_at__gt=window.starts_at - MAX_BOOKING_HOLD,
            starts_at__lt=window.ends_at,
            ends_at__gt=window.starts_at,
        )
    if not windows:
        return overlap
    # The span of all the windows as well: SQLite takes no index range from an OR of ranges,
    # and then read every node row of the table (`endpoint_id IS NULL` in the endpoints' index)
    # to find those of a few hours (EXPLAIN QUERY PLAN; 15 ms at 10,000 meetings, growing
    # with the bookings). With the span it reads the span only, whichever index it picks.
    return overlap & Q(
        starts_at__gt=min(w.starts_at for w in windows) - MAX_BOOKING_HOLD,
        starts_at__lt=max(w.ends_at for w in windows),
    )


def endpoint_conflicts(meeting: Meeting, ids: Iterable[int] | None = None) -> list[Conflict]:
    """Other held meetings that already have one of this meeting's endpoints at that time."""
    windows = [w for _, w in meeting_windows(meeting)]
    endpoint_ids = list(ids if ids is not None else invited_ids(meeting))
    held = (
        Booking.objects.filter(holds=True, endpoint_id__in=endpoint_ids)
        .filter(overlapping(windows))
        .exclude(meeting=meeting)
    )
    # Usually there is none: ask with a narrow query first, and read the endpoints and the
    # meetings (with every column, for the refusal and the priority) only when there are some.
    if not held.values_list("pk")[:1]:
        return []
    rows = held.select_related("endpoint", "meeting__host_agency").order_by(
        "meeting__registered_at")
    seen: set[tuple[int | None, int]] = set()
    conflicts = []
    for row in rows:
        key = (row.endpoint_id, row.meeting_id)
        if key not in seen and row.endpoint is not None:
            seen.add(key)
            conflicts.append(Conflict(row.endpoint, row.meeting))
    return conflicts


def node_loads(node: McuNode, windows: Sequence[Window], exclude_meeting: int) -> list[Load]:
    rows = (
        Booking.objects.filter(node=node, endpoint__isnull=True, holds=True)
        .filter(overlapping(windows))
        .exclude(meeting_id=exclude_meeting)
        .values_list("meeting_id", "starts_at", "ends_at", "endpoints_count", "needs_mixer",
                     "kind")
    )
    return [Load(m, Window(s, e), n, int(x), k) for m, s, e, n, x, k in rows]


def loads_by_node(nodes: Sequence[McuNode], windows: Sequence[Window],
                  exclude_meeting: int) -> dict[int, list[Load]]:
    """`node_loads` of several nodes in one query (the node is the index's first column)."""
    found: dict[int, list[Load]] = {node.pk: [] for node in nodes}
    rows = (
        Booking.objects.filter(node__in=[node.pk for node in nodes], endpoint__isnull=True,
                               holds=True)
        .filter(overlapping(windows))
        .exclude(meeting_id=exclude_meeting)
        .values_list("node_id", "meeting_id", "starts_at", "ends_at", "endpoints_count",
                     "needs_mixer", "kind")
    )
    for node_id, m, s, e, n, x, k in rows:
        found[node_id].append(Load(m, Window(s, e), n, int(x), k))
    return found


def _revocable(meeting: Meeting, candidate: Meeting, rulebook: Rulebook) -> bool:
    """KH Đ12.4b: only accepted meetings of lower-level bodies give way (not live ones)."""
    rule = rulebook.priority
    return (
        rule.revocation
        and rule.higher_level_first
        and candidate.status == MeetingStatus.ACCEPTED
        and outranks(meeting, candidate, rulebook)
    )


def _latest_first(meetings: Iterable[Meeting]) -> list[Meeting]:
    return sorted(meetings, key=lambda m: (m.registered_at, m.pk), reverse=True)


def plan(meeting: Meeting, rulebook: Rulebook, nodes: Sequence[McuNode] | None = None,
         ids: Sequence[int] | None = None, *, mixer: bool | None = None,
         conflicts: list[Conflict] | None = None) -> Plan:
    """Pick the node needing the fewest revocations (none, ideally), the least loaded first.
    On it the meeting holds its windows and each technical check, placed as late as the
    rulebook allows and earlier when the node is busy then.

    A caller that tries many times for the same meeting (`selectors.free_slots`) reads once
    what does not change with the time and gives it: the nodes, the endpoints, whether a
    mixer is needed; and `conflicts` when it has already found them for this time (an empty
    list: every endpoint is free then)."""
    windows = meeting_windows(meeting)
    slots = check_slots(meeting, rulebook)
    # First read only what the meeting holds with each check at its latest place: it is
    # exact when everything fits there, the usual case. Only when it does not is the whole
    # range a check may move over read (up to `earliest_hours_before` earlier).
    narrow = [*(w for _, w in windows), *(slot.latest for slot in slots)]
    latest_only = [CheckSlot(slot.kind, slot.latest_end, slot.latest.starts_at, slot.length)
                   for slot in slots]
    reading = node_windows(meeting, rulebook)
    # Read once (or given by the caller): the count, the mixer and the conflicts use it.
    ids = list(ids) if ids is not None else invited_ids(meeting)
    count = len(ids)
    if mixer is None:
        mixer = needs_mixer(meeting, ids)
    if conflicts is None:
        conflicts = endpoint_conflicts(meeting, ids)
    forced = [c.meeting for c in conflicts if _revocable(meeting, c.meeting, rulebook)]
    blocking = [c for c in conflicts if not _revocable(meeting, c.meeting, rulebook)]
    forced_ids = {m.pk for m in forced}
    best: tuple[tuple[int, int, int, int], McuNode, list[Meeting], list[Load]] | None = None
    overflows: list[Overflow] = []
    candidates = list(nodes if nodes is not None else McuNode.objects.filter(is_active=True))
    held = loads_by_node(candidates, narrow, meeting.pk or 0)
    for node in candidates:
        template = Load(meeting.pk or 0, windows[-1][1], count, int(mixer and takes_sip(node)))
        existing = [load for load in held[node.pk] if load.meeting_id not in forced_ids]
        new_loads = _fit(existing, windows, latest_only, template, _caps(node, rulebook))
        outcome: tuple[list[Meeting], list[Load]] | None = (
            ([], new_loads) if new_loads is not None else None)
        if outcome is None:
            existing = [
                load
                for load in node_loads(node, reading, meeting.pk or 0)
                if load.meeting_id not in forced_ids
            ]
            outcome = _node_revocations(meeting, node, existing, windows, slots, template,
                                        rulebook)
        if outcome is None:
            overflows.append(_overflow(node, existing, windows, slots, template, rulebook))
            continue
        extra, new = outcome
        top = peak([*existing, *new], [load.window for load in new])
        # A meeting with terminals goes to a node that can call them, when one has room.
        no_sip = int(mixer and not takes_sip(node))
        score = (no_sip, len(extra), top.endpoints * 1000 // node.max_endpoints, node.pk)
        if best is None or score < best[0]:
            best = (score, node, extra, new)
    if best is None:
        return Plan(None, _latest_first(set(forced)), blocking, full=True, overflows=overflows)
    revocations = _latest_first({m.pk: m for m in [*forced, *best[2]]}.values())
    return Plan(best[1], revocations, blocking, loads=best[3])


def _caps(node: McuNode, rulebook: Rulebook) -> Caps:
    cap = rulebook.capacity.cap_percent
    return Caps(node.meeting_cap(cap), node.endpoint_cap(cap),
                node.mixer_cap(cap) if takes_sip(node) else None)


def _as(template: Load, kind: str, window: Window) -> Load:
    return Load(template.meeting_id, window, template.endpoints, template.mixers, kind)


def _fit(existing: list[Load], windows: Sequence[tuple[str, Window]],
         slots: Sequence[CheckSlot], template: Load, caps: Caps) -> list[Load] | None:
    """The meeting's loads on a node holding `existing`: its windows, then each check at the
    latest place where it fits; None if a window or a check finds no room."""
    new = [_as(template, kind, window) for kind, window in windows]
    if first_overflow(existing, new, caps) is not None:
        return None
    for slot in slots:
        placed = place_check([*existing, *new], _as(template, HoldKind.CHECK, slot.latest),
                             slot.latest_end, slot.earliest_start, slot.length, caps)
        if placed is None:
            return None
        new.append(placed)
    return new


def _overflow(node: McuNode, existing: list[Load], windows: Sequence[tuple[str, Window]],
              slots: Sequence[CheckSlot], template: Load, rulebook: Rulebook) -> Overflow:
    """What fills the node: the first stretch of a window where the meeting passes a cap, or
    else the latest place of the first check that found no room anywhere."""
    caps = _caps(node, rulebook)
    new = [_as(template, kind, window) for kind, window in windows]
    for load in new:
        over = first_overflow(existing, [load], caps)
        if over is not None:
            return Overflow(node, over, load.kind, holders_at(existing, over.starts_at))
    for slot in slots:
        check = _as(template, HoldKind.CHECK, slot.latest)
        over = first_overflow([*existing, *new], [check], caps) or slot.latest
        return Overflow(node, over, HoldKind.CHECK, holders_at(existing, over.starts_at))
    # Each window fits alone, not all together (their own overlap): name the first one.
    return Overflow(node, new[0].window, new[0].kind, holders_at(existing, new[0].window.starts_at))


def _node_revocations(
    meeting: Meeting, node: McuNode, existing: list[Load], windows: Sequence[tuple[str, Window]],
    slots: Sequence[CheckSlot], template: Load, rulebook: Rulebook,
) -> tuple[list[Meeting], list[Load]] | None:
    """([], loads) if it fits; else the lower-level meetings to revoke, latest-registered
    first and only as many as needed (KH Đ12.4b), with the loads it would then hold; None if
    even that would not make room."""
    caps = _caps(node, rulebook)
    new = _fit(existing, windows, slots, template, caps)
    if new is not None:
        return [], new
    holder_ids = {load.meeting_id for load in existing}
    holders = Meeting.objects.filter(pk__in=holder_ids, status__in=HOLDING_STATUSES)
    candidates = _latest_first(
        [m for m in holders.select_related("host_agency") if _revocable(meeting, m, rulebook)]
    )
    chosen: list[Meeting] = []
    remaining = list(existing)
    for candidate in candidates:
        chosen.append(candidate)
        remaining = [load for load in remaining if load.meeting_id != candidate.pk]
        new = _fit(remaining, windows, slots, template, caps)
        if new is not None:
            return chosen, new
    return None
