"""Scoped querysets of the desk, built on `diemcau.core.permissions`: pages, the API and the
exports all start here, so a list never shows what a detail page would refuse."""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import Action, is_operator, restrict, role_allows

from .models import Device, DutyShift, IncidentRoute, LineProvider, MaintenancePlan, TrainingTask


def devices_visible_to(user: User) -> QuerySet[Device]:
    return restrict(Device.objects.all(), user, Action.VIEW_EQUIPMENT, "endpoint__agency__")


def plans_visible_to(user: User) -> QuerySet[MaintenancePlan]:
    return restrict(MaintenancePlan.objects.all(), user, Action.VIEW_EQUIPMENT, "agency__")


def training_visible_to(user: User) -> QuerySet[TrainingTask]:
    return restrict(TrainingTask.objects.all(), user, Action.VIEW_CONTACTS,
                    "contact__endpoint__agency__")


def providers_visible_to(user: User) -> QuerySet[LineProvider]:
    """Providers and their contacts are the operator's working list."""
    if not is_operator(user):
        return LineProvider.objects.none()
    return LineProvider.objects.all()


def routes_visible_to(user: User) -> QuerySet[IncidentRoute]:
    if not role_allows(user, Action.MANAGE_INCIDENT):
        return IncidentRoute.objects.none()
    return IncidentRoute.objects.all()


def shifts_visible_to(user: User) -> QuerySet[DutyShift]:
    """Who is on duty is the operators' roster."""
    if not is_operator(user):
        return DutyShift.objects.none()
    return DutyShift.objects.all()
