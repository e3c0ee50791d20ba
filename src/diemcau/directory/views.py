"""Pages of the directory: agencies, endpoints, admission and contacts (R1–R6).

Views look objects up only through the scoped querysets of `permissions.py` (out of scope is
404), offer only the actions the user `can` take, and change nothing themselves: every change
is a call to a service, whose refusals `call_service` puts on the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from diemcau.core.models import User
from diemcau.core.permissions import Action, can, denial_message, denied, role_allows
from diemcau.core.text import text_search
from diemcau.rulebooks import Rulebook, active_rulebook
from diemcau.ui.pagination import paginate
from diemcau.ui.service_calls import call_service, no_store

from . import naming, services
from .choices import ContactRole, EndpointStatus, Network
from .forms import (
    ConfirmForm,
    ContactForm,
    EndpointFilterForm,
    EndpointForm,
    EvaluationForm,
    QuotaExceptionForm,
    ReasonForm,
    RepairForm,
    SecurityCheckForm,
)
from .models import Agency, Contact, Endpoint
from .permissions import (
    agencies_user_can,
    agencies_visible_to,
    contacts_visible_to,
    endpoints_visible_to,
)
from .rules import Stage, checklist, network_advice
from .services.changes import consent_article
from .services.endpoints import allowed_endpoint_count, counted_endpoints, needs_consent
from .suggestions import name_suggestion as suggest_name

ENDPOINTS_PER_PAGE = 25

# Statuses from which each admission step may start; the services enforce the same, these
# only decide which buttons a page offers.
EVALUABLE = {EndpointStatus.PENDING, EndpointStatus.EVALUATED, EndpointStatus.REJECTED,
             EndpointStatus.APPROVED, EndpointStatus.SUSPENDED}
SUSPENDABLE = {EndpointStatus.APPROVED, EndpointStatus.EVALUATED}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _require(user: User, action: Action, agency: Agency | None = None) -> None:
    if not can(user, action, agency):
        raise Forbidden(str(denied(action)) if agency is not None else denial_message(action))


def _visible_endpoint(user: User, pk: int) -> Endpoint:
    return get_object_or_404(
        endpoints_visible_to(user).select_related("agency", "agency__parent"), pk=pk
    )


# ---------------------------------------------------------------- agencies


@dataclass
class AgencyNode:
    agency: Agency
    level_key: str
    level_rank: int
    endpoint_count: int
    matched: bool = False
    open: bool = False
    children: list[AgencyNode] = field(default_factory=list)
    groups: list[LevelGroup] = field(default_factory=list)


@dataclass
class LevelGroup:
    """Agencies of one level under the same parent, shown under the level's label."""

    label: str
    nodes: list[AgencyNode]


def _grouped_by_level(
    nodes: list[AgencyNode], labels: dict[str, str]
) -> list[LevelGroup]:
    """Highest level first, then by name; each node's own children likewise."""
    groups: list[LevelGroup] = []
    ordered = sorted(nodes, key=lambda n: (-n.level_rank, _folded(n.agency.name)))
    for node in ordered:
        node.groups = _grouped_by_level(node.children, labels)
        label = labels.get(node.level_key, "")
        if groups and groups[-1].label == label:
            groups[-1].nodes.append(node)
        else:
            groups.append(LevelGroup(label=label, nodes=[node]))
    return groups


def _vietnamese() -> bool:
    return (get_language() or "vi").startswith("vi")


def _level_label(rulebook: Rulebook, kind: str, vietnamese: bool) -> str:
    try:
        level = rulebook.level(rulebook.level_for_kind(kind))
    except KeyError:
        return ""
    return level.label_vi if vietnamese else level.label_en


def _level_of(rulebook: Rulebook, kind: str) -> tuple[str, int]:
    """(level key, rank) of an agency kind; kinds the rulebook does not place come last."""
    try:
        key = rulebook.level_for_kind(kind)
    except KeyError:
        return "", -1
    return key, rulebook.level(key).rank


def _ancestor_ids(agency: Agency) -> list[int]:
    return [int(part) for part in agency.path.strip("/").split("/")[:-1] if part]


def _folded(text: str) -> str:
    return naming.ascii_fold(text).casefold()


@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    """The agency tree by parent, each agency labelled with its level in the rulebook;
    filtered by text (accents optional) and by level."""
    user = _user(request)
    rulebook = active_rulebook()
    vietnamese = _vietnamese()
    agencies = list(agencies_visible_to(user).order_by("path"))
    counts = dict(
        endpoints_visible_to(user).values("agency").annotate(n=Count("pk"))
        .values_list("agency", "n")
    )
    query = request.GET.get("q", "").strip()
    level = request.GET.get("level", "")
    level_keys = {lvl.key for lvl in rulebook.levels}
    if level not in level_keys:
        level = ""
    level_kinds = set(rulebook.kinds_for_level(level)) if level else set()

    def matches(agency: Agency) -> bool:
        if level and agency.kind not in level_kinds:
            return False
        if query:
            needle = _folded(query)
            return needle in _folded(agency.name) or needle in _folded(agency.abbreviation)
        return True

    filtering = bool(query or level)
    matched = {a.pk for a in agencies if matches(a)} if filtering else set()
    shown = set(matched)
    for agency in agencies:
        if agency.pk in matched:
            shown.update(_ancestor_ids(agency))
    nodes: dict[int, AgencyNode] = {}
    roots: list[AgencyNode] = []
    for agency in agencies:  # ordered by path: parents come before their children
        if filtering and agency.pk not in shown:
            continue
        level_key, level_rank = _level_of(rulebook, agency.kind)
        node = AgencyNode(
            agency=agency,
            level_key=level_key,
            level_rank=level_rank,
            endpoint_count=counts.get(agency.pk, 0),
            matched=agency.pk in matched,
            open=filtering or agency.parent_id is None,
        )
        nodes[agency.pk] = node
        parent = nodes.get(agency.parent_id) if agency.parent_id else None
        (parent.children if parent else roots).append(node)
    labels: dict[str, str] = {
        lvl.key: lvl.label_vi if vietnamese else lvl.label_en for lvl in rulebook.levels
    }
    levels = [
        {
            "key": lvl.key,
            "label": labels[lvl.key],
            "count": sum(1 for a in agencies if a.kind in rulebook.kinds_for_level(lvl.key)),
        }
        for lvl in rulebook.levels
    ]
    return render(request, "directory/agency_list.html", {
        "groups": _grouped_by_level(roots, labels),
        "levels": levels,
        "query": query,
        "level": level,
        "filtering": filtering,
        "match_count": len(matched),
        "agency_count": len(agencies),
    })


@login_required
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    rulebook = active_rulebook()
    agency = get_object_or_404(agencies_visible_to(user).select_related("parent"), pk=pk)
    may_view_endpoints = can(user, Action.VIEW_ENDPOINT, agency)
    context: dict[str, Any] = {
        "agency": agency,
        "ancestors": Agency.objects.filter(pk__in=_ancestor_ids(agency)).order_by("path"),
        "children": agencies_visible_to(user).filter(parent=agency).order_by("name"),
        "level_label": _level_label(rulebook, agency.kind, _vietnamese()),
        "may_view_endpoints": may_view_endpoints,
        "may_register": can(user, Action.REGISTER_ENDPOINT, agency),
        "endpoints": endpoints_visible_to(user).filter(agency=agency).order_by("name"),
    }
    if may_view_endpoints:
        quota = rulebook.quotas.quota_for(agency.kind)
        context.update({
            "quota": quota,
            "allowed": allowed_endpoint_count(agency, rulebook),
            "used": counted_endpoints(agency),
            "quota_exceptions": agency.quota_exceptions.select_related("recorded_by")
            .order_by("-decided_on"),
            "may_record_exception": quota is not None
            and can(user, Action.RECORD_QUOTA_EXCEPTION, agency),
        })
    return render(request, "directory/agency_detail.html", context)


@login_required
def quota_exception_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the Provincial People's Committee's approval of extra endpoints (KH Đ8)."""
    user = _user(request)
    rulebook = active_rulebook()
    agency = get_object_or_404(agencies_visible_to(user), pk=pk)
    _require(user, Action.RECORD_QUOTA_EXCEPTION, agency)
    form = QuotaExceptionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = call_service(request, form, lambda: services.record_quota_exception(
            agency,
            extra_endpoints=data["extra_endpoints"],
            decision_reference=data["decision_reference"],
            decided_on=data["decided_on"],
            note=data["note"],
            actor=user,
        ))
        if outcome.ok:
            messages.success(request, _("The quota exception was recorded."))
            return redirect("directory:agency_detail", pk=agency.pk)
    return render(request, "directory/quota_exception_form.html", {
        "agency": agency,
        "form": form,
        "article": rulebook.cite(rulebook.quotas.exception_article or rulebook.quotas.article),
        "allowed": allowed_endpoint_count(agency, rulebook),
        "used": counted_endpoints(agency),
    })


# ---------------------------------------------------------------- endpoints: lists and detail


def _filter_endpoints(endpoints: QuerySet[Endpoint], data: dict[str, Any]) -> QuerySet[Endpoint]:
    if data.get("agency"):
        # An agency includes its subordinate units: a district shows its communes too.
        endpoints = endpoints.filter(agency__path__startswith=data["agency"].path)
    for name in ("status", "network", "terminal_kind"):
        if data.get(name):
            endpoints = endpoints.filter(**{name: data[name]})
    text = (data.get("q") or "").strip()
    if text:
        endpoints = endpoints.filter(
            text_search(text, "name", "location", "agency__name", "account_username")
            | Q(vcs_ip__icontains=text)
        )
    return endpoints


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    endpoints = endpoints_visible_to(user).select_related("agency")
    form = EndpointFilterForm(
        request.GET or None, agencies=agencies_user_can(user, Action.VIEW_ENDPOINT)
    )
    if form.is_bound and form.is_valid():
        endpoints = _filter_endpoints(endpoints, form.cleaned_data)
    elif form.is_bound:
        endpoints = endpoints.none()
    context = {
        "filter_form": form,
        "filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
        "may_register": role_allows(user, Action.REGISTER_ENDPOINT)
        and agencies_user_can(user, Action.REGISTER_ENDPOINT).exists(),
        **paginate(request, endpoints.order_by("agency__path", "name"), ENDPOINTS_PER_PAGE),
    }
    return render(request, "directory/endpoint_list.html", context)


def _endpoint_actions(user: User, endpoint: Endpoint) -> dict[str, bool]:
    """The buttons of the endpoint page: only what the user may do, from the current status."""
    agency = endpoint.agency
    status = endpoint.status
    return {
        "edit": can(user, Action.EDIT_ENDPOINT, agency),
        "evaluate": status in EVALUABLE and can(user, Action.EVALUATE_ENDPOINT, agency),
        "approve": status == EndpointStatus.EVALUATED
        and can(user, Action.APPROVE_ENDPOINT, agency),
        "suspend": status in SUSPENDABLE and can(user, Action.SUSPEND_ENDPOINT, agency),
        "reinstate": status == EndpointStatus.SUSPENDED
        and can(user, Action.SUSPEND_ENDPOINT, agency),
        "repair": can(user, Action.EDIT_ENDPOINT, agency),
        "security_check": can(user, Action.RECORD_SECURITY_CHECK, agency),
        "contacts": can(user, Action.MANAGE_CONTACTS, agency),
        "add_device": status != EndpointStatus.REJECTED
        and can(user, Action.EDIT_ENDPOINT, agency),
    }


@login_required
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    rulebook = active_rulebook()
    endpoint = _visible_endpoint(user, pk)
    contacts = list(
        contacts_visible_to(user).filter(endpoint=endpoint).order_by("role", "-active_from")
    )
    current = [c for c in contacts if c.is_current]
    actions = _endpoint_actions(user, endpoint)
    admission = checklist(endpoint, Stage.ADMISSION, rulebook)
    return render(request, "directory/endpoint_detail.html", {
        "endpoint": endpoint,
        "actions": actions,
        "any_action": any(actions.values()),
        "evaluations": endpoint.evaluations.select_related("evaluated_by")
        .prefetch_related("answers"),
        "devices": list(endpoint.devices.all()),
        "change_requests": list(
            endpoint.change_requests.select_related("requested_by", "decided_by")[:10]
        ),
        "may_decide_changes": can(user, Action.APPROVE_ENDPOINT, endpoint.agency),
        "security_checks": endpoint.security_checks.select_related("recorded_by"),
        "current_contacts": current,
        "past_contacts": [c for c in contacts if not c.is_current],
        "missing_roles": [c.role for c in admission if c.role is not None and not c.met],
        "network_advice": network_advice(endpoint.network, rulebook),
        "contact_roles": list(ContactRole),
        # The checklist's security line (ĐN Đ8.3c, Đ16.5), unless the endpoint was rejected.
        "security_check_unmet": endpoint.status != EndpointStatus.REJECTED and any(
            c.code == "endpoint_security_check_due" and not c.met for c in admission
        ),
    })


# ---------------------------------------------------------------- endpoints: register and edit


def _suggestion(agency: Agency, rulebook: Rulebook, exclude_pk: int | None) -> dict[str, Any]:
    """The name the rule expects for `agency`, free among existing names (KH Đ6.4); none
    when the agency's quota is full, with the refusal that says why (KH Đ8)."""
    pattern = rulebook.naming.pattern_for(agency.kind) if rulebook.naming else None
    suggestion = suggest_name(agency, rulebook, exclude_pk)
    return {
        "suggested_name": suggestion.name,
        "refusal": suggestion.refusal,
        "device_name": suggestion.device_name,
        "room": agency.endpoints.exclude(status=EndpointStatus.REJECTED).order_by("pk").first()
        if suggestion.refusal else None,
        "pattern": pattern,
        "agency": agency,
        "naming_article": rulebook.cite(rulebook.naming.article) if rulebook.naming else "",
    }


def _bandwidth_help(rulebook: Rulebook) -> list[dict[str, Any]]:
    return [
        {"label": Network(network).label, "minimum": rulebook.bandwidth.minimum_for(network)}
        for network in Network.values
    ]


def _endpoint_form_page(
    request: HttpRequest,
    *,
    action: Action,
    endpoint: Endpoint | None,
    save: Callable[[EndpointForm], Endpoint],
    success_message: str,
) -> HttpResponse:
    user = _user(request)
    rulebook = active_rulebook()
    agencies = agencies_user_can(user, action)
    if not agencies.exists():
        raise Forbidden(denial_message(action))
    initial: dict[str, Any] = {}
    if endpoint is not None:
        initial = {
            name: getattr(endpoint, name)
            for name in EndpointForm.base_fields
            if name != "agency"
        }
        initial["agency"] = endpoint.agency_id
    elif request.GET.get("agency"):
        initial["agency"] = request.GET["agency"]
    elif agencies.count() == 1:
        initial["agency"] = agencies.get().pk
    form = EndpointForm(
        request.POST if request.method == "POST" else None, initial=initial, agencies=agencies
    )
    suggestion_url = reverse("directory:name_suggestion") + (
        f"?endpoint={endpoint.pk}" if endpoint else ""
    )
    # Choosing an agency fetches its suggested device name (htmx, see _name_suggestion.html).
    form.fields["agency"].widget.attrs.update({
        "hx-get": suggestion_url,
        "hx-trigger": "change",
        "hx-target": "#name-suggestion",
        "hx-swap": "innerHTML",
    })
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: save(form))
        if outcome.ok and outcome.value is not None:
            messages.success(request, success_message % {"name": outcome.value.name})
            return redirect("directory:endpoint_detail", pk=outcome.value.pk)
    chosen_pk = str(form["agency"].value() or "")
    chosen = agencies.filter(pk=chosen_pk).first() if chosen_pk.isdigit() else None
    exclude_pk = endpoint.pk if endpoint else None
    return render(request, "directory/endpoint_form.html", {
        "form": form,
        "endpoint": endpoint,
        "suggestion": _suggestion(chosen, rulebook, exclude_pk) if chosen else None,
        "bandwidth_minimums": _bandwidth_help(rulebook),
        "naming_article": rulebook.cite(rulebook.naming.article) if rulebook.naming else "",
        "bandwidth_article": rulebook.cite(rulebook.bandwidth.article),
        "vcs_article": rulebook.cite(rulebook.vcs_address.article),
        "quota_article": rulebook.cite(rulebook.quotas.article),
        # ĐN Đ6.6, KH Đ11.5: the agency's changes to an admitted terminal wait for consent.
        "consent_needed": endpoint is not None and needs_consent(endpoint, user),
        "consent_article": rulebook.cite(consent_article(rulebook)),
    })


@login_required
def endpoint_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return _endpoint_form_page(
        request,
        action=Action.REGISTER_ENDPOINT,
        endpoint=None,
        save=lambda form: services.register_endpoint(form.to_input(), actor=user),
        success_message=_("Endpoint %(name)s was registered; it now waits for the evaluation."),
    )


@login_required
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    endpoint = _visible_endpoint(user, pk)
    _require(user, Action.EDIT_ENDPOINT, endpoint.agency)


    def save(form: EndpointForm) -> Endpoint:
        edit = services.edit_endpoint(endpoint, form.to_input(), actor=user)
        if edit.change_request is not None:
            messages.info(request, _(
                "The changed parameters were sent to the operator for consent; they apply "
                "once approved (%(article)s)."
            ) % {"article": active_rulebook().cite(consent_article(active_rulebook()))})
        return edit.endpoint

    return _endpoint_form_page(
        request,
        action=Action.EDIT_ENDPOINT,
        endpoint=endpoint,
        save=save,
        success_message=_("Endpoint %(name)s was saved."),
    )


@login_required
@require_GET
def name_suggestion(request: HttpRequest) -> HttpResponse:
    """htmx fragment: the suggested device name for the agency chosen in the form."""
    user = _user(request)
    endpoint_pk = request.GET.get("endpoint", "")
    action = Action.EDIT_ENDPOINT if endpoint_pk else Action.REGISTER_ENDPOINT
    agency_pk = request.GET.get("agency", "")
    agency = (
        agencies_user_can(user, action).filter(pk=agency_pk).first()
        if agency_pk.isdigit() else None
    )
    exclude_pk = int(endpoint_pk) if endpoint_pk.isdigit() else None
    context = {"suggestion": _suggestion(agency, active_rulebook(), exclude_pk) if agency else None}
    return render(request, "directory/_name_suggestion.html", context)


# ---------------------------------------------------------------- admission steps


def _step_page(
    request: HttpRequest,
    pk: int,
    *,
    action: Action,
    form_class: type[forms.Form],
    run: Callable[[Endpoint, User, forms.Form], Any],
    title: str,
    submit_label: str,
    success_message: str | Callable[[Any], str],
    template: str = "directory/endpoint_step.html",
    extra: Callable[[Endpoint, Rulebook], dict[str, Any]] | None = None,
    button_class: str = "btn-primary",
    initial: dict[str, Any] | None = None,
    form_kwargs: dict[str, Any] | None = None,
) -> HttpResponse:
    """One admission step on one endpoint: a form, then the service, then back to the page."""
    user = _user(request)
    rulebook = active_rulebook()
    endpoint = _visible_endpoint(user, pk)
    _require(user, action, endpoint.agency)
    form = form_class(request.POST if request.method == "POST" else None, initial=initial,
                      **(form_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: run(endpoint, user, form))
        if outcome.ok:
            text = success_message(outcome.value) if callable(success_message) else success_message
            messages.success(request, text)
            return redirect("directory:endpoint_detail", pk=endpoint.pk)
    context = {
        "endpoint": endpoint,
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "button_class": button_class,
        **(extra(endpoint, rulebook) if extra else {}),
    }
    return render(request, template, context)


def _rule(rulebook: Rulebook, key: str) -> dict[str, Any]:
    section = rulebook.rule(key)
    return {"rule": section, "rule_article": rulebook.cite(section.article) if section else ""}


@login_required
def endpoint_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    def run(endpoint: Endpoint, user: User, form: forms.Form) -> Any:
        assert isinstance(form, EvaluationForm)
        return services.evaluate_endpoint(endpoint, form.to_input(), actor=user)

    return _step_page(
        request, pk,
        action=Action.EVALUATE_ENDPOINT,
        form_class=EvaluationForm,
        run=run,
        title=_("Evaluate the technical conditions"),
        submit_label=_("Record the evaluation"),
        success_message=lambda evaluation: _(
            "Evaluation recorded: all conditions are met; the endpoint can get its account."
        ) if evaluation.passed else _(
            "Evaluation recorded: not all conditions are met; the endpoint was rejected."
        ),
        template="directory/endpoint_evaluate.html",
        form_kwargs={"items": list(active_rulebook().room_standard.items),
                     "english": not _vietnamese()},
        extra=lambda endpoint, rulebook: {
            **_rule(rulebook, "admission"),
            "room_items": [
                {"item": item, "article": rulebook.cite(item.article)}
                for item in rulebook.room_standard.items
            ],
        },
    )


@login_required
def endpoint_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Admit the endpoint and issue its account. The password is shown on this response only:
    it is not stored in clear, and the page is not kept by the browser."""
    user = _user(request)
    rulebook = active_rulebook()
    endpoint = _visible_endpoint(user, pk)
    _require(user, Action.APPROVE_ENDPOINT, endpoint.agency)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, form, lambda: services.approve_endpoint(endpoint, actor=user)
        )
        if outcome.ok and outcome.value is not None:
            approved, password = outcome.value
            response = render(request, "directory/endpoint_approved.html", {
                "endpoint": approved,
                "password": password,
                "credentials_article": rulebook.cite(rulebook.secrecy.credentials_article),
            })
            return no_store(response)
    return render(request, "directory/endpoint_step.html", {
        "endpoint": endpoint,
        "form": form,
        "title": _("Approve and issue the account"),
        "submit_label": _("Approve and issue the account"),
        "button_class": "btn-success",
        **_rule(rulebook, "admission"),
        # The checklist the approval service refuses by, line by line.
        "readiness": [
            {"label": c.label, "ok": c.met, "article": c.article, "code": c.code}
            for c in checklist(endpoint, Stage.ADMISSION, rulebook)
        ],
    })


@login_required
def endpoint_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    def run(endpoint: Endpoint, user: User, form: forms.Form) -> Any:
        return services.suspend_endpoint(endpoint, reason=form.cleaned_data["reason"], actor=user)

    return _step_page(
        request, pk,
        action=Action.SUSPEND_ENDPOINT,
        form_class=ReasonForm,
        run=run,
        title=_("Suspend the endpoint"),
        submit_label=_("Suspend"),
        success_message=_("The endpoint was suspended."),
        button_class="btn-warning",
    )


@login_required
def endpoint_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    def run(endpoint: Endpoint, user: User, form: forms.Form) -> Any:
        return services.reinstate_endpoint(endpoint, actor=user)

    return _step_page(
        request, pk,
        action=Action.SUSPEND_ENDPOINT,
        form_class=ConfirmForm,
        run=run,
        title=_("Reinstate the endpoint"),
        submit_label=_("Reinstate"),
        success_message=_("The endpoint was reinstated."),
        button_class="btn-success",
    )


@login_required
def endpoint_report_repair(request: HttpRequest, pk: int) -> HttpResponse:
    def run(endpoint: Endpoint, user: User, form: forms.Form) -> Any:
        return services.report_repair(endpoint, note=form.cleaned_data["note"], actor=user)

    return _step_page(
        request, pk,
        action=Action.EDIT_ENDPOINT,
        form_class=RepairForm,
        run=run,
        title=_("Report a repair or upgrade"),
        submit_label=_("Report the repair"),
        success_message=_("The repair was recorded; the device needs a new security check."),
        extra=lambda endpoint, rulebook: _rule(rulebook, "security_check"),
    )


@login_required
def endpoint_security_check(request: HttpRequest, pk: int) -> HttpResponse:
    def run(endpoint: Endpoint, user: User, form: forms.Form) -> Any:
        assert isinstance(form, SecurityCheckForm)
        return services.record_security_check(endpoint, form.to_input(), actor=user)

    return _step_page(
        request, pk,
        action=Action.RECORD_SECURITY_CHECK,
        form_class=SecurityCheckForm,
        run=run,
        title=_("Record a security check"),
        submit_label=_("Record the check"),
        success_message=_("The security check was recorded."),
        extra=lambda endpoint, rulebook: _rule(rulebook, "security_check"),
    )


# ---------------------------------------------------------------- contacts


@login_required
def contact_set(request: HttpRequest, pk: int) -> HttpResponse:
    role = request.GET.get("role", "")

    def run(endpoint: Endpoint, user: User, form: forms.Form) -> Any:
        assert isinstance(form, ContactForm)
        return services.set_contact(endpoint, form.to_input(), actor=user)

    return _step_page(
        request, pk,
        action=Action.MANAGE_CONTACTS,
        form_class=ContactForm,
        run=run,
        title=_("Assign a contact"),
        submit_label=_("Save the contact"),
        success_message=lambda contact: _("%(name)s is now the %(role)s of this endpoint.")
        % {"name": contact.full_name, "role": contact.get_role_display().lower()},
        initial={"role": role} if role in ContactRole.values else None,
        extra=lambda endpoint, rulebook: {
            **_rule(rulebook, "contacts"),
            "replacing": {
                c.role: c for c in endpoint.contacts.filter(active_until__isnull=True)
            },
        },
    )


@login_required
def contact_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    contact: Contact = get_object_or_404(
        contacts_visible_to(user).select_related("endpoint__agency"), pk=pk
    )
    endpoint = contact.endpoint
    _require(user, Action.MANAGE_CONTACTS, endpoint.agency)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(request, form, lambda: services.end_contact(
            contact, reason=form.cleaned_data["reason"], actor=user
        ))
        if outcome.ok:
            messages.success(request, _("%(name)s is no longer a contact of this endpoint.")
                             % {"name": contact.full_name})
            return redirect(reverse("directory:endpoint_detail", args=[endpoint.pk]) + "#contacts")
    return render(request, "directory/endpoint_step.html", {
        "endpoint": endpoint,
        "contact": contact,
        "form": form,
        "title": _("End the contact of %(name)s") % {"name": contact.full_name},
        "submit_label": _("End the contact"),
        "button_class": "btn-warning",
    })
