"""Read-side queries for meetings: the operator queue, free slots, busy endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from diemcau.core import calendar
from diemcau.directory.models import Endpoint
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook

from . import planning
from .capacity import Window
from .choices import MeetingStatus, Urgency
from .models import Booking, Meeting

SLOT_STEP = dt.timedelta(minutes=30)
SLOT_HORIZON = dt.timedelta(days=7)


def operator_queue(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Pending registrations: emergencies first (ĐN Đ10.3, KH Đ12.3), then by reply deadline,
    then in order of registration."""
    first = Case(
        When(urgency=Urgency.EMERGENCY, then=Value(0)),
        When(urgency=Urgency.URGENT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        meetings.filter(status=MeetingStatus.SUBMITTED)
        .annotate(urgency_order=first)
        .order_by("urgency_order", "reply_due_at", "registered_at")
        .select_related("host_agency", "host_endpoint")
    )


def busy_endpoints(
    endpoints: Sequence[Endpoint], windows: Sequence[Window], exclude_meeting: int | None = None
) -> dict[int, list[Booking]]:
    """For the registration form: which of these endpoints are held at those times."""
    busy: dict[int, list[Booking]] = {}
    if not windows:
        return busy
    overlap = planning.overlapping(windows)
    rows = (
        Booking.objects.filter(holds=True, endpoint__in=endpoints)
        .filter(overlap)
        .select_related("meeting")
    )
    if exclude_meeting:
        rows = rows.exclude(meeting_id=exclude_meeting)
    for row in rows:
        assert row.endpoint_id is not None
        busy.setdefault(row.endpoint_id, []).append(row)
    return busy


def free_slots(meeting: Meeting, count: int = 3) -> list[dt.datetime]:
    """Start times in the next days, within office hours, at which this meeting — same length,
    same endpoints — would fit without revoking anything."""
    rulebook = active_rulebook()
    work = calendar.WorkCalendar.for_rulebook(rulebook)
    length = meeting.ends_at - meeting.starts_at
    candidate = work.next_office_time(max(meeting.starts_at, timezone.now()))
    candidate = candidate.replace(minute=(candidate.minute // 30) * 30, second=0, microsecond=0)
    horizon = candidate + SLOT_HORIZON
    found: list[dt.datetime] = []
    # The same meeting at another time: its host, its endpoints and its upstream link (which
    # needs a mixer of the node, R24).
    probe = Meeting(
        pk=meeting.pk, host_agency=meeting.host_agency, host_endpoint=meeting.host_endpoint,
        upstream_uri=meeting.upstream_uri,
    )
    # Read once for every candidate: the endpoints, the nodes, whether a mixer is needed, and
    # what holds the endpoints over the whole horizon. A candidate at which an endpoint is held
    # is passed over without a plan: `plan` would find the same booking and refuse it
    # (blocking, or to be revoked). So the plans that run know there is no conflict.
    ids = planning.invited_ids(probe)
    nodes = list(McuNode.objects.filter(is_active=True))
    mixer = planning.needs_mixer(probe, ids)
    held = list(
        Booking.objects.filter(holds=True, endpoint_id__in=ids)
        .filter(planning.overlapping([Window(candidate, horizon + length)]))
        .exclude(meeting_id=meeting.pk)
        .values_list("starts_at", "ends_at")
    )
    while candidate < horizon and len(found) < count:
        end = candidate + length
        if (work.is_office_time(candidate) and work.is_office_time(end)
                and not any(s < end and candidate < e for s, e in held)):
            probe.starts_at, probe.ends_at = candidate, end
            probe.rehearsal_starts_at = probe.rehearsal_ends_at = None
            plan = planning.plan(probe, rulebook, nodes, ids, mixer=mixer, conflicts=[])
            if plan.possible and not plan.revocations:
                found.append(candidate)
        candidate += SLOT_STEP
    return found


def amended_at(meeting_ids: list[int]) -> dict[int, dt.datetime]:
    """When each submitted registration was last edited before the decision (the audit log's
    `meeting.amend`), so the operator sees that the reply clock restarted and why."""
    from diemcau.core.models import AuditEvent

    found: dict[int, dt.datetime] = {}
    events = AuditEvent.objects.filter(
        action="meeting.amend", object_type="scheduling.meeting",
        object_id__in=[str(pk) for pk in meeting_ids],
    ).values_list("object_id", "at")
    for object_id, at in events:
        pk = int(object_id)
        if pk not in found or at > found[pk]:
            found[pk] = at
    return found
