"""Read-side queries of the directory shared by services, pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.rulebooks import Rulebook

from . import naming
from .models import Agency, Device, Endpoint


def other_endpoints(exclude_pk: int | None) -> QuerySet[Endpoint]:
    """All endpoints but the one being edited (none excluded for a new one)."""
    endpoints = Endpoint.objects.all()
    return endpoints if exclude_pk is None else endpoints.exclude(pk=exclude_pk)


def _taken_names(base: str, exclude_pk: int | None) -> set[str]:
    """Names of endpoints and devices that start with `base` (both share one namespace)."""
    taken = set(
        other_endpoints(exclude_pk).filter(name__startswith=base).values_list("name", flat=True)
    )
    taken.update(Device.objects.filter(name__startswith=base).values_list("name", flat=True))
    return taken


def suggested_endpoint_name(
    agency: Agency, rulebook: Rulebook, exclude_pk: int | None = None
) -> str:
    """A free endpoint name for `agency` that follows the naming rule (KH Đ6.4, R3)."""
    base = naming.suggest_name(agency, rulebook, set())
    return naming.suggest_name(agency, rulebook, _taken_names(base, exclude_pk))


def suggested_device_name(endpoint: Endpoint, rulebook: Rulebook) -> str:
    """A free name for one more device of `endpoint`'s room: the room's name with the next
    number (KH Đ6.4: "UBND.Nha Trang.01; UBND.Nha Trang.02")."""
    base = naming.expected_base_name(endpoint.agency, rulebook)
    if base is None or rulebook.naming is None:
        return suggested_endpoint_name(endpoint.agency, rulebook)
    taken = _taken_names(base, None)
    return next(
        name for name in (rulebook.naming.device_name(base, i) for i in range(1, 1000))
        if name not in taken
    )
