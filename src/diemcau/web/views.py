from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from diemcau.archive import selectors as archive_selectors
from diemcau.archive.permissions import is_custodian, recordings_visible_to
from diemcau.archive.services.storage import usage as archive_usage
from diemcau.core.models import User
from diemcau.core.permissions import Action, agency_scope_filter, can, role_allows
from diemcau.directory.choices import ContactRole, EndpointStatus
from diemcau.directory.permissions import endpoints_visible_to
from diemcau.directory.rules import Stage, lacking, prefetch_readiness
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling import meeting_page
from diemcau.scheduling.choices import HOLDING_STATUSES, CheckStatus, MeetingStatus
from diemcau.scheduling.models import TechnicalCheck
from diemcau.scheduling.permissions import checks_visible_to, meetings_visible_to
from diemcau.scheduling.rules import overdue_count
from diemcau.scheduling.selectors import operator_queue
from diemcau.ui import status as statuses

LIST_LIMIT = 10
UPCOMING_DAYS = 7
CHECKS_DUE_WITHIN = dt.timedelta(hours=24)
# Meetings worth showing on the overview: what is on, or waits for a decision.
SHOWN_STATUSES = (MeetingStatus.SUBMITTED, *HOLDING_STATUSES)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    rulebook = active_rulebook()
    visible = endpoints_visible_to(user)  # type: ignore[arg-type]
    counts = dict(visible.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    total = sum(counts.values())
    by_status = [
        {
            "status": status.value,
            "label": status.label,
            "count": counts.get(status.value, 0),
            "colour": statuses.colour("endpoint", status.value),
            "percent": round(100 * counts.get(status.value, 0) / total, 1) if total else 0,
        }
        for status in EndpointStatus
    ]
    context: dict[str, Any] = {
        "total": total,
        "by_status": by_status,
        "is_operator": can(user, Action.EVALUATE_ENDPOINT),  # type: ignore[arg-type]
        "may_register": can(user, Action.REGISTER_ENDPOINT),  # type: ignore[arg-type]
        "required_contact_roles": [
            ContactRole(role).label for role in rulebook.contacts.required_roles
        ],
    }
    related = visible.select_related("agency")
    if context["is_operator"]:
        context["pending"] = related.filter(status=EndpointStatus.PENDING).order_by("created_at")
        context["awaiting_approval"] = related.filter(status=EndpointStatus.EVALUATED).order_by(
            "updated_at"
        )
    # Endpoints in use or on the way whose admission checklist misses a contact (R6) or the
    # security check (ĐN Đ8.3c): the lines the approval refuses by (`directory.rules`).
    candidates = list(prefetch_readiness(related.exclude(status=EndpointStatus.REJECTED)))
    missing = lacking(candidates, "endpoint_contacts_missing", Stage.ADMISSION, rulebook)
    context["missing_contacts"] = missing[:LIST_LIMIT]
    context["missing_contacts_count"] = len(missing)
    if rulebook.security_check.required:
        due = lacking(candidates, "endpoint_security_check_due", Stage.ADMISSION, rulebook)
        context["security_due"] = due[:LIST_LIMIT]
        context["security_due_count"] = len(due)
    context.update(meeting_overview(user))  # type: ignore[arg-type]
    if is_custodian(user):  # type: ignore[arg-type]
        # R19: recordings to hand over (ĐN Đ13.3, KH Đ15.3) and the archive's space.
        records = recordings_visible_to(user).select_related("meeting")  # type: ignore[arg-type]
        context["archive_handover"] = archive_selectors.handover_summary(
            records.filter(handed_over_at__isnull=True, purged_at__isnull=True))
        context["archive_usage"] = archive_usage()
    return render(request, "web/dashboard.html", context)


def meeting_overview(user: User) -> dict[str, Any]:
    """Today's and the coming days' meetings in the user's scope; for operators the
    registrations waiting for a decision (R9); for technicians the checks due soon (R15)."""
    now = timezone.now()
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    start_of_today = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    horizon = tomorrow + dt.timedelta(days=UPCOMING_DAYS)
    meetings = (
        meetings_visible_to(user)
        .filter(status__in=SHOWN_STATUSES)
        .select_related("host_agency", "host_endpoint")
        .order_by("starts_at")
    )
    overview: dict[str, Any] = {
        "meetings_today": list(
            meetings.filter(starts_at__lt=tomorrow, ends_at__gte=start_of_today)[:LIST_LIMIT]
        ),
        "meetings_upcoming": list(
            meetings.filter(starts_at__gte=tomorrow, starts_at__lt=horizon)[:LIST_LIMIT]
        ),
        "upcoming_days": UPCOMING_DAYS,
        "now": now,
        "may_register_meeting": can(user, Action.REGISTER_MEETING),
        "is_meeting_operator": can(user, Action.DECIDE_MEETING),
    }
    # A meeting on now has its way in ("Vào họp").
    meeting_page.attach_live_entries(user, overview["meetings_today"])
    if overview["is_meeting_operator"]:
        pending = operator_queue(meetings_visible_to(user))
        overview["decisions_pending"] = pending.count()
        overview["decisions_overdue"] = overdue_count(pending, now)
        overview["decisions_next"] = list(pending[:3])
    if role_allows(user, Action.RECORD_CHECK):
        due: QuerySet[TechnicalCheck] = (
            checks_visible_to(user)
            .filter(agency_scope_filter(user, "endpoint__agency__"))
            .filter(
                status=CheckStatus.SCHEDULED,
                meeting__status__in=HOLDING_STATUSES,
                due_at__lte=now + CHECKS_DUE_WITHIN,
                meeting__ends_at__gte=now,
            )
            .select_related("meeting", "endpoint")
            .order_by("due_at")
        )
        overview["checks_due"] = list(due[:LIST_LIMIT])
        overview["checks_due_count"] = due.count()
    return overview
