"""What a connected endpoint reports (R18, ĐN Đ12.4, KH Đ14.4): its attendee count and its
line quality, shown on the consoles."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User

from .. import broadcast
from ..models import Participation, Quality
from .participations import snapshot


def report_attendees(participation: Participation, count: int, *,
                     actor: User | None = None) -> Participation:
    """R18 (ĐN Đ12.4, KH Đ14.4): each endpoint gives the host its attendee count."""
    if count < 0 or count > 10000:
        raise InvalidInput({"attendee_count": [_("Enter the number of people in the room.")]})
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            raise InvalidTransition(_("This connection is no longer valid. Join again."))
        before = snapshot(current)
        current.attendee_count, current.attendee_count_at = count, timezone.now()
        current.save(update_fields=["attendee_count", "attendee_count_at"])
        audit.record("live.attendees", current, actor=actor, before=before,
                     after=snapshot(current))
        # The count is for the host's console (R18); participant pages do not show it.
        broadcast.meeting_changed(current.meeting_id, participants=False)
    return current


# Round-trip time and loss that make a line fair or poor for a video conference.
FAIR_RTT_MS, POOR_RTT_MS = 250, 500
FAIR_LOSS, POOR_LOSS = 2.0, 8.0


def quality_level(rtt_ms: int | None, loss_percent: float | None) -> str:
    rtt, loss = rtt_ms or 0, loss_percent or 0.0
    if rtt >= POOR_RTT_MS or loss >= POOR_LOSS:
        return Quality.POOR
    if rtt >= FAIR_RTT_MS or loss >= FAIR_LOSS:
        return Quality.FAIR
    return Quality.GOOD


def report_quality(
    participation: Participation,
    *,
    rtt_ms: int | None,
    loss_percent: float | None,
    bitrate_kbps: int | None,
) -> Participation:
    """The endpoint's own connection measurements, every few seconds. Not an audited change:
    it is telemetry; only a change of level is written to the audit log, so an auditor sees
    when a line became poor without thousands of samples (a first sample that finds the line
    good is not one).

    A sample that keeps the line's level is one UPDATE of the open row, in autocommit: no
    row is locked beyond that statement and the audit chain is not touched, so hundreds of
    endpoints reporting every 5 s never queue behind a grant or a host's action on the same
    row. Only a change of level takes the row's lock, with its audit event."""
    level = quality_level(rtt_ms, loss_percent)
    values = {
        "rtt_ms": None if rtt_ms is None else max(0, int(rtt_ms)),
        "loss_percent": None if loss_percent is None else max(0.0, float(loss_percent)),
        "bitrate_kbps": None if bitrate_kbps is None else max(0, int(bitrate_kbps)),
        "quality": level,
        "quality_at": timezone.now(),
    }
    same_level = Participation.objects.filter(
        pk=participation.pk, left_at__isnull=True, quality=level
    )
    if same_level.update(**values):
        for name, value in values.items():
            setattr(participation, name, value)
        broadcast.meeting_changed(participation.meeting_id, participants=False, telemetry=True)
        return participation
    with transaction.atomic():
        current = Participation.objects.select_for_update().get(pk=participation.pk)
        if current.left_at is not None:
            return current
        # A line that starts good is not news: an auditor needs the moments a line became
        # fair or poor, and came back.
        changed = current.quality != level and not (
            current.quality == Quality.UNKNOWN and level == Quality.GOOD
        )
        before = audit.snapshot(current, ["quality"])
        for name, value in values.items():
            setattr(current, name, value)
        current.save(update_fields=list(values))
        if changed:
            audit.record("live.quality", current, actor=None, before=before,
                         after=audit.snapshot(current, ["quality", "rtt_ms", "loss_percent"]))
        # A change of level is news for the console (and audited): it is shown at once.
        broadcast.meeting_changed(current.meeting_id, participants=False, telemetry=not changed)
    return current
