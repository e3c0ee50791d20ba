"""Read-side queries of the directory shared by services, pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.rulebooks import Rulebook

from . import naming
from .models import Agency, Endpoint


def other_endpoints(exclude_pk: int | None) -> QuerySet[Endpoint]:
    """All endpoints but the one being edited (none excluded for a new one)."""
    endpoints = Endpoint.objects.all()
    return endpoints if exclude_pk is None else endpoints.exclude(pk=exclude_pk)


def suggested_endpoint_name(
    agency: Agency, rulebook: Rulebook, exclude_pk: int | None = None
) -> str:
    """A free endpoint name for `agency` that follows the naming rule (KH Đ6.4, R3)."""
    base = naming.suggest_name(agency, rulebook, set())
    taken = set(
        other_endpoints(exclude_pk).filter(name__startswith=base).values_list("name", flat=True)
    )
    return naming.suggest_name(agency, rulebook, taken)
