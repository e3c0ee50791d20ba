"""What an accepted meeting holds — bookings of endpoints and MCU capacity, technical checks
— created on acceptance and released when it stops holding them."""

from __future__ import annotations

from diemcau.rulebooks import Rulebook

from ..choices import CheckStatus, WindowKind
from ..models import Booking, Meeting, TechnicalCheck
from ..windows import check_due_at, meeting_windows, node_windows


def hold(meeting: Meeting, endpoints_count: int, rulebook: Rulebook) -> None:
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
