"""Who may join a live meeting (R16). Who may control it is a rule of the meeting itself
(R17), in `diemcau.scheduling.permissions`, re-exported here for the live plane's pages."""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import Action, in_scope, role_allows, sees_whole_province
from diemcau.directory.models import Endpoint
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import (
    can_control,
    control_refusal,
    control_standing,
    controlling_agency,
    is_operator,
)

__all__ = [
    "can_control",
    "control_refusal",
    "control_standing",
    "controlling_agency",
    "is_operator",
    "joinable_endpoints",
]


def joinable_endpoints(user: User, meeting: Meeting) -> QuerySet[Endpoint]:
    """The endpoints of the meeting (host and participants) the user may connect by login:
    those of agencies in the user's scope (an operator may connect any)."""
    if not role_allows(user, Action.JOIN_MEETING):
        return Endpoint.objects.none()
    ids = set(meeting.participants.values_list("pk", flat=True))
    if meeting.host_endpoint_id:
        ids.add(meeting.host_endpoint_id)
    endpoints = Endpoint.objects.filter(pk__in=ids).select_related("agency")
    if is_operator(user) or sees_whole_province(user):
        return endpoints
    return endpoints.filter(
        pk__in=[e.pk for e in endpoints if in_scope(user, e.agency)]
    )
