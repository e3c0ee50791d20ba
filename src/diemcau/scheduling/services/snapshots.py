"""What the audit log keeps of a meeting before and after each change (R22)."""

from __future__ import annotations

from diemcau.core import audit

from ..models import Meeting

MEETING_FIELDS = [
    "title",
    "meeting_type",
    "host_agency_id",
    "host_endpoint_id",
    "rehearsal_starts_at",
    "rehearsal_ends_at",
    "starts_at",
    "ends_at",
    "place",
    "contact_name",
    "contact_phone",
    "recording_requested",
    "support_notes",
    "urgency",
    "emergency_reason",
    "classification",
    "status",
    "registered_at",
    "counted_from",
    "reply_due_at",
    "node_id",
    "upstream_uri",
    "decision_reason",
    "decision_reason_kind",
    "decision_reason_params",
    "proposed_starts_at",
    "proposed_ends_at",
    "series_id",
]


def meeting_snapshot(meeting: Meeting, participants: list[int] | None = None) -> dict[str, object]:
    """`participants`: the meeting's participant endpoint ids, when the caller has read them."""
    data = audit.snapshot(meeting, MEETING_FIELDS)
    data["participants"] = sorted(
        meeting.participants.values_list("pk", flat=True) if participants is None
        else participants)
    return data
