"""Who sees and acts on meetings, built on `diemcau.core.permissions` (R22).

A meeting is visible to its host agency's scope and to the scope of every agency with an
invited endpoint; province-wide roles see all. Lists and detail pages use the same queryset.
"""

from __future__ import annotations

from django.db.models import QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import Action, agency_scope_filter, can, role_allows

from .models import Incident, Meeting, TechnicalCheck


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    if not role_allows(user, Action.VIEW_MEETING):
        return Meeting.objects.none()
    scope_host = agency_scope_filter(user, "host_agency__")
    scope_participant = agency_scope_filter(user, "participants__agency__")
    ids = Meeting.objects.filter(scope_host | scope_participant).values("pk")
    return Meeting.objects.filter(pk__in=ids)


def can_manage_meeting(user: User, meeting: Meeting) -> bool:
    """Change or cancel a registration: the registering office's scope, or the operator."""
    return can(user, Action.REGISTER_MEETING, meeting.host_agency)


def checks_visible_to(user: User) -> QuerySet[TechnicalCheck]:
    return TechnicalCheck.objects.filter(meeting__in=meetings_visible_to(user))


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    return Incident.objects.filter(meeting__in=meetings_visible_to(user))
