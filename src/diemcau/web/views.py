from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from diemcau.core.permissions import Action, can
from diemcau.directory.choices import ContactRole, EndpointStatus
from diemcau.directory.models import Contact, Endpoint
from diemcau.directory.permissions import endpoints_visible_to
from diemcau.rulebooks import active_rulebook

from .templatetags.diemcau_ui import STATUS_COLOURS

LIST_LIMIT = 10


def endpoints_missing_contacts(endpoints: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    """Endpoints in use or on the way that lack a current contact the rulebook requires (R6)."""
    rulebook = active_rulebook()
    missing = Q()
    for role in rulebook.contacts.required_roles:
        current = Contact.objects.filter(
            endpoint=OuterRef("pk"), role=role, active_until__isnull=True
        )
        missing |= Q(~Exists(current))
    return endpoints.exclude(status=EndpointStatus.REJECTED).filter(missing)


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
            "colour": STATUS_COLOURS[status.value],
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
    missing = endpoints_missing_contacts(related)
    context["missing_contacts"] = missing[:LIST_LIMIT]
    context["missing_contacts_count"] = missing.count()
    if rulebook.security_check.required:
        due = related.exclude(status=EndpointStatus.REJECTED).filter(security_check_due=True)
        context["security_due"] = due[:LIST_LIMIT]
        context["security_due_count"] = due.count()
    return render(request, "web/dashboard.html", context)
