"""Who sees which stored report (R22): the reader of a report's scope. Province-wide roles
see every report; an office or a technician the reports on its agency and, where the
rulebook delegates, on the units under it (`scope.ReportScope.allowed_for`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from diemcau.core.models import User
from diemcau.core.permissions import sees_whole_province
from diemcau.rulebooks import active_rulebook

from .models import Report
from .scope import may_view_reports


def reports_visible_to(user: User) -> QuerySet[Report]:
    if not may_view_reports(user):
        return Report.objects.none()
    if sees_whole_province(user):
        return Report.objects.all()
    own = user.agency
    if own is None:
        return Report.objects.none()
    if own.kind in active_rulebook().scope.subordinates_for_kinds:
        return Report.objects.filter(agency__path__startswith=own.path)
    return Report.objects.filter(Q(agency=own) & Q(with_units=False))
