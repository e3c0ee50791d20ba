"""Who sees and acts on meetings, built on `diemcau.core.permissions` (R22).

A meeting is visible to its host agency's scope and to the scope of every agency with an
invited endpoint; province-wide roles see all. Lists and detail pages use the same queryset.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import (
    Action,
    agency_scope_filter,
    can,
    in_scope,
    restrict,
    role_allows,
    sees_whole_province,
)
from diemcau.directory.models import Agency

from .choices import MeetingStatus
from .models import Incident, Meeting, TechnicalCheck


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """Meetings of the user's scope, as host or participant — less the drafts of offices
    other than the user's: a draft is the registering office's unfinished work."""
    if not role_allows(user, Action.VIEW_MEETING):
        return Meeting.objects.none()
    scope_host = agency_scope_filter(user, "host_agency__")
    scope_participant = agency_scope_filter(user, "participants__agency__")
    ids = Meeting.objects.filter(scope_host | scope_participant).values("pk")
    registrable = restrict(Agency.objects.all(), user, Action.REGISTER_MEETING, "")
    return Meeting.objects.filter(pk__in=ids).exclude(
        Q(status=MeetingStatus.DRAFT) & ~Q(host_agency__in=registrable)
    )


def can_see_code(user: User, meeting: Meeting) -> bool:
    """R13 (KH Đ12.4, Đ11.1): the code is a secret for those who join or run the meeting —
    the host agency's scope, the participants' scope and the operators — not province-wide
    readers such as auditors (R22, least privilege)."""
    if not meeting.code:
        return False
    if role_allows(user, Action.DECIDE_MEETING):
        return True
    if sees_whole_province(user):
        return False
    if in_scope(user, meeting.host_agency):
        return True
    return any(in_scope(user, e.agency) for e in meeting.participants.select_related("agency"))


def can_manage_meeting(user: User, meeting: Meeting) -> bool:
    """Change or cancel a registration: the registering office's scope, or the operator."""
    return can(user, Action.REGISTER_MEETING, meeting.host_agency)


def checks_visible_to(user: User) -> QuerySet[TechnicalCheck]:
    return TechnicalCheck.objects.filter(meeting__in=meetings_visible_to(user))


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    return Incident.objects.filter(meeting__in=meetings_visible_to(user))
