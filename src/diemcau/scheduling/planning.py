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

from .capacity import Load, Window, fits, peak
from .choices import HOLDING_STATUSES, MeetingStatus
from .models import Booking, Meeting
from .windows import meeting_windows, node_windows

# A meeting lasts at most MAX_MEETING_LENGTH (registration refuses longer ones); with the
# technical check before it, and a rehearsal merged into the same hold, no booking is longer.
MAX_MEETING_LENGTH = dt.timedelta(hours=12)
MAX_BOOKING_HOLD = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Conflict:
    endpoint: Endpoint
    meeting: Meeting


@dataclass
class Plan:
    """The outcome for one meeting: a node (or none), and what stands in the way."""

    node: McuNode | None = None
    revocations: list[Meeting] = field(default_factory=list)
    blocking_conflicts: list[Conflict] = field(default_factory=list)
    full: bool = False  # no node has room, even with revocations

    @property
    def possible(self) -> bool:
        return self.node is not None and not self.blocking_conflicts


def endpoint_count(meeting: Meeting) -> int:
    return 1 + meeting.participants.exclude(pk=meeting.host_endpoint_id).count()


def hardware_endpoints(meeting: Meeting) -> QuerySet[Endpoint]:
    """The invited endpoints (host and participants) with a hardware terminal the MCU can
    call or recognise: a VCS with its IP address or a SIP account (R24, KH Đ11.7)."""
    ids = {meeting.host_endpoint_id, *meeting.participants.values_list("pk", flat=True)}
    return (Endpoint.objects.filter(pk__in=ids, terminal_kind=TerminalKind.VCS)
            .filter(Q(vcs_ip__isnull=False) | Q(sip_uri__isnull=False)))


def needs_mixer(meeting: Meeting) -> bool:
    """A meeting with hardware terminals or an upstream link needs a mixer of its node: the
    composed picture and mixed sound that SIP legs receive (R24, R25)."""
    return bool(meeting.upstream_uri) or hardware_endpoints(meeting).exists()


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
    return overlap


def endpoint_conflicts(meeting: Meeting) -> list[Conflict]:
    """Other held meetings that already have one of this meeting's endpoints at that time."""
    windows = [w for _, w in meeting_windows(meeting)]
    endpoint_ids = [meeting.host_endpoint_id, *meeting.participants.values_list("pk", flat=True)]
    rows = (
        Booking.objects.filter(holds=True, endpoint_id__in=endpoint_ids)
        .filter(overlapping(windows))
        .exclude(meeting=meeting)
        .select_related("endpoint", "meeting__host_agency")
        .order_by("meeting__registered_at")
    )
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
        .values_list("meeting_id", "starts_at", "ends_at", "endpoints_count", "needs_mixer")
    )
    return [Load(m, Window(s, e), n, int(x)) for m, s, e, n, x in rows]


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


def plan(meeting: Meeting, rulebook: Rulebook, nodes: Sequence[McuNode] | None = None) -> Plan:
    """Pick the node needing the fewest revocations (none, ideally), the least loaded first."""
    windows = node_windows(meeting, rulebook)
    count, mixer = endpoint_count(meeting), needs_mixer(meeting)
    conflicts = endpoint_conflicts(meeting)
    forced = [c.meeting for c in conflicts if _revocable(meeting, c.meeting, rulebook)]
    blocking = [c for c in conflicts if not _revocable(meeting, c.meeting, rulebook)]
    forced_ids = {m.pk for m in forced}
    best: tuple[tuple[int, int, int, int], McuNode, list[Meeting]] | None = None
    for node in nodes if nodes is not None else McuNode.objects.filter(is_active=True):
        existing = [
            load
            for load in node_loads(node, windows, meeting.pk or 0)
            if load.meeting_id not in forced_ids
        ]
        new = [Load(meeting.pk or 0, w, count, int(mixer and takes_sip(node))) for w in windows]
        extra = _node_revocations(meeting, node, existing, new, rulebook)
        if extra is None:
            continue
        top = peak([*existing, *new], windows)
        # A meeting with terminals goes to a node that can call them, when one has room.
        no_sip = int(mixer and not takes_sip(node))
        score = (no_sip, len(extra), top.endpoints * 1000 // node.max_endpoints, node.pk)
        if best is None or score < best[0]:
            best = (score, node, extra)
    if best is None:
        return Plan(None, _latest_first(set(forced)), blocking, full=True)
    revocations = _latest_first({m.pk: m for m in [*forced, *best[2]]}.values())
    return Plan(best[1], revocations, blocking)


def _node_revocations(
    meeting: Meeting, node: McuNode, existing: list[Load], new: list[Load], rulebook: Rulebook
) -> list[Meeting] | None:
    """[] if it fits; else the lower-level meetings to revoke, latest-registered first and only
    as many as needed (KH Đ12.4b); None if even that would not make room."""
    cap = rulebook.capacity.cap_percent
    meeting_cap, endpoint_cap = node.meeting_cap(cap), node.endpoint_cap(cap)
    mixer_cap = node.mixer_cap(cap) if takes_sip(node) else None
    if fits(existing, new, meeting_cap, endpoint_cap, mixer_cap):
        return []
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
        if fits(remaining, new, meeting_cap, endpoint_cap, mixer_cap):
            return chosen
    return None
