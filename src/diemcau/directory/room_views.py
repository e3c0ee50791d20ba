"""Pages of a room's devices (KH Đ6.4) and of the change requests of admitted endpoints
(ĐN Đ6.6, KH Đ11.5): the operator's queue, each request with its decision, and the agency's
own requests. Objects are looked up through the scoped querysets (out of scope is 404), and
every change is a call to a service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from diemcau.core.models import User
from diemcau.core.permissions import Action, can, role_allows
from diemcau.rulebooks import active_rulebook
from diemcau.ui.pagination import paginate
from diemcau.ui.service_calls import call_service

from . import services
from .choices import ChangeRequestStatus
from .forms import DecisionForm, DeviceForm, ReasonForm
from .models import Device, Endpoint, EndpointChangeRequest
from .permissions import endpoints_visible_to
from .selectors import suggested_device_name
from .services.changes import consent_article

REQUESTS_PER_PAGE = 25


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def change_requests_visible_to(user: User) -> QuerySet[EndpointChangeRequest]:
    """The requests of the endpoints `user` may see: the operator all, an agency its own."""
    return EndpointChangeRequest.objects.filter(
        endpoint__in=endpoints_visible_to(user)
    ).select_related("endpoint", "endpoint__agency", "requested_by", "decided_by")


def _field_label(name: str) -> str:
    field = Endpoint._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


def _rows(change: EndpointChangeRequest) -> list[dict[str, Any]]:
    return [
        {"label": _field_label(name), "before": change.previous.get(name), "after": value}
        for name, value in change.changes.items()
    ]


@login_required
def change_request_list(request: HttpRequest) -> HttpResponse:
    """The operator's queue (pending first, oldest first) or the agency's requests."""
    user = _user(request)
    status = request.GET.get("status", ChangeRequestStatus.PENDING)
    if status not in ChangeRequestStatus.values and status != "all":
        status = ChangeRequestStatus.PENDING
    requests = change_requests_visible_to(user)
    if status != "all":
        requests = requests.filter(status=status)
    ordering = ("requested_at", "pk") if status == ChangeRequestStatus.PENDING else (
        "-requested_at", "-pk")
    return render(request, "directory/change_request_list.html", {
        "status": status,
        "statuses": list(ChangeRequestStatus),
        "may_decide": role_allows(user, Action.APPROVE_ENDPOINT),
        "consent_article": active_rulebook().cite(consent_article(active_rulebook())),
        **paginate(request, requests.order_by(*ordering), REQUESTS_PER_PAGE),
    })


@login_required
def change_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    change = get_object_or_404(change_requests_visible_to(user), pk=pk)
    may_decide = (change.status == ChangeRequestStatus.PENDING
                  and can(user, Action.APPROVE_ENDPOINT, change.endpoint.agency))
    approve_form = DecisionForm(prefix="approve")
    refuse_form = ReasonForm(prefix="refuse")
    if request.method == "POST":
        if not can(user, Action.APPROVE_ENDPOINT, change.endpoint.agency):
            raise Forbidden(_("Your role or agency does not allow this."))
        if "approve" in request.POST:
            approve_form = DecisionForm(request.POST, prefix="approve")
            if approve_form.is_valid():
                note = approve_form.cleaned_data["note"]
                outcome = call_service(request, approve_form, lambda: services.approve_change(
                    change, actor=user, note=note))
                if outcome.ok:
                    messages.success(request, _("The change was approved and applied."))
                    return redirect("directory:endpoint_detail", pk=change.endpoint_id)
        else:
            refuse_form = ReasonForm(request.POST, prefix="refuse")
            if refuse_form.is_valid():
                reason = refuse_form.cleaned_data["reason"]
                outcome = call_service(request, refuse_form, lambda: services.refuse_change(
                    change, actor=user, reason=reason))
                if outcome.ok:
                    messages.success(request, _("The change was refused."))
                    return redirect("directory:change_request_list")
    return render(request, "directory/change_request_detail.html", {
        "change": change,
        "rows": _rows(change),
        "may_decide": may_decide,
        "approve_form": approve_form,
        "refuse_form": refuse_form,
        "consent_article": active_rulebook().cite(consent_article(active_rulebook())),
    })


@login_required
def device_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a device to a room, named after it with a number (KH Đ6.4)."""
    user = _user(request)
    rulebook = active_rulebook()
    endpoint = get_object_or_404(
        endpoints_visible_to(user).select_related("agency", "agency__parent"), pk=pk
    )
    if not can(user, Action.EDIT_ENDPOINT, endpoint.agency):
        raise Forbidden(_("Your role or agency does not allow this."))
    suggested = suggested_device_name(endpoint, rulebook)
    form = DeviceForm(
        request.POST if request.method == "POST" else None,
        initial={"name": suggested, "terminal_kind": endpoint.terminal_kind},
    )
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, form, lambda: services.add_device(endpoint, form.to_input(), actor=user)
        )
        if outcome.ok and outcome.value is not None:
            messages.success(request, _("Device %(name)s was added to the room.")
                             % {"name": outcome.value.name})
            return redirect("directory:endpoint_detail", pk=endpoint.pk)
    return render(request, "directory/device_form.html", {
        "endpoint": endpoint,
        "form": form,
        "suggested": suggested,
        "naming_article": rulebook.cite(rulebook.naming.article) if rulebook.naming else "",
        "quota_article": rulebook.cite(rulebook.quotas.article_for(endpoint.agency.kind)),
    })


@login_required
@require_POST
def device_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    device = get_object_or_404(
        Device.objects.filter(endpoint__in=endpoints_visible_to(user)), pk=pk
    )
    if not can(user, Action.EDIT_ENDPOINT, device.endpoint.agency):
        raise Forbidden(_("Your role or agency does not allow this."))
    endpoint_pk = device.endpoint_id
    services.remove_device(device, actor=user)
    messages.success(request, _("Device %(name)s was removed.") % {"name": device.name})
    return redirect("directory:endpoint_detail", pk=endpoint_pk)
