"""Pages of the operations desk (Vietnamese first, usable on a phone). Every change goes
through a service with `call_service`; every list starts from a scoped queryset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from diemcau.core.api_inputs import is_id
from diemcau.core.models import User
from diemcau.core.permissions import Action, can, is_operator, role_allows
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.permissions import agencies_user_can, endpoints_visible_to
from diemcau.mcu.models import McuNode
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import IncidentKind, IncidentStatus
from diemcau.scheduling.models import Incident, Meeting
from diemcau.scheduling.permissions import meetings_visible_to
from diemcau.ui.service_calls import call_service

from . import exports, selectors
from .forms import (
    AssignForm,
    DeviceForm,
    DeviceWorkForm,
    DoneForm,
    HandoverForm,
    LineForm,
    NodeVersionsForm,
    PlanForm,
    ProviderContactForm,
    ProviderForm,
    ReplyForm,
    ShiftForm,
    TaskForm,
)
from .models import (
    Device,
    EndpointLine,
    LineProvider,
    MaintenancePlan,
    MaintenanceTask,
    NodeVersions,
    TrainingTask,
)
from .permissions import (
    devices_visible_to,
    plans_visible_to,
    providers_visible_to,
    routes_visible_to,
    shifts_visible_to,
    training_visible_to,
)
from .services import duty, equipment, routing, training


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _rule(key: str) -> dict[str, Any]:
    rulebook = active_rulebook()
    section = rulebook.rule(key)
    return {"rule": section, "rule_article": rulebook.cite(section.article) if section else ""}


def _need(allowed: bool) -> None:
    if not allowed:
        raise Forbidden(_("You are not allowed to see this page."))


def _form_page(
    request: HttpRequest, form: forms.Form, *, title: str, back: str, run: Callable[[], Any],
    done: Callable[[Any], str], message: str, rule: str = "", intro: str = "",
    submit: str = "",
) -> HttpResponse:
    """A page of one form: on POST run the service and go to `done(result)`."""
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, run)
        if outcome.ok:
            messages.success(request, message)
            return redirect(done(outcome.value))
    return render(request, "desk/form.html", {
        "form": form, "title": title, "back": back, "intro": intro,
        "submit": submit or _("Save"), **(_rule(rule) if rule else {}),
    })


def _agency_filter(request: HttpRequest, user: User) -> tuple[Agency | None, bool]:
    """The ?agency= of a list (one the user may see), and whether its units are included
    (?subtree=1: a district with its communes)."""
    raw = request.GET.get("agency", "")
    agency = None
    if raw:
        if not is_id(raw):
            raise Http404
        agency = get_object_or_404(agencies_user_can(user, Action.VIEW_EQUIPMENT), pk=int(raw))
    return agency, request.GET.get("subtree") == "1"


def _scoped_agencies(user: User) -> Any:
    return agencies_user_can(user, Action.VIEW_EQUIPMENT).order_by("path")


# ---------------------------------------------------------------- the desk


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The operator's day: who is on duty, meetings no one covers, line incidents waiting,
    tasks falling due and technicians to train."""
    user = _user(request)
    _need(role_allows(user, Action.VIEW_EQUIPMENT))
    operator = is_operator(user)
    context: dict[str, Any] = {
        "operator": operator, "today": timezone.localdate(),
        "due": selectors.due_tasks(MaintenanceTask.objects.filter(
            plan__in=plans_visible_to(user)))[:20],
        "training": selectors.open_training(training_visible_to(user))[:20],
    }
    if operator:
        context.update({
            "on_duty": list(selectors.on_duty()),
            "uncovered": selectors.uncovered_meetings(),
            "routes": routes_visible_to(user).exclude(status="resolved").select_related(
                "provider", "incident__endpoint")[:20],
            "patches": NodeVersions.objects.select_related("node").exclude(
                patch_status="current"),
        })
    return render(request, "desk/index.html", context)


# ---------------------------------------------------------------- equipment


@login_required
def equipment_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.VIEW_EQUIPMENT))
    agency, subtree = _agency_filter(request, user)
    devices = devices_visible_to(user).select_related("endpoint__agency")
    endpoints = endpoints_visible_to(user).select_related("agency", "desk_line__provider")
    if agency is not None:
        where = ({"endpoint__agency__path__startswith": agency.path} if subtree
                 else {"endpoint__agency": agency})
        devices = devices.filter(**where)
        endpoints = endpoints.filter(**{k.removeprefix("endpoint__"): v for k, v in
                                        where.items()})
    grouped: dict[int, list[Device]] = {}
    for device in devices:
        grouped.setdefault(device.endpoint_id, []).append(device)
    rows = [(e, grouped.get(e.pk, [])) for e in endpoints.order_by("agency__path", "name")]
    return render(request, "desk/equipment.html", {
        "rows": rows, "agency": agency, "subtree": subtree,
        "agencies": _scoped_agencies(user), "query": request.GET.urlencode(),
        **_rule("equipment"),
    })


@login_required
def equipment_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.VIEW_EQUIPMENT))
    agency, subtree = _agency_filter(request, user)
    devices = devices_visible_to(user).select_related("endpoint__agency").prefetch_related(
        "works")
    heading = _("Equipment register")
    if agency is not None:
        devices = devices.filter(endpoint__agency__path__startswith=agency.path) if subtree \
            else devices.filter(endpoint__agency=agency)
        heading = f"{heading}: {agency.name}" + (
            f" ({_('with its subordinate units')})" if subtree else "")
    return _xlsx(exports.equipment_xlsx(devices, heading), "thiet-bi")


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    day = timezone.localdate()
    response["Content-Disposition"] = f'attachment; filename="{name}-{day:%Y-%m-%d}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


def _visible_endpoint(user: User, pk: int) -> Endpoint:
    return get_object_or_404(endpoints_visible_to(user).select_related("agency"), pk=pk)


@login_required
def device_add(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    user = _user(request)
    endpoint = _visible_endpoint(user, endpoint_pk)
    _need(can(user, Action.MANAGE_EQUIPMENT, endpoint.agency))
    form = DeviceForm(request.POST or None)
    return _form_page(
        request, form, title=_("Add a device to %(endpoint)s") % {"endpoint": endpoint.name},
        back=reverse("desk:equipment"), rule="equipment",
        run=lambda: equipment.add_device(endpoint, form.to_input(), actor=user),
        done=lambda device: reverse("desk:device_detail", args=[device.pk]),
        message=_("The device is in the register."))


def _visible_device(user: User, pk: int) -> Device:
    return get_object_or_404(devices_visible_to(user).select_related("endpoint__agency"), pk=pk)


@login_required
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    device = _visible_device(user, pk)
    return render(request, "desk/device.html", {
        "device": device, "works": device.works.select_related("recorded_by"),
        "line": EndpointLine.objects.select_related("provider").filter(
            endpoint=device.endpoint).first(),
        "may_manage": can(user, Action.MANAGE_EQUIPMENT, device.endpoint.agency),
        "recheck": equipment.recheck_required(), **_rule("security_check"),
    })


@login_required
def device_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    device = _visible_device(user, pk)
    _need(can(user, Action.MANAGE_EQUIPMENT, device.endpoint.agency))
    initial = {f: getattr(device, f) for f in DeviceForm.base_fields}
    form = DeviceForm(request.POST or None, initial=initial)
    return _form_page(
        request, form, title=_("Edit %(device)s") % {"device": device},
        back=reverse("desk:device_detail", args=[pk]),
        run=lambda: equipment.update_device(device, form.to_input(), actor=user),
        done=lambda d: reverse("desk:device_detail", args=[d.pk]),
        message=_("The device is saved."))


@login_required
def device_work(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    device = _visible_device(user, pk)
    _need(can(user, Action.MANAGE_EQUIPMENT, device.endpoint.agency))
    form = DeviceWorkForm(request.POST or None, initial={"done_on": timezone.localdate()})
    recheck = equipment.recheck_required()
    return _form_page(
        request, form, title=_("Record a repair or upgrade of %(device)s") % {"device": device},
        back=reverse("desk:device_detail", args=[pk]), rule="security_check",
        intro=_("The room goes back through the security check with the police before it is "
                "used again.") if recheck else "",
        run=lambda: equipment.record_device_work(
            device, kind=form.cleaned_data["kind"], done_on=form.cleaned_data["done_on"],
            description=form.cleaned_data["description"], actor=user),
        done=lambda work: reverse("desk:device_detail", args=[pk]),
        message=_("Recorded. The endpoint now needs a new security check.") if recheck
        else _("Recorded."))


@login_required
def line_set(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    user = _user(request)
    endpoint = _visible_endpoint(user, endpoint_pk)
    _need(can(user, Action.MANAGE_EQUIPMENT, endpoint.agency))
    line = EndpointLine.objects.filter(endpoint=endpoint).first()
    form = LineForm(request.POST or None, initial={
        "provider": line.provider_id if line else None,
        "circuit_reference": line.circuit_reference if line else ""})
    return _form_page(
        request, form, title=_("Line of %(endpoint)s") % {"endpoint": endpoint.name},
        back=reverse("desk:equipment"), rule="line_incidents",
        run=lambda: equipment.set_line(
            endpoint, provider=form.cleaned_data["provider"],
            circuit_reference=form.cleaned_data["circuit_reference"], actor=user),
        done=lambda _line: reverse("desk:equipment"), message=_("The line is saved."))


@login_required
def nodes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(is_operator(user))
    versions = {v.node_id: v for v in NodeVersions.objects.all()}
    return render(request, "desk/nodes.html", {
        "rows": [(node, versions.get(node.pk)) for node in McuNode.objects.order_by("name")],
        **_rule("security"),
    })


@login_required
def node_versions(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _need(is_operator(user))
    node = get_object_or_404(McuNode, pk=pk)
    current = NodeVersions.objects.filter(node=node).first()
    initial = {f: getattr(current, f) for f in NodeVersionsForm.base_fields} if current else {}
    form = NodeVersionsForm(request.POST or None, initial=initial)
    return _form_page(
        request, form, title=_("Versions of %(node)s") % {"node": node.name},
        back=reverse("desk:nodes"), rule="security",
        run=lambda: equipment.record_node_versions(node, form.to_input(), actor=user),
        done=lambda _v: reverse("desk:nodes"), message=_("The versions are saved."))


# ---------------------------------------------------------------- yearly plans


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.VIEW_EQUIPMENT))
    agencies = agencies_user_can(user, Action.MANAGE_EQUIPMENT).order_by("path")
    form = PlanForm(request.POST or None, agencies=agencies,
                    initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: equipment.create_plan(
            form.cleaned_data["agency"], year=form.cleaned_data["year"],
            note=form.cleaned_data["note"], actor=user))
        if outcome.ok:
            messages.success(request, _("The plan is created."))
            return redirect("desk:plan_detail", outcome.value.pk)  # type: ignore[union-attr]
    return render(request, "desk/plans.html", {
        "plans": plans_visible_to(user).select_related("agency"),
        "form": form if agencies.exists() else None, **_rule("equipment"),
    })


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    plan: MaintenancePlan = get_object_or_404(
        plans_visible_to(user).select_related("agency"), pk=pk)
    may = can(user, Action.MANAGE_EQUIPMENT, plan.agency)
    devices = devices_visible_to(user).filter(endpoint__agency__path__startswith=plan.agency.path)
    form = TaskForm(request.POST or None, devices=devices) if may else None
    if form is not None and request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: equipment.add_task(
            plan, form.to_input(), actor=user))
        if outcome.ok:
            messages.success(request, _("The task is added."))
            return redirect("desk:plan_detail", plan.pk)
    soon = set(selectors.due_tasks(plan.tasks.all()).values_list("pk", flat=True))
    return render(request, "desk/plan.html", {
        "plan": plan, "tasks": plan.tasks.select_related("device", "done_by"), "soon": soon,
        "form": form, "may_manage": may, "today": timezone.localdate(), **_rule("equipment"),
    })


@login_required
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    task = get_object_or_404(MaintenanceTask.objects.filter(plan__in=plans_visible_to(user))
                             .select_related("plan__agency"), pk=pk)
    _need(can(user, Action.MANAGE_EQUIPMENT, task.plan.agency))
    form = DoneForm(request.POST or None, initial={"done_on": timezone.localdate()})
    return _form_page(
        request, form, title=_("Done: %(task)s") % {"task": task.title},
        back=reverse("desk:plan_detail", args=[task.plan_id]),
        run=lambda: equipment.complete_task(task, done_on=form.cleaned_data["done_on"],
                                            note=form.cleaned_data["note"], actor=user),
        done=lambda t: reverse("desk:plan_detail", args=[t.plan_id]),
        message=_("The task is done."))


# ---------------------------------------------------------------- duty roster


@login_required
def roster(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_DUTY))
    form = ShiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: duty.add_shift(
            form.cleaned_data["technician"], starts_at=form.cleaned_data["starts_at"],
            ends_at=form.cleaned_data["ends_at"], note=form.cleaned_data["note"], actor=user))
        if outcome.ok:
            messages.success(request, _("The shift is added."))
            return redirect("desk:roster")
    now = timezone.now()
    upcoming = (Meeting.objects.filter(status__in=["accepted", "live"],
                                       ends_at__gte=now,
                                       starts_at__lte=now + dt.timedelta(days=7))
                .select_related("host_agency", "desk_duty__technician").order_by("starts_at"))
    meetings = [(m, selectors.technician_for(m)) for m in upcoming[:50]]
    return render(request, "desk/roster.html", {
        "form": form, "now": now,
        "current": list(selectors.on_duty(now)),
        "shifts": shifts_visible_to(user).filter(ends_at__gte=now - dt.timedelta(days=1))
        .select_related("technician", "handed_over_from__technician")[:100],
        "uncovered": {m.pk for m in selectors.uncovered_meetings(now)},
        "meetings": meetings, **_rule("duty"),
    })


@login_required
def shift_handover(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_DUTY))
    shift = get_object_or_404(shifts_visible_to(user), pk=pk)
    form = HandoverForm(request.POST or None)
    return _form_page(
        request, form, title=_("Hand over the shift of %(name)s") % {
            "name": shift.technician.get_full_name() or shift.technician.get_username()},
        back=reverse("desk:roster"), rule="duty",
        run=lambda: duty.hand_over(shift, to=form.cleaned_data["technician"],
                                   note=form.cleaned_data["note"], actor=user),
        done=lambda _s: reverse("desk:roster"), message=_("The shift is handed over."))


@login_required
def meeting_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_DUTY))
    meeting = get_object_or_404(meetings_visible_to(user), pk=pk)
    found = selectors.technician_for(meeting)
    form = AssignForm(request.POST or None, initial={
        "technician": found.technician.pk if found.technician else None})
    return _form_page(
        request, form, title=_("Technician of %(title)s") % {"title": meeting.title},
        back=reverse("desk:roster"), rule="duty",
        run=lambda: duty.assign_meeting(meeting, technician=form.cleaned_data["technician"],
                                        actor=user),
        done=lambda _d: reverse("desk:roster"), message=_("The technician is assigned."))


# ---------------------------------------------------------------- providers and incidents


@login_required
def providers(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_PROVIDERS))
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: routing.save_provider(
            form.to_input(), actor=user))
        if outcome.ok:
            messages.success(request, _("The provider is saved."))
            return redirect("desk:provider_detail", outcome.value.pk)  # type: ignore[union-attr]
    return render(request, "desk/providers.html", {
        "providers": providers_visible_to(user).prefetch_related("contacts__area"),
        "form": form, **_rule("line_incidents"),
    })


@login_required
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_PROVIDERS))
    provider: LineProvider = get_object_or_404(providers_visible_to(user), pk=pk)
    edit = ProviderForm(request.POST if request.POST.get("form") == "provider" else None,
                        initial={f: getattr(provider, f) for f in ProviderForm.base_fields},
                        prefix="p")
    person = ProviderContactForm(request.POST if request.POST.get("form") == "contact" else None,
                                 prefix="c")
    saved = False
    if request.method == "POST" and edit.is_bound and edit.is_valid():
        saved = call_service(request, edit, lambda: routing.save_provider(
            edit.to_input(), provider=provider, actor=user)).ok
    if request.method == "POST" and person.is_bound and person.is_valid():
        data = person.cleaned_data
        saved = call_service(request, person, lambda: routing.add_provider_contact(
            provider, full_name=data["full_name"], phone=data["phone"],
            email=data["email"] or "", area=data["area"], actor=user)).ok
    if saved:
        messages.success(request, _("Saved."))
        return redirect("desk:provider_detail", pk)
    return render(request, "desk/provider.html", {
        "provider": provider, "contacts": provider.contacts.select_related("area"),
        "lines": provider.lines.select_related("endpoint__agency"),
        "edit": edit, "person": person,
    })


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    """Open incidents to route, incidents sent to providers with their replies, and each
    party's time to acknowledge and to resolve."""
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_INCIDENT))
    open_incidents = (Incident.objects.exclude(status=IncidentStatus.CLOSED)
                      .filter(desk_route__isnull=True)
                      .select_related("meeting", "endpoint__desk_line__provider")
                      .order_by("-opened_at")[:50])
    return render(request, "desk/incidents.html", {
        "open_incidents": open_incidents,
        "routes": routes_visible_to(user).select_related(
            "provider", "incident__endpoint__agency", "incident__meeting")[:100],
        "times": selectors.response_times(),
        "reply_form": ReplyForm(),
        "incident_kinds": IncidentKind.choices,
        **_rule("line_incidents"),
    })


@login_required
@require_POST
def incident_route(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.MANAGE_INCIDENT))
    incident = get_object_or_404(Incident, pk=pk)
    form = forms.Form()
    outcome = call_service(request, form, lambda: routing.route_incident(incident, actor=user))
    if outcome.ok:
        messages.success(request, _("Sent to %(provider)s.") % {
            "provider": outcome.value.provider.name})  # type: ignore[union-attr]
    for error in form.errors.values():
        for message in error:
            messages.error(request, str(message))
    return redirect("desk:incidents")


@login_required
@require_POST
def incident_kind(request: HttpRequest, pk: int) -> HttpResponse:
    """The operator says whose incident it is: terminal, line, MCU or room."""
    from diemcau.scheduling.services.checks import classify_incident

    user = _user(request)
    _need(role_allows(user, Action.MANAGE_INCIDENT))
    incident = get_object_or_404(Incident, pk=pk)
    form = forms.Form()
    outcome = call_service(request, form, lambda: classify_incident(
        incident, kind=request.POST.get("kind", ""), actor=user))
    if outcome.ok:
        messages.success(request, _("The incident is classified."))
    for error in form.errors.values():
        for message in error:
            messages.error(request, str(message))
    return redirect("desk:incidents")


@login_required
@require_POST
def route_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The operator records a reply the provider gave by telephone."""
    user = _user(request)
    route = get_object_or_404(routes_visible_to(user), pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        outcome = call_service(request, form, lambda: routing.record_reply(
            route, status=form.cleaned_data["status"], reply=form.cleaned_data["reply"],
            actor=user))
        if outcome.ok:
            messages.success(request, _("The provider's reply is recorded."))
    for error in form.errors.values():
        for message in error:
            messages.error(request, str(message))
    return redirect("desk:incidents")


def provider_reply(request: HttpRequest, token: str) -> HttpResponse:
    """The page the provider opens from the message: no account, the signed link is the
    key (valid for `line_incidents.reply_link_days`)."""
    route = routing.route_from_token(token)
    if route is None:
        return render(request, "desk/provider_reply.html", {"invalid": True}, status=404)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: routing.record_reply(
            route, status=form.cleaned_data["status"], reply=form.cleaned_data["reply"],
            actor=None))
        if outcome.ok:
            messages.success(request, _("Thank you, your reply is recorded."))
            return redirect("desk:provider_reply", token)
    from diemcau.scheduling.feeds import is_state_secret

    response = render(request, "desk/provider_reply.html", {
        "route": route, "form": form,
        "description": "" if is_state_secret(route.incident.meeting)
        else route.incident.description,
    })
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# ---------------------------------------------------------------- contacts and training


def _contacts_scope(request: HttpRequest, user: User) -> tuple[Agency | None, bool]:
    raw = request.GET.get("agency", "")
    if not raw:
        return None, False
    if not is_id(raw):
        raise Http404
    agency = get_object_or_404(agencies_user_can(user, Action.VIEW_CONTACTS), pk=int(raw))
    return agency, request.GET.get("subtree") == "1"


@login_required
def contacts(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.VIEW_CONTACTS))
    agency, subtree = _contacts_scope(request, user)
    rulebook = active_rulebook()
    return render(request, "desk/contacts.html", {
        "rows": selectors.consolidated_contacts(user, agency, subtree=subtree),
        "agency": agency, "subtree": subtree, "query": request.GET.urlencode(),
        "agencies": agencies_user_can(user, Action.VIEW_CONTACTS).order_by("path"),
        "by_district": rulebook.contacts.consolidated_by_district,
        "training": selectors.open_training(training_visible_to(user)),
        "may_train": role_allows(user, Action.RECORD_TRAINING),
        **_rule("contacts"),
    })


@login_required
def contacts_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _need(role_allows(user, Action.VIEW_CONTACTS))
    agency, subtree = _contacts_scope(request, user)
    heading = _("Consolidated list of endpoints and technicians")
    if agency is not None:
        heading = f"{heading}: {agency.name}" + (
            f" ({_('with its subordinate units')})" if subtree else "")
    rows = selectors.consolidated_contacts(user, agency, subtree=subtree)
    return _xlsx(exports.contacts_xlsx(rows, heading), "dau-moi")


@login_required
def training_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    task: TrainingTask = get_object_or_404(
        training_visible_to(user).select_related("contact__endpoint__agency"), pk=pk)
    _need(can(user, Action.RECORD_TRAINING, task.contact.endpoint.agency))
    form = DoneForm(request.POST or None, initial={"done_on": timezone.localdate()})
    return _form_page(
        request, form, title=_("Training of %(name)s") % {"name": task.contact.full_name},
        back=reverse("desk:contacts"), rule="contacts",
        run=lambda: training.complete_training(task, done_on=form.cleaned_data["done_on"],
                                               note=form.cleaned_data["note"], actor=user),
        done=lambda _t: reverse("desk:contacts"), message=_("The training is recorded."))



