"""What an accepted meeting holds — bookings of endpoints and MCU capacity, technical checks
— created on acceptance and released when it stops holding them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext as _

from diemcau.core.errors import RuleViolation
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import planning
from ..capacity import Load, Window, disjoint, fits
from ..choices import CheckStatus, HoldKind
from ..models import Booking, Meeting, TechnicalCheck
from ..windows import check_slots, meeting_windows


def hold(meeting: Meeting, loads: Sequence[Load], rulebook: Rulebook,
         endpoint_ids: Sequence[int] | None = None) -> None:
    """Book what the plan placed on the node — each window and each technical check, one row
    apiece — and each endpoint's windows; schedule the technical checks, each due at the end
    of its place on the node."""
    node = meeting.node
    assert node is not None
    rows = disjoint(loads)
    for load in rows:
        if load.window.ends_at - load.window.starts_at > planning.MAX_BOOKING_HOLD:
            # The overlap search looks back MAX_BOOKING_HOLD: a longer row would be missed.
            raise ValueError(f"a hold of {load.window} is longer than MAX_BOOKING_HOLD")
    endpoints = planning.invited_ids(meeting) if endpoint_ids is None else endpoint_ids
    # The node's rows and the endpoints' rows in one statement.
    Booking.objects.bulk_create([
        *(
            Booking(
                meeting=meeting,
                kind=load.kind,
                node=node,
                starts_at=load.window.starts_at,
                ends_at=load.window.ends_at,
                endpoints_count=load.endpoints,
                needs_mixer=bool(load.mixers),
            )
            for load in rows
        ),
        *(
            Booking(
                meeting=meeting,
                kind=kind,
                node=node,
                endpoint_id=endpoint,
                starts_at=window.starts_at,
                ends_at=window.ends_at,
                endpoints_count=1,
            )
            for kind, window in meeting_windows(meeting)
            for endpoint in endpoints
        ),
    ])
    # R15: the check before the rehearsal and the session ends at least N hours before it
    # (ĐN Đ11.2b, KH Đ13.2b); `plan` placed each one, in the order of `check_slots`. A meeting
    # registered less than N hours ahead (an emergency, KH Đ13.2a) has its check due when it
    # arrived, never before.
    placed = [load for load in loads if load.kind == HoldKind.CHECK]
    checks = [
        TechnicalCheck(meeting=meeting, endpoint_id=e, kind=slot.kind,
                       due_at=_never_before_registration(meeting, load.window.ends_at))
        for slot, load in zip(check_slots(meeting, rulebook), placed, strict=True)
        for e in endpoints
    ]
    TechnicalCheck.objects.bulk_create(checks)


def release(meeting: Meeting) -> None:
    """Free the endpoints and the capacity; drop checks not yet done."""
    meeting.bookings.filter(holds=True).update(holds=False)
    meeting.checks.filter(status=CheckStatus.SCHEDULED).delete()


def hold_mixer(meeting: Meeting) -> None:
    """An accepted meeting that comes to need a mixer (an upstream link set late) takes one
    of its node's, under the capacity locks, or the change is refused (KH Đ12.4a). Its rank
    is not weighed again: nothing is revoked for it after its acceptance."""
    from .approval import lock_capacity

    node = meeting.node
    if node is None or not planning.takes_sip(node):
        return
    rows = meeting.bookings.filter(holds=True, endpoint__isnull=True, node=node)
    if not rows.exists() or rows.filter(needs_mixer=True).exists():
        return
    lock_capacity(meeting)
    rulebook = active_rulebook()
    windows = [Window(b.starts_at, b.ends_at) for b in rows]
    existing = planning.node_loads(node, windows, meeting.pk)
    new = [Load(meeting.pk, w, 0, 1) for w in windows]
    cap = rulebook.capacity.cap_percent
    if not fits(existing, new, 10**9, 10**9, node.mixer_cap(cap)):
        raise RuleViolation(
            code="mcu_mixers_full",
            article=rulebook.cite(rulebook.capacity.article),
            message=_("The MCU node %(node)s has no mixer free at that time within "
                      "%(cap)s%% of its %(max)s mixers.")
            % {"node": node.name, "cap": cap, "max": node.max_mixers},
            field="upstream_uri",
        )
    rows.update(needs_mixer=True)


def _never_before_registration(meeting: Meeting, due: dt.datetime) -> dt.datetime:
    if meeting.registered_at is None:
        return due
    return max(due, meeting.registered_at)
