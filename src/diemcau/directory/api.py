"""REST API of the directory: agencies, endpoints, admission, contacts (R1–R6), under /api/v1/.

Reads start from the scoped querysets of `directory.permissions`; an object outside the
caller's scope is "not found" (404), never "forbidden", so its existence does not leak.
Writes call the services, which check the permission (403) and the rulebook (422) and write
the audit log.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import ValidationError
from ninja.pagination import paginate

from diemcau.core.api_errors import responses
from diemcau.core.api_inputs import Id, Pagination
from diemcau.core.errors import InvalidInput
from diemcau.core.models import User
from diemcau.core.text import text_search
from diemcau.rulebooks import active_rulebook

from . import naming
from .choices import ChangeRequestStatus
from .models import Agency, Contact, Device, Endpoint, EndpointChangeRequest
from .permissions import agencies_visible_to, contacts_visible_to, endpoints_visible_to
from .schemas import (
    AgencyDetailOut,
    AgencyFilters,
    AgencyOut,
    ApprovalOut,
    ChangeDecisionIn,
    ChangeRequestFilters,
    ChangeRequestIn,
    ChangeRequestOut,
    ContactEndIn,
    ContactIn,
    ContactListOut,
    ContactOut,
    DeviceIn,
    DeviceOut,
    EndpointDetailOut,
    EndpointFilters,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EvaluationIn,
    EvaluationResultOut,
    NameSuggestionOut,
    QuotaExceptionIn,
    QuotaExceptionOut,
    ReasonIn,
    RepairIn,
    SecurityCheckIn,
    SecurityCheckResultOut,
)
from .services import (
    ContactInput,
    DeviceInput,
    EndpointInput,
    EvaluationInput,
    SecurityCheckInput,
    add_device,
    approve_change,
    approve_endpoint,
    edit_endpoint,
    end_contact,
    evaluate_endpoint,
    record_quota_exception,
    record_security_check,
    refuse_change,
    register_endpoint,
    reinstate_endpoint,
    remove_device,
    report_repair,
    request_change,
    set_contact,
    suspend_endpoint,
)
from .suggestions import name_suggestion

router = Router()

MAX_PAGE = 500
AGENCIES = ["agencies"]
ENDPOINTS = ["endpoints"]
ADMISSION = ["admission"]
CHANGES = ["change requests"]
CONTACTS = ["contacts"]


# ---------------------------------------------------------------- helpers


def _user(request: HttpRequest) -> User:
    """The authenticated caller (token or session), set by the API's auth."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _visible_agency(request: HttpRequest, agency_id: int) -> Agency:
    queryset = agencies_visible_to(_user(request)).select_related("parent")
    return get_object_or_404(queryset, pk=agency_id)


def _visible_endpoint(request: HttpRequest, endpoint_id: int) -> Endpoint:
    queryset = endpoints_visible_to(_user(request)).select_related("agency")
    return get_object_or_404(queryset, pk=endpoint_id)


def _agency_for_input(request: HttpRequest, agency_id: int) -> Agency:
    """The agency named in a request body: unknown → 422 on that field, not 404 of the URL."""
    agency = agencies_visible_to(_user(request)).filter(pk=agency_id).first()
    if agency is None:
        raise InvalidInput({"agency": [_("Unknown agency.")]})
    return agency


def _query_error(field: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": message, "type": "invalid"}])


def _no_store(response: HttpResponse) -> None:
    # The response carries a secret: no cache, proxy or browser history may keep it.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


# ---------------------------------------------------------------- agencies


@router.get("/agencies", response=responses({200: list[AgencyOut]}), tags=AGENCIES)
@paginate(Pagination, max_limit=MAX_PAGE)
def list_agencies(request: HttpRequest, filters: Query[AgencyFilters]) -> QuerySet[Agency]:
    """Agencies of the province (the organisation chart every signed-in role may browse)."""
    queryset = agencies_visible_to(_user(request)).select_related("parent")
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.level:
        rulebook = active_rulebook()
        if filters.level not in {level.key for level in rulebook.levels}:
            raise _query_error(
                "level",
                _("Unknown level; this province's levels are: %(levels)s")
                % {"levels": ", ".join(level.key for level in rulebook.levels)},
            )
        queryset = queryset.filter(kind__in=rulebook.kinds_for_level(filters.level))
    if filters.parent is not None:
        queryset = queryset.filter(parent_id=filters.parent)
    if filters.q:
        queryset = queryset.filter(text_search(filters.q, "name", "abbreviation"))
    return queryset


@router.get("/agencies/{int:agency_id}", response=responses({200: AgencyDetailOut}), tags=AGENCIES)
def get_agency(request: HttpRequest, agency_id: Id) -> Agency:
    """One agency with its level and the endpoints the caller may see."""
    return _visible_agency(request, agency_id)


@router.get(
    "/agencies/{int:agency_id}/name-suggestion",
    response=responses({200: NameSuggestionOut}),
    tags=AGENCIES,
)
def suggest_endpoint_name(request: HttpRequest, agency_id: Id) -> dict[str, Any]:
    """A free endpoint name that follows the naming rule (KH Đ6.4, R3). When the agency's
    quota is full there is none: `refusal` cites the quota's clause (KH Đ8 khoản 2, 3…) and
    `device_name` names the next device of its room instead."""
    agency = _visible_agency(request, agency_id)
    rulebook = active_rulebook()
    has_rule = rulebook.naming is not None and naming.expected_base_name(agency, rulebook)
    suggestion = name_suggestion(agency, rulebook)
    refusal = suggestion.refusal
    return {
        "agency": agency.pk,
        "name": suggestion.name,
        "article": rulebook.cite(rulebook.naming.article) if has_rule and rulebook.naming else None,
        "refusal": None if refusal is None else {
            "code": refusal.code, "article": refusal.article, "message": refusal.message
        },
        "device_name": suggestion.device_name,
    }


@router.post(
    "/agencies/{int:agency_id}/quota-exceptions",
    response=responses({201: QuotaExceptionOut}),
    tags=ADMISSION,
)
def create_quota_exception(
    request: HttpRequest, agency_id: Id, payload: QuotaExceptionIn
) -> Status[Any]:
    """Record UBND tỉnh's approval of endpoints beyond the quota (KH Đ8)."""
    agency = _visible_agency(request, agency_id)
    exception = record_quota_exception(
        agency,
        extra_endpoints=payload.extra_endpoints,
        decision_reference=payload.decision_reference,
        decided_on=payload.decided_on,
        note=payload.note,
        actor=_user(request),
    )
    return Status(201, exception)


# ---------------------------------------------------------------- endpoints


@router.get("/endpoints", response=responses({200: list[EndpointOut]}), tags=ENDPOINTS)
@paginate(Pagination, max_limit=MAX_PAGE)
def list_endpoints(request: HttpRequest, filters: Query[EndpointFilters]) -> QuerySet[Endpoint]:
    """Endpoints in the caller's scope (a commune sees its own, the operator all)."""
    queryset = endpoints_visible_to(_user(request)).select_related("agency")
    if filters.agency is not None:
        queryset = queryset.filter(agency_id=filters.agency)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.network:
        queryset = queryset.filter(network=filters.network)
    if filters.terminal_kind:
        queryset = queryset.filter(terminal_kind=filters.terminal_kind)
    if filters.q:
        queryset = queryset.filter(
            text_search(filters.q, "name", "location", "agency__name")
        )
    return queryset


@router.get(
    "/endpoints/{int:endpoint_id}", response=responses({200: EndpointDetailOut}), tags=ENDPOINTS
)
def get_endpoint(request: HttpRequest, endpoint_id: Id) -> Endpoint:
    """One endpoint with its evaluations and security checks; 404 outside the caller's scope."""
    return _visible_endpoint(request, endpoint_id)


@router.post("/endpoints", response=responses({201: EndpointOut}), tags=ENDPOINTS)
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status[Endpoint]:
    """Register an endpoint; it waits for the operator's evaluation (R2, R3, R4)."""
    data = EndpointInput(
        agency=_agency_for_input(request, payload.agency),
        name=payload.name,
        terminal_kind=payload.terminal_kind,
        network=payload.network,
        bandwidth_mbps=payload.bandwidth_mbps,
        dedicated_line=payload.dedicated_line,
        vcs_ip=str(payload.vcs_ip) if payload.vcs_ip is not None else None,
        sip_uri=payload.sip_uri or None,
        location=payload.location,
        room_meets_standard=payload.room_meets_standard,
        room_notes=payload.room_notes,
    )
    return Status(201, register_endpoint(data, actor=_user(request)))


@router.patch(
    "/endpoints/{int:endpoint_id}",
    response=responses({200: EndpointOut, 202: ChangeRequestOut}),
    tags=ENDPOINTS,
)
def patch_endpoint(request: HttpRequest, endpoint_id: Id, payload: EndpointPatch) -> Any:
    """Change the fields sent; the others keep their values. On an admitted endpoint an
    agency's change to the terminal's parameters is not applied but asked of the operator
    (ĐN Đ6.6, KH Đ11.5): the answer is then 202 with the change request; the other fields
    sent are saved."""
    endpoint = _visible_endpoint(request, endpoint_id)
    sent = payload.model_fields_set
    agency = (
        _agency_for_input(request, payload.agency)
        if "agency" in sent and payload.agency is not None
        else endpoint.agency
    )
    if "vcs_ip" in sent:
        vcs_ip = str(payload.vcs_ip) if payload.vcs_ip is not None else None
    else:
        vcs_ip = endpoint.vcs_ip

    def value(name: str) -> Any:
        return getattr(payload, name) if name in sent else getattr(endpoint, name)

    data = EndpointInput(
        agency=agency,
        name=value("name"),
        terminal_kind=value("terminal_kind"),
        network=value("network"),
        bandwidth_mbps=value("bandwidth_mbps"),
        dedicated_line=value("dedicated_line"),
        vcs_ip=vcs_ip,
        sip_uri=(payload.sip_uri or None) if "sip_uri" in sent else endpoint.sip_uri,
        location=value("location"),
        room_meets_standard=value("room_meets_standard"),
        room_notes=value("room_notes"),
    )
    edit = edit_endpoint(endpoint, data, actor=_user(request))
    if edit.change_request is not None:
        return Status(202, edit.change_request)
    return edit.endpoint


# ---------------------------------------------------------------- admission (R5)


@router.post(
    "/endpoints/{int:endpoint_id}/evaluate",
    response=responses({201: EvaluationResultOut}),
    tags=ADMISSION,
)
def evaluate(request: HttpRequest, endpoint_id: Id, payload: EvaluationIn) -> Status[Any]:
    """The operator's evaluation of the technical conditions (KH Đ9.3): one answer per item
    of the rulebook's room standard (`GET /rulebook` lists them under room_standard.items)."""
    endpoint = _visible_endpoint(request, endpoint_id)
    evaluation = evaluate_endpoint(
        endpoint,
        EvaluationInput(answers=dict(payload.answers), remarks=payload.remarks),
        actor=_user(request),
    )
    return Status(201, {"evaluation": evaluation, "endpoint": evaluation.endpoint})


@router.post(
    "/endpoints/{int:endpoint_id}/approve", response=responses({200: ApprovalOut}), tags=ADMISSION
)
def approve(request: HttpRequest, endpoint_id: Id, response: HttpResponse) -> dict[str, Any]:
    """Admit the endpoint and issue its account. The password is in this response only."""
    endpoint = _visible_endpoint(request, endpoint_id)
    endpoint, password = approve_endpoint(endpoint, actor=_user(request))
    _no_store(response)
    return {
        "endpoint": endpoint,
        "account_username": endpoint.account_username,
        "account_password": password,
    }


@router.post(
    "/endpoints/{int:endpoint_id}/suspend", response=responses({200: EndpointOut}), tags=ADMISSION
)
def suspend(request: HttpRequest, endpoint_id: Id, payload: ReasonIn) -> Endpoint:
    endpoint = _visible_endpoint(request, endpoint_id)
    return suspend_endpoint(endpoint, reason=payload.reason, actor=_user(request))


@router.post(
    "/endpoints/{int:endpoint_id}/reinstate", response=responses({200: EndpointOut}), tags=ADMISSION
)
def reinstate(request: HttpRequest, endpoint_id: Id) -> Endpoint:
    endpoint = _visible_endpoint(request, endpoint_id)
    return reinstate_endpoint(endpoint, actor=_user(request))


@router.post(
    "/endpoints/{int:endpoint_id}/security-checks",
    response=responses({201: SecurityCheckResultOut}),
    tags=ADMISSION,
)
def security_check(
    request: HttpRequest, endpoint_id: Id, payload: SecurityCheckIn
) -> Status[Any]:
    """Record the security check with the provincial police (ĐN Đ8.3c, Đ16.5)."""
    endpoint = _visible_endpoint(request, endpoint_id)
    check = record_security_check(
        endpoint,
        SecurityCheckInput(
            reason=payload.reason,
            result=payload.result,
            checked_on=payload.checked_on,
            police_reference=payload.police_reference,
            remarks=payload.remarks,
        ),
        actor=_user(request),
    )
    return Status(201, {"security_check": check, "endpoint": check.endpoint})


@router.post(
    "/endpoints/{int:endpoint_id}/repair", response=responses({200: EndpointOut}), tags=ADMISSION
)
def repair(request: HttpRequest, endpoint_id: Id, payload: RepairIn) -> Endpoint:
    """Report a repaired or upgraded device: it needs a new security check (ĐN Đ16.5)."""
    endpoint = _visible_endpoint(request, endpoint_id)
    return report_repair(endpoint, note=payload.note, actor=_user(request))


# ---------------------------------------------------------------- contacts (R6)


@router.get(
    "/endpoints/{int:endpoint_id}/contacts",
    response=responses({200: ContactListOut}),
    tags=CONTACTS,
)
def list_contacts(request: HttpRequest, endpoint_id: Id) -> dict[str, list[Contact]]:
    """The endpoint's current leader and technician, and who held the posts before."""
    endpoint = _visible_endpoint(request, endpoint_id)
    contacts = list(contacts_visible_to(_user(request)).filter(endpoint=endpoint))
    history = sorted(
        (c for c in contacts if not c.is_current),
        key=lambda c: c.active_until or c.active_from,
        reverse=True,
    )
    return {"current": [c for c in contacts if c.is_current], "history": history}


@router.post(
    "/endpoints/{int:endpoint_id}/contacts", response=responses({201: ContactOut}), tags=CONTACTS
)
def create_contact(request: HttpRequest, endpoint_id: Id, payload: ContactIn) -> Status[Any]:
    """Assign the office leader or technician; the previous holder is ended, not erased."""
    endpoint = _visible_endpoint(request, endpoint_id)
    contact = set_contact(
        endpoint,
        ContactInput(
            role=payload.role,
            full_name=payload.full_name,
            phone=payload.phone,
            email=payload.email,
            trained_on=payload.trained_on,
            change_reason=payload.change_reason,
        ),
        actor=_user(request),
    )
    return Status(201, contact)


@router.post("/contacts/{int:contact_id}/end", response=responses({200: ContactOut}), tags=CONTACTS)
def end(request: HttpRequest, contact_id: Id, payload: ContactEndIn) -> Contact:
    """The person left the post and nobody replaces them yet."""
    contact = get_object_or_404(contacts_visible_to(_user(request)), pk=contact_id)
    return end_contact(contact, reason=payload.reason, actor=_user(request))


# ---------------------------------------------------------------- devices of a room (KH Đ6.4)


@router.get(
    "/endpoints/{int:endpoint_id}/devices", response=responses({200: list[DeviceOut]}),
    tags=ENDPOINTS,
)
def list_devices(request: HttpRequest, endpoint_id: Id) -> list[Device]:
    """The room's further devices; the room's own terminal is the endpoint itself."""
    return list(_visible_endpoint(request, endpoint_id).devices.all())


@router.post(
    "/endpoints/{int:endpoint_id}/devices", response=responses({201: DeviceOut}), tags=ENDPOINTS
)
def create_device(request: HttpRequest, endpoint_id: Id, payload: DeviceIn) -> Status[Any]:
    """Add a device to the room, named after it with a number (KH Đ6.4). The quota counts
    rooms (KH Đ8), so this is possible when the agency's quota is full."""
    endpoint = _visible_endpoint(request, endpoint_id)
    device = add_device(endpoint, DeviceInput(
        name=payload.name, terminal_kind=payload.terminal_kind,
        vcs_ip=str(payload.vcs_ip) if payload.vcs_ip is not None else None, note=payload.note,
    ), actor=_user(request))
    return Status(201, device)


@router.delete("/devices/{int:device_id}", response=responses({204: None}), tags=ENDPOINTS)
def delete_device(request: HttpRequest, device_id: Id) -> Status[None]:
    visible = endpoints_visible_to(_user(request))
    device = get_object_or_404(Device.objects.filter(endpoint__in=visible), pk=device_id)
    remove_device(device, actor=_user(request))
    return Status(204, None)


# ---------------------------------------------------------------- change requests (ĐN Đ6.6)


def _change_requests(request: HttpRequest) -> QuerySet[EndpointChangeRequest]:
    """Change requests of the endpoints the caller may see (the operator: all)."""
    visible = endpoints_visible_to(_user(request))
    return EndpointChangeRequest.objects.filter(endpoint__in=visible).select_related(
        "endpoint", "requested_by", "decided_by"
    )


@router.get("/change-requests", response=responses({200: list[ChangeRequestOut]}), tags=CHANGES)
@paginate(Pagination, max_limit=MAX_PAGE)
def list_change_requests(
    request: HttpRequest, filters: Query[ChangeRequestFilters]
) -> QuerySet[EndpointChangeRequest]:
    """The operator's queue (status=pending) and each agency's own requests."""
    queryset = _change_requests(request)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.endpoint is not None:
        queryset = queryset.filter(endpoint_id=filters.endpoint)
    return queryset.order_by("requested_at", "pk") if filters.status == (
        ChangeRequestStatus.PENDING) else queryset


@router.get(
    "/change-requests/{int:request_id}", response=responses({200: ChangeRequestOut}),
    tags=CHANGES,
)
def get_change_request(request: HttpRequest, request_id: Id) -> EndpointChangeRequest:
    return get_object_or_404(_change_requests(request), pk=request_id)


@router.post(
    "/endpoints/{int:endpoint_id}/change-requests",
    response=responses({201: ChangeRequestOut}),
    tags=CHANGES,
)
def create_change_request(
    request: HttpRequest, endpoint_id: Id, payload: ChangeRequestIn
) -> Status[Any]:
    """Ask the operator to change an admitted endpoint's parameters (ĐN Đ6.6, KH Đ11.5)."""
    endpoint = _visible_endpoint(request, endpoint_id)
    sent = payload.model_fields_set - {"reason"}
    changes: dict[str, Any] = {}
    for name in sent:
        value = getattr(payload, name)
        changes[name] = str(value) if name in ("vcs_ip", "bandwidth_mbps") and value is not None \
            else value
    change = request_change(endpoint, changes, actor=_user(request), reason=payload.reason)
    return Status(201, change)


@router.post(
    "/change-requests/{int:request_id}/approve",
    response=responses({200: ChangeRequestOut}),
    tags=CHANGES,
)
def approve_change_request(
    request: HttpRequest, request_id: Id, payload: ChangeDecisionIn
) -> EndpointChangeRequest:
    """The operator consents; the parameters are applied (a new terminal: police check)."""
    change = get_object_or_404(_change_requests(request), pk=request_id)
    return approve_change(change, actor=_user(request), note=payload.note)


@router.post(
    "/change-requests/{int:request_id}/refuse",
    response=responses({200: ChangeRequestOut}),
    tags=CHANGES,
)
def refuse_change_request(
    request: HttpRequest, request_id: Id, payload: ReasonIn
) -> EndpointChangeRequest:
    change = get_object_or_404(_change_requests(request), pk=request_id)
    return refuse_change(change, actor=_user(request), reason=payload.reason)
