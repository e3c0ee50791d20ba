"""REST API of scheduling: meetings, decisions, technical checks, incidents (R7–R15), /api/v1/.

Reads start from the scoped querysets of `scheduling.permissions` (the pages use the same), so
a meeting outside the caller's scope is "not found" (404). Writes call the services, which
check the permission (403), the state (409) and the rulebook (422, with the article) and write
the audit log. The meeting code (R13) appears only in a meeting's detail, for the callers
`_sees_code` names, never in lists.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import ValidationError
from ninja.pagination import paginate

from diemcau.core import calendar
from diemcau.core.api_errors import BODY, invalid_input_items, responses, rule_violation_item
from diemcau.core.api_inputs import Id, Pagination, ids_message, parse_ids
from diemcau.core.errors import InvalidInput, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require, role_allows
from diemcau.core.text import text_search
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.permissions import (
    agencies_visible_to,
    endpoints_visible_to,
)
from diemcau.rulebooks import Rulebook, active_rulebook

from . import planning, selectors
from .capacity import Window
from .choices import IncidentStatus, MeetingStatus
from .models import Incident, Meeting, TechnicalCheck
from .permissions import (
    can_see_code,
    checks_visible_to,
    incidents_visible_to,
    meetings_visible_to,
)
from .presenters import registration_channels
from .schemas import (
    AcceptIn,
    AcceptValidationErrorOut,
    BusyFilters,
    CalendarItemOut,
    CheckIn,
    CheckListOut,
    CheckOut,
    EndpointBusyOut,
    IncidentFilters,
    IncidentIn,
    IncidentOut,
    IncidentUpdateIn,
    MeetingDetailOut,
    MeetingFilters,
    MeetingIn,
    MeetingOut,
    PlanOut,
    QueueItemOut,
    RangeFilters,
    ReasonIn,
    RulesFilters,
    RulesOut,
    SeriesOut,
)
from .services import approval, registration
from .services.checks import CheckInput, record_check, report_incident, update_incident
from .services.lifecycle import accept_meeting, cancel_meeting, refuse_meeting, submit_meeting
from .services.registration import MeetingInput, create_meeting, create_series

router = Router()

MAX_PAGE = 500
MAX_BUSY_ENDPOINTS = 200
# The week calendar may ask for a month view with its leading and trailing weeks.
MAX_CALENDAR_DAYS = 62
# What the calendar shows: meetings that hold, or may soon hold, their time.
CALENDAR_STATUSES = (MeetingStatus.SUBMITTED, MeetingStatus.ACCEPTED, MeetingStatus.LIVE)

MEETINGS = ["meetings"]
DECISIONS = ["decisions"]
CHECKS = ["technical checks"]
INCIDENTS = ["incidents"]
CALENDAR = ["calendar"]


# ---------------------------------------------------------------- helpers


def _user(request: HttpRequest) -> User:
    """The authenticated caller (token or session), set by the API's auth."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _visible_meeting(request: HttpRequest, meeting_id: int) -> Meeting:
    queryset = meetings_visible_to(_user(request)).select_related(
        "host_agency", "host_endpoint", "node"
    )
    return get_object_or_404(queryset, pk=meeting_id)


def _no_store(response: HttpResponse) -> None:
    # The response carries a secret: no cache, proxy or browser history may keep it.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"


def _query_error(field: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": message, "type": "invalid"}])


def _check_range(start: Any, end: Any, max_days: int | None = None) -> None:
    if end <= start:
        raise _query_error("end", _("The end must be after the start."))
    if max_days is not None and (end - start).total_seconds() > max_days * 86400:
        raise _query_error("end", _("At most %(days)s days at once.") % {"days": max_days})


def _detail(meeting: Meeting, request: HttpRequest, response: HttpResponse) -> Meeting:
    """The meeting for `MeetingDetailOut`; a response carrying its code is never cached."""
    meeting = Meeting.objects.select_related("host_agency", "host_endpoint", "node").get(
        pk=meeting.pk
    )
    if meeting.code and can_see_code(_user(request), meeting):
        _no_store(response)
    return meeting


def _invitable_endpoints(user: User) -> QuerySet[Endpoint]:
    """Endpoints a registrar may name as participants: those in their scope, and every admitted
    endpoint of the province (a meeting invites other agencies' rooms)."""
    if not role_allows(user, Action.VIEW_ENDPOINT):
        return Endpoint.objects.none()
    visible = endpoints_visible_to(user).values("pk")
    return Endpoint.objects.filter(Q(pk__in=visible) | Q(status=EndpointStatus.APPROVED))


def _meeting_input(user: User, payload: MeetingIn) -> MeetingInput:
    """The service's input; ids the caller may not use are 422 on their field, not 404."""
    errors: dict[str, list[str]] = {}
    host_agency = agencies_visible_to(user).filter(pk=payload.host_agency).first()
    if host_agency is None:
        errors["host_agency"] = [_("Unknown agency.")]
    host_endpoint = (
        endpoints_visible_to(user).select_related("agency").filter(pk=payload.host_endpoint).first()
    )
    if host_endpoint is None:
        errors["host_endpoint"] = [_("Unknown endpoint.")]
    order = {pk: index for index, pk in reversed(list(enumerate(payload.participants)))}
    participants = sorted(
        _invitable_endpoints(user).select_related("agency").filter(pk__in=order),
        key=lambda endpoint: order[endpoint.pk],
    )
    unknown = sorted(set(order) - {endpoint.pk for endpoint in participants})
    if unknown:
        errors["participants"] = [
            _("Unknown endpoints: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        ]
    if errors or host_agency is None or host_endpoint is None:
        raise InvalidInput(errors)
    return MeetingInput(
        title=payload.title,
        host_agency=host_agency,
        host_endpoint=host_endpoint,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        place=payload.place,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        participants=participants,
        meeting_type=payload.meeting_type,
        rehearsal_starts_at=payload.rehearsal_starts_at,
        rehearsal_ends_at=payload.rehearsal_ends_at,
        urgency=payload.urgency,
        emergency_reason=payload.emergency_reason,
        classification=payload.classification,
        recording_requested=payload.recording_requested,
        support_notes=payload.support_notes,
    )


def _relocated(exc: InvalidInput, nested: dict[str, list[str]]) -> ValidationError:
    """The service names a field ("until") that the client sent nested (["repeat", "until"])."""
    items = invalid_input_items(exc)
    for item in items:
        loc = item["loc"]
        if len(loc) == 2 and loc[1] in nested:
            item["loc"] = [BODY, *nested[loc[1]]]
    return ValidationError(items)


def _agency_ref(agency: Agency) -> dict[str, Any]:
    return {"id": agency.pk, "name": agency.name, "abbreviation": agency.abbreviation}


def _revocations(meetings: Iterable[Meeting]) -> list[dict[str, Any]]:
    return [
        {
            "id": m.pk,
            "title": m.title,
            "registered_at": m.registered_at,
            "host_agency": _agency_ref(m.host_agency),
        }
        for m in meetings
    ]


def _translated(vi: str, en: str) -> str:
    return en if (get_language() or "vi").startswith("en") else vi


def _registrar(user: User, agency: Agency, rulebook: Rulebook) -> dict[str, Any]:
    """Whether `user` may register a meeting hosted by `agency` (ĐN Đ10.1–2, KH Đ12.1–2),
    asked of the registration service's own check so the answer never differs from it."""
    try:
        registration.check_registrar(user, agency, rulebook)
    except PermissionDenied as exc:
        return {"allowed": False, "message": str(exc), "article": None}
    except RuleViolation as exc:
        return {"allowed": False, "message": str(exc), "article": exc.article}
    return {"allowed": True, "message": None, "article": None}


# ---------------------------------------------------------------- meetings (R7, R8, R10)


@router.get("/meetings", response=responses({200: list[MeetingOut]}), tags=MEETINGS)
@paginate(Pagination, max_limit=MAX_PAGE)
def list_meetings(request: HttpRequest, filters: Query[MeetingFilters]) -> QuerySet[Meeting]:
    """Meetings in the caller's scope (hosted by, or inviting, its agencies). Never the code."""
    queryset = meetings_visible_to(_user(request)).select_related("host_agency", "host_endpoint")
    if filters.start is not None and filters.end is not None:
        _check_range(filters.start, filters.end)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.urgency:
        queryset = queryset.filter(urgency=filters.urgency)
    if filters.host_agency is not None:
        queryset = queryset.filter(host_agency_id=filters.host_agency)
    if filters.start is not None:
        queryset = queryset.filter(ends_at__gt=filters.start)
    if filters.end is not None:
        queryset = queryset.filter(starts_at__lt=filters.end)
    if filters.q:
        queryset = queryset.filter(
            text_search(filters.q, "title", "place", "host_agency__name")
        )
    return queryset.order_by("starts_at", "pk")


@router.get("/meetings/rules", response=responses({200: RulesOut}), tags=MEETINGS)
def registration_rules(request: HttpRequest, filters: Query[RulesFilters]) -> dict[str, Any]:
    """What a registration sent now must respect: the earliest start of the lead time (R8),
    the operator's reply deadline (R9) and, for `host_agency`, who registers (R10)."""
    rulebook = active_rulebook()
    user = _user(request)
    registrar = None
    if filters.host_agency is not None:
        agency = agencies_visible_to(user).filter(pk=filters.host_agency).first()
        if agency is None:
            raise _query_error("host_agency", _("Unknown agency."))
        registrar = _registrar(user, agency, rulebook)
    now = timezone.now()
    lead = rulebook.lead_times[filters.urgency]
    return {
        "urgency": filters.urgency,
        "exempt": lead.exempt,
        "earliest_start": calendar.earliest_start(rulebook, filters.urgency, now),
        "article": rulebook.cite(lead.article),
        "requirement": _translated(lead.text_vi, lead.text_en),
        "counted_from": calendar.registration_received_at(rulebook, now, filters.urgency),
        "reply_due_at": calendar.reply_deadline(rulebook, now, filters.urgency),
        "reply_article": rulebook.cite(rulebook.reply_sla.article),
        "registrar": registrar,
        "channels": registration_channels(rulebook),
        "channels_article": rulebook.cite(rulebook.registration.channels_article
                                          or rulebook.registration.article),
    }


@router.get(
    "/meetings/{int:meeting_id}",
    response=responses({200: MeetingDetailOut}),
    exclude_unset=True,
    tags=MEETINGS,
)
def get_meeting(request: HttpRequest, meeting_id: Id, response: HttpResponse) -> Any:
    """One meeting (R7) with its participants, MCU node, reply deadline and checks; the code
    only for the host's and participants' scope and the operator (R13)."""
    return _detail(_visible_meeting(request, meeting_id), request, response)


@router.post(
    "/meetings",
    response=responses({201: MeetingDetailOut | SeriesOut}),
    exclude_unset=True,
    tags=MEETINGS,
)
def create(request: HttpRequest, payload: MeetingIn, response: HttpResponse) -> Status[Any]:
    """Register a meeting, submitted at once unless `submit` is false (a draft). With `repeat`
    it is a series: every occurrence is submitted and decided on its own, and the answer is the
    series with its occurrences."""
    user = _user(request)
    data = _meeting_input(user, payload)
    if payload.repeat is None:
        meeting = create_meeting(data, actor=user, submit=payload.submit)
        return Status(201, _detail(meeting, request, response))
    if not payload.submit:
        raise ValidationError(
            [
                {
                    "loc": [BODY, "submit"],
                    "msg": _("Every meeting of a series is submitted; drafts are single."),
                    "type": "invalid",
                }
            ]
        )
    try:
        series = create_series(
            data, recurrence=payload.repeat.recurrence, until=payload.repeat.until, actor=user
        )
    except InvalidInput as exc:
        raise _relocated(
            exc, {"recurrence": ["repeat", "recurrence"], "until": ["repeat", "until"]}
        ) from exc
    occurrences = series.meetings.select_related("host_agency", "host_endpoint").order_by(
        "starts_at"
    )
    return Status(
        201,
        {
            "id": series.pk,
            "recurrence": series.recurrence,
            "until": series.until,
            "occurrences": list(occurrences),
        },
    )


@router.post(
    "/meetings/{int:meeting_id}/submit",
    response=responses({200: MeetingDetailOut}),
    exclude_unset=True,
    tags=MEETINGS,
)
def submit(request: HttpRequest, meeting_id: Id, response: HttpResponse) -> Any:
    """Submit a draft: the lead time is checked now (R8), the reply deadline starts (R9)."""
    meeting = submit_meeting(_visible_meeting(request, meeting_id), actor=_user(request))
    return _detail(meeting, request, response)


@router.post(
    "/meetings/{int:meeting_id}/cancel",
    response=responses({200: MeetingDetailOut}),
    exclude_unset=True,
    tags=MEETINGS,
)
def cancel(request: HttpRequest, meeting_id: Id, payload: ReasonIn, response: HttpResponse) -> Any:
    """The host withdraws the meeting; whatever it held is released at once."""
    meeting = _visible_meeting(request, meeting_id)
    cancelled = cancel_meeting(meeting, reason=payload.reason, actor=_user(request))
    return _detail(cancelled, request, response)


# ---------------------------------------------------------------- decisions (R9, R11–R13)


@router.post(
    "/meetings/{int:meeting_id}/accept",
    response=responses({200: MeetingDetailOut, 422: AcceptValidationErrorOut}),
    exclude_unset=True,
    tags=DECISIONS,
)
def accept(request: HttpRequest, meeting_id: Id, payload: AcceptIn, response: HttpResponse) -> Any:
    """Accept: book an MCU node and the endpoints, issue the code (R11, R13). When it only fits
    by revoking lower-level meetings (KH Đ12.4b), the answer is 422 with code
    `revocation_needs_confirmation` and the `revocations` to confirm in `confirm_revocations`."""
    meeting = _visible_meeting(request, meeting_id)
    try:
        accepted = accept_meeting(
            meeting, actor=_user(request), confirm_revocations=payload.confirm_revocations
        )
    except RuleViolation as exc:
        if exc.code != "revocation_needs_confirmation":
            raise
        # The service rolled back; the same plan, read again, says what it wanted revoked.
        plan = planning.plan(meeting, active_rulebook())
        item = {**rule_violation_item(exc), "revocations": _revocations(plan.revocations)}
        return Status(422, {"detail": [item]})
    return _detail(accepted, request, response)


@router.post(
    "/meetings/{int:meeting_id}/refuse",
    response=responses({200: MeetingDetailOut}),
    exclude_unset=True,
    tags=DECISIONS,
)
def refuse(request: HttpRequest, meeting_id: Id, payload: ReasonIn, response: HttpResponse) -> Any:
    """Refuse a submitted meeting, with the reason the host is told."""
    meeting = _visible_meeting(request, meeting_id)
    refused = refuse_meeting(meeting, reason=payload.reason, actor=_user(request))
    return _detail(refused, request, response)


@router.get("/meetings/{int:meeting_id}/plan", response=responses({200: PlanOut}), tags=DECISIONS)
def meeting_plan(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    """For the operator: the node the meeting would get if accepted now, the lower-level
    meetings that would be revoked (latest registered first) and the endpoints already busy."""
    meeting = _visible_meeting(request, meeting_id)
    require(_user(request), Action.DECIDE_MEETING)
    rulebook = active_rulebook()
    plan = planning.plan(meeting, rulebook)
    return {
        "meeting": meeting.pk,
        "possible": plan.possible,
        "full": plan.full,
        "node": plan.node,
        "revocations": _revocations(plan.revocations),
        "blocking_conflicts": [
            {"endpoint": c.endpoint, "meeting": c.meeting} for c in plan.blocking_conflicts
        ],
        "capacity_article": rulebook.cite(rulebook.capacity.article),
        "capacity_details": approval.capacity_details(plan.overflows, rulebook)
        if plan.full else "",
        "priority_article": rulebook.cite(rulebook.priority.article),
    }


@router.get("/operator/queue", response=responses({200: list[QueueItemOut]}), tags=DECISIONS)
@paginate(Pagination, max_limit=MAX_PAGE)
def operator_queue(request: HttpRequest) -> QuerySet[Meeting]:
    """Submitted meetings waiting for the operator: emergencies first (ĐN Đ10.3, KH Đ12.3),
    then by reply deadline, then by registration; each with the time left to reply (R9)."""
    user = _user(request)
    require(user, Action.DECIDE_MEETING)
    return selectors.operator_queue(meetings_visible_to(user))


# ---------------------------------------------------------------- rooms and the calendar


@router.get("/endpoints/busy", response=responses({200: list[EndpointBusyOut]}), tags=MEETINGS)
def busy_endpoints(request: HttpRequest, filters: Query[BusyFilters]) -> list[dict[str, Any]]:
    """For the registration form: the windows in which these endpoints are already held by an
    accepted or live meeting. Titles only of meetings the caller may see."""
    user = _user(request)
    ids = parse_ids(filters.ids, most=MAX_BUSY_ENDPOINTS)
    if ids is None:
        raise _query_error("ids", ids_message(MAX_BUSY_ENDPOINTS))
    _check_range(filters.start, filters.end, MAX_CALENDAR_DAYS)
    order = {pk: index for index, pk in reversed(list(enumerate(ids)))}
    endpoints = sorted(_invitable_endpoints(user).filter(pk__in=order), key=lambda e: order[e.pk])
    unknown = sorted(set(order) - {e.pk for e in endpoints})
    if unknown:
        raise _query_error(
            "ids", _("Unknown endpoints: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        )
    held = selectors.busy_endpoints(endpoints, [Window(filters.start, filters.end)])
    meeting_ids = {row.meeting_id for rows in held.values() for row in rows}
    visible = set(meetings_visible_to(user).filter(pk__in=meeting_ids).values_list("pk", flat=True))
    return [
        {
            "endpoint": endpoint,
            "held": [
                {
                    "kind": row.kind,
                    "starts_at": row.starts_at,
                    "ends_at": row.ends_at,
                    "meeting": row.meeting_id if row.meeting_id in visible else None,
                    "title": row.meeting.title if row.meeting_id in visible else None,
                }
                for row in sorted(held.get(endpoint.pk, []), key=lambda r: r.starts_at)
            ],
        }
        for endpoint in endpoints
    ]


# The fields of CalendarItemOut, in its order, and the columns they are read from.
CALENDAR_COLUMNS = {"id": "id", "title": "title", "starts_at": "starts_at",
                    "ends_at": "ends_at", "status": "status", "host_agency": "host_agency__name"}


@router.get("/calendar", response=responses({200: list[CalendarItemOut]}), tags=CALENDAR)
def week_calendar(request: HttpRequest, filters: Query[RangeFilters]) -> HttpResponse:
    """The meetings of the caller's scope that overlap [start, end) — submitted, accepted or
    live — for the week and month views (at most 62 days). One query whatever their number.
    No meeting lasts longer than `planning.MAX_MEETING_LENGTH`, so the start is bounded on
    both sides and the starts_at index is read for the range only."""
    _check_range(filters.start, filters.end, MAX_CALENDAR_DAYS)
    rows = (
        meetings_visible_to(_user(request))
        .filter(
            status__in=CALENDAR_STATUSES,
            starts_at__gt=filters.start - planning.MAX_MEETING_LENGTH,
            starts_at__lt=filters.end,
            ends_at__gt=filters.start,
        )
        .order_by("starts_at", "pk")
        .values_list(*CALENDAR_COLUMNS.values())
    )
    # A busy week holds hundreds of meetings: the rows go to the API's JSON renderer as they
    # are read, exactly as CalendarItemOut documents them (a test compares both), without a
    # model instance and a schema validation per row, which cost more than the query.
    from diemcau.api import api  # the API's own renderer (it imports this module)

    names = tuple(CALENDAR_COLUMNS)
    items = [dict(zip(names, row, strict=True)) for row in rows]
    return api.create_response(request, items, status=200)


# ---------------------------------------------------------------- technical checks (R15)


@router.get(
    "/meetings/{int:meeting_id}/checks", response=responses({200: CheckListOut}), tags=CHECKS
)
def list_checks(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    """The meeting's technical checks, before the rehearsal and the session, per endpoint."""
    meeting = _visible_meeting(request, meeting_id)
    rulebook = active_rulebook()
    rule = rulebook.technical_check
    checks = (
        checks_visible_to(_user(request))
        .filter(meeting=meeting)
        .select_related("endpoint", "checked_by")
        .order_by("due_at", "endpoint__name")
    )
    return {"items": list(rule.items), "article": rulebook.cite(rule.article), "checks": checks}


@router.post("/checks/{int:check_id}", response=responses({200: CheckOut}), tags=CHECKS)
def record(request: HttpRequest, check_id: Id, payload: CheckIn) -> TechnicalCheck:
    """The endpoint's technician records the checklist; anything not ready opens an incident
    that the operator tracks (ĐN Đ11.2c, KH Đ13.2c)."""
    check = get_object_or_404(checks_visible_to(_user(request)), pk=check_id)
    data = CheckInput(results=payload.results, remarks=payload.remarks)
    return record_check(check, data, actor=_user(request))


# ---------------------------------------------------------------- incidents (R15, R16, R18)


@router.post(
    "/meetings/{int:meeting_id}/incidents", response=responses({201: IncidentOut}), tags=INCIDENTS
)
def create_incident(request: HttpRequest, meeting_id: Id, payload: IncidentIn) -> Status[Any]:
    """An endpoint reports a problem it cannot fix itself (ĐN Đ12.4c, KH Đ14.4c)."""
    meeting = _visible_meeting(request, meeting_id)
    incident = report_incident(
        meeting, description=payload.description, actor=_user(request), endpoint_id=payload.endpoint
    )
    return Status(201, incident)


@router.get("/incidents", response=responses({200: list[IncidentOut]}), tags=INCIDENTS)
@paginate(Pagination, max_limit=MAX_PAGE)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]) -> QuerySet[Incident]:
    """Incidents of the meetings in the caller's scope: open first, then being fixed, then
    closed; the newest first within each."""
    queryset = incidents_visible_to(_user(request)).select_related(
        "meeting", "endpoint", "opened_by", "closed_by"
    )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.meeting is not None:
        queryset = queryset.filter(meeting_id=filters.meeting)
    open_first = Case(
        When(status=IncidentStatus.OPEN, then=Value(0)),
        When(status=IncidentStatus.IN_PROGRESS, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return queryset.annotate(open_order=open_first).order_by("open_order", "-opened_at", "-pk")


@router.post("/incidents/{int:incident_id}", response=responses({200: IncidentOut}), tags=INCIDENTS)
def change_incident(request: HttpRequest, incident_id: Id, payload: IncidentUpdateIn) -> Incident:
    """The operator tracks an incident: being fixed, then closed with what was done."""
    incident = get_object_or_404(incidents_visible_to(_user(request)), pk=incident_id)
    return update_incident(
        incident, status=payload.status, resolution=payload.resolution, actor=_user(request)
    )
