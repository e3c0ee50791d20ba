"""The name suggested for a new endpoint, or why there is none (KH Đ6.4, Đ8; R3, R4).

A full quota leaves no place for another room: the suggester then proposes no endpoint name
and says why, citing the clause of the quota (KH Đ8 khoản 2 for a department, khoản 3 for a
district), with the name of the room's next device instead (KH Đ6.4).
"""

from __future__ import annotations

from dataclasses import dataclass

from diemcau.core.errors import RuleViolation
from diemcau.rulebooks import Rulebook

from .models import Agency
from .selectors import suggested_device_name, suggested_endpoint_name
from .services.endpoints import quota_refusal


@dataclass(frozen=True)
class NameSuggestion:
    name: str | None  # None: no new endpoint may be registered for the agency
    refusal: RuleViolation | None = None  # the quota's refusal, when full
    device_name: str | None = None  # the next device of the agency's room, when full


def name_suggestion(
    agency: Agency, rulebook: Rulebook, exclude_pk: int | None = None
) -> NameSuggestion:
    """The suggestion for a new endpoint of `agency` (or an edited one, `exclude_pk`)."""
    refusal = None if exclude_pk is not None else quota_refusal(agency, rulebook)
    if refusal is None:
        return NameSuggestion(suggested_endpoint_name(agency, rulebook, exclude_pk))
    room = agency.endpoints.exclude(status="rejected").order_by("pk").first()
    device = suggested_device_name(room, rulebook) if room is not None else None
    return NameSuggestion(None, refusal, device)
