"""What an accepted meeting holds — bookings of endpoints and MCU capacity, technical checks
— created on acceptance and released when it stops holding them."""

from __future__ import annotations

from django.utils.translation import gettext as _

from diemcau.core.errors import RuleViolation
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import planning
from ..capacity import Load, Window, fits
from ..choices import CheckStatus, WindowKind
from ..models import Booking, Meeting, TechnicalCheck
from ..windows import check_due_at, meeting_windows, node_windows


def hold(meeting: Meeting, endpoints_count: int, rulebook: Rulebook, *,
         needs_mixer: bool = False) -> None:
    """Book the node windows and each endpoint's windows; schedule the technical checks."""
    assert meeting.node is not None
    for window in node_windows(meeting, rulebook):
        Booking.objects.create(
            meeting=meeting,
            kind=WindowKind.SESSION,
            node=meeting.node,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            endpoints_count=endpoints_count,
            needs_mixer=needs_mixer and planning.takes_sip(meeting.node),
        )
    endpoints = [meeting.host_endpoint, *meeting.participants.all()]
    Booking.objects.bulk_create(
        Booking(
            meeting=meeting,
            kind=kind,
            node=meeting.node,
            endpoint=endpoint,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            endpoints_count=1,
        )
        for kind, window in meeting_windows(meeting)
        for endpoint in endpoints
    )
    # R15: at least N hours before the rehearsal and the session (ĐN Đ11.2b, KH Đ13.2b).
    checks = []
    for kind, window in meeting_windows(meeting):
        due = check_due_at(rulebook, kind, window.starts_at)
        if due is not None and meeting.registered_at is not None:
            # A meeting registered less than N hours ahead (an emergency, KH Đ13.2a) has its
            # check due when it arrived, never before.
            due = max(due, meeting.registered_at)
        if due is not None:
            checks += [
                TechnicalCheck(meeting=meeting, endpoint=e, kind=kind, due_at=due)
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
