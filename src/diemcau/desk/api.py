"""REST API of the operations desk, under /api/v1/desk/.

Reads start from the scoped querysets (`desk.permissions`, `directory.permissions`); an
object outside the caller's scope is "not found" (404). Writes call the services, which check
the permission (403) and the input (422) and write the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from diemcau.core.api_errors import responses
from diemcau.core.api_inputs import Id
from diemcau.core.errors import InvalidInput
from diemcau.core.models import User
from diemcau.core.permissions import Action, denied, is_operator, operators, role_allows
from diemcau.directory.models import Agency
from diemcau.directory.permissions import agencies_user_can, endpoints_visible_to
from diemcau.mcu.models import McuNode
from diemcau.scheduling.models import Incident
from diemcau.scheduling.permissions import meetings_visible_to

from . import selectors
from .models import (
    Device,
    DutyShift,
    IncidentRoute,
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
from .schemas import (
    AssignIn,
    ContactRowOut,
    DeviceWorkIn,
    DeviceWorkOut,
    DoneIn,
    EquipmentIn,
    EquipmentOut,
    HandoverIn,
    LineIn,
    LineOut,
    MaintenancePlanOut,
    MeetingDutyOut,
    NodeVersionsIn,
    NodeVersionsOut,
    PartyTimesOut,
    PlanIn,
    ProviderContactIn,
    ProviderContactOut,
    ProviderIn,
    ProviderOut,
    ReplyIn,
    RouteOut,
    ShiftIn,
    ShiftOut,
    TaskIn,
    TaskOut,
    TrainingOut,
)
from .services import duty, equipment, routing, training

router = Router(tags=["desk"])


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


class ScopeFilters(Schema):
    agency: Id | None = None
    subtree: bool = False


def _agency(user: User, agency_id: int | None, action: Action) -> Agency | None:
    if agency_id is None:
        return None
    return get_object_or_404(agencies_user_can(user, action), pk=agency_id)


def _technician(technician_id: int) -> User:
    user = operators().filter(pk=technician_id).first()
    if user is None:
        raise InvalidInput({"technician": [_("Only an active MCU operator can be on duty.")]})
    return user


# ---------------------------------------------------------------- equipment


@router.get("/desk/devices", response=responses({200: list[EquipmentOut]}))
def list_devices(request: HttpRequest, filters: Query[ScopeFilters]) -> QuerySet[Device]:
    user = _user(request)
    devices = devices_visible_to(user)
    agency = _agency(user, filters.agency, Action.VIEW_EQUIPMENT)
    if agency is not None:
        devices = (devices.filter(endpoint__agency__path__startswith=agency.path)
                   if filters.subtree else devices.filter(endpoint__agency=agency))
    return devices[:2000]


@router.post("/desk/endpoints/{int:endpoint_id}/devices", response=responses({201: EquipmentOut}))
def add_device(request: HttpRequest, endpoint_id: Id, payload: EquipmentIn) -> Status[Device]:
    endpoint = get_object_or_404(endpoints_visible_to(_user(request)), pk=endpoint_id)
    device = equipment.add_device(endpoint, equipment.DeviceInput(**payload.dict()),
                                  actor=_user(request))
    return Status(201, device)


@router.post("/desk/devices/{int:device_id}/works", response=responses({201: DeviceWorkOut}))
def record_work(request: HttpRequest, device_id: Id, payload: DeviceWorkIn) -> Status[Any]:
    """A repair or upgrade; where the rulebook asks (ĐN Đ16.5) the room goes back through the
    police check."""
    device = get_object_or_404(devices_visible_to(_user(request)), pk=device_id)
    work = equipment.record_device_work(device, kind=payload.kind, done_on=payload.done_on,
                                        description=payload.description, actor=_user(request))
    device.endpoint.refresh_from_db()
    return Status(201, {"id": work.pk, "device_id": device.pk, "kind": work.kind,
                        "done_on": work.done_on, "description": work.description,
                        "security_check_due": device.endpoint.security_check_due})


@router.put("/desk/endpoints/{int:endpoint_id}/line", response=responses({200: LineOut}))
def set_line(request: HttpRequest, endpoint_id: Id, payload: LineIn) -> Any:
    user = _user(request)
    endpoint = get_object_or_404(endpoints_visible_to(user), pk=endpoint_id)
    provider = LineProvider.objects.filter(pk=payload.provider).first()
    if provider is None:
        raise InvalidInput({"provider": [_("Unknown provider.")]})
    return equipment.set_line(endpoint, provider=provider,
                              circuit_reference=payload.circuit_reference, actor=user)


@router.get("/desk/nodes", response=responses({200: list[NodeVersionsOut]}))
def list_node_versions(request: HttpRequest) -> QuerySet[NodeVersions]:
    if not is_operator(_user(request)):
        raise denied(Action.MANAGE_MCU)
    return NodeVersions.objects.all()


@router.put("/desk/nodes/{int:node_id}/versions", response=responses({200: NodeVersionsOut}))
def put_node_versions(request: HttpRequest, node_id: Id, payload: NodeVersionsIn) -> Any:
    if not is_operator(_user(request)):
        raise denied(Action.MANAGE_MCU)
    node = get_object_or_404(McuNode, pk=node_id)
    return equipment.record_node_versions(node, equipment.NodeVersionsInput(**payload.dict()),
                                          actor=_user(request))


@router.get("/desk/plans", response=responses({200: list[MaintenancePlanOut]}))
def list_plans(request: HttpRequest) -> QuerySet[MaintenancePlan]:
    return plans_visible_to(_user(request)).prefetch_related("tasks")[:500]


@router.post("/desk/plans", response=responses({201: MaintenancePlanOut}))
def create_plan(request: HttpRequest, payload: PlanIn) -> Status[MaintenancePlan]:
    user = _user(request)
    agency = Agency.objects.filter(pk=payload.agency).first()
    if agency is None:
        raise InvalidInput({"agency": [_("Unknown agency.")]})
    return Status(201, equipment.create_plan(agency, year=payload.year, note=payload.note,
                                             actor=user))


@router.post("/desk/plans/{int:plan_id}/tasks", response=responses({201: TaskOut}))
def add_task(request: HttpRequest, plan_id: Id, payload: TaskIn) -> Status[MaintenanceTask]:
    plan = get_object_or_404(plans_visible_to(_user(request)), pk=plan_id)
    data = equipment.TaskInput(kind=payload.kind, title=payload.title, due_on=payload.due_on,
                               device_id=payload.device, estimated_cost=payload.estimated_cost)
    return Status(201, equipment.add_task(plan, data, actor=_user(request)))


@router.post("/desk/tasks/{int:task_id}/done", response=responses({200: TaskOut}))
def task_done(request: HttpRequest, task_id: Id, payload: DoneIn) -> MaintenanceTask:
    user = _user(request)
    task = get_object_or_404(MaintenanceTask.objects.filter(plan__in=plans_visible_to(user)),
                             pk=task_id)
    return equipment.complete_task(task, done_on=payload.done_on, note=payload.note, actor=user)


# ---------------------------------------------------------------- duty roster


@router.get("/desk/shifts", response=responses({200: list[ShiftOut]}))
def list_shifts(request: HttpRequest) -> QuerySet[DutyShift]:
    if not role_allows(_user(request), Action.MANAGE_DUTY):
        raise denied(Action.MANAGE_DUTY)
    return shifts_visible_to(_user(request)).select_related("technician").order_by(
        "-starts_at")[:500]


@router.post("/desk/shifts", response=responses({201: ShiftOut}))
def add_shift(request: HttpRequest, payload: ShiftIn) -> Status[DutyShift]:
    user = _user(request)
    if not role_allows(user, Action.MANAGE_DUTY):
        raise denied(Action.MANAGE_DUTY)
    shift = duty.add_shift(_technician(payload.technician), starts_at=payload.starts_at,
                           ends_at=payload.ends_at, note=payload.note, actor=user)
    return Status(201, shift)


@router.post("/desk/shifts/{int:shift_id}/handover", response=responses({201: ShiftOut}))
def hand_over(request: HttpRequest, shift_id: Id, payload: HandoverIn) -> Status[DutyShift]:
    user = _user(request)
    if not role_allows(user, Action.MANAGE_DUTY):
        raise denied(Action.MANAGE_DUTY)
    shift = get_object_or_404(shifts_visible_to(user), pk=shift_id)
    return Status(201, duty.hand_over(shift, to=_technician(payload.technician),
                                      note=payload.note, actor=user))


def _duty_out(meeting_id: int, found: selectors.MeetingTechnician) -> dict[str, Any]:
    tech = found.technician
    return {"meeting": meeting_id, "technician": tech.pk if tech else None,
            "technician_name": (tech.get_full_name() or tech.get_username()) if tech else "",
            "assigned": found.assigned}


@router.get("/desk/meetings/{int:meeting_id}/technician",
            response=responses({200: MeetingDutyOut}))
def meeting_technician(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    meeting = get_object_or_404(meetings_visible_to(_user(request)), pk=meeting_id)
    return _duty_out(meeting.pk, selectors.technician_for(meeting))


@router.put("/desk/meetings/{int:meeting_id}/technician",
            response=responses({200: MeetingDutyOut}))
def assign_meeting(request: HttpRequest, meeting_id: Id, payload: AssignIn) -> dict[str, Any]:
    user = _user(request)
    meeting = get_object_or_404(meetings_visible_to(user), pk=meeting_id)
    if not role_allows(user, Action.MANAGE_DUTY):
        raise denied(Action.MANAGE_DUTY)
    duty.assign_meeting(meeting, technician=_technician(payload.technician), actor=user)
    return _duty_out(meeting.pk, selectors.technician_for(meeting))


@router.get("/desk/uncovered-meetings", response=responses({200: list[MeetingDutyOut]}))
def uncovered(request: HttpRequest) -> list[dict[str, Any]]:
    """Meetings starting within `duty.flag_hours_ahead` that no one covers."""
    if not role_allows(_user(request), Action.MANAGE_DUTY):
        raise denied(Action.MANAGE_DUTY)
    return [_duty_out(m.pk, selectors.MeetingTechnician(None, False))
            for m in selectors.uncovered_meetings()]


# ---------------------------------------------------------------- providers and incidents


@router.get("/desk/providers", response=responses({200: list[ProviderOut]}))
def list_providers(request: HttpRequest) -> QuerySet[LineProvider]:
    if not role_allows(_user(request), Action.MANAGE_PROVIDERS):
        raise denied(Action.MANAGE_PROVIDERS)
    return providers_visible_to(_user(request)).prefetch_related("contacts")


@router.post("/desk/providers", response=responses({201: ProviderOut}))
def create_provider(request: HttpRequest, payload: ProviderIn) -> Status[LineProvider]:
    return Status(201, routing.save_provider(routing.ProviderInput(**payload.dict()),
                                             actor=_user(request)))


@router.post("/desk/providers/{int:provider_id}/contacts",
             response=responses({201: ProviderContactOut}))
def add_provider_contact(request: HttpRequest, provider_id: Id,
                         payload: ProviderContactIn) -> Status[Any]:
    user = _user(request)
    if not role_allows(user, Action.MANAGE_PROVIDERS):
        raise denied(Action.MANAGE_PROVIDERS)
    provider = get_object_or_404(providers_visible_to(user), pk=provider_id)
    area = None
    if payload.area is not None:
        area = Agency.objects.filter(pk=payload.area).first()
        if area is None:
            raise InvalidInput({"area": [_("Unknown agency.")]})
    return Status(201, routing.add_provider_contact(
        provider, full_name=payload.full_name, phone=payload.phone, email=payload.email,
        area=area, actor=user))


@router.post("/desk/incidents/{int:incident_id}/route", response=responses({201: RouteOut}))
def route_incident(request: HttpRequest, incident_id: Id) -> Status[IncidentRoute]:
    """Send a line incident to the provider of its endpoint's line."""
    user = _user(request)
    if not role_allows(user, Action.MANAGE_INCIDENT):
        raise denied(Action.MANAGE_INCIDENT)
    incident = get_object_or_404(Incident, pk=incident_id)
    return Status(201, routing.route_incident(incident, actor=user))


class KindOut(Schema):
    incident: int
    kind: str


class KindIn(Schema):
    kind: str = Field(description="terminal, line, mcu or room")


@router.post("/desk/incidents/{int:incident_id}/kind", response=responses({200: KindOut}))
def classify(request: HttpRequest, incident_id: Id, payload: KindIn) -> dict[str, Any]:
    """Say whose incident it is (ĐN Đ12.1, Đ12.2c–d; KH Đ14.1–2, Đ14.3c–d)."""
    from diemcau.scheduling.services.checks import classify_incident

    user = _user(request)
    if not role_allows(user, Action.MANAGE_INCIDENT):
        raise denied(Action.MANAGE_INCIDENT)
    incident = get_object_or_404(Incident, pk=incident_id)
    incident = classify_incident(incident, kind=payload.kind, actor=user)
    return {"incident": incident.pk, "kind": incident.kind}


@router.get("/desk/routes", response=responses({200: list[RouteOut]}))
def list_routes(request: HttpRequest) -> QuerySet[IncidentRoute]:
    if not role_allows(_user(request), Action.MANAGE_INCIDENT):
        raise denied(Action.MANAGE_INCIDENT)
    return routes_visible_to(_user(request))[:500]


@router.post("/desk/routes/{int:route_id}/reply", response=responses({200: RouteOut}))
def record_reply(request: HttpRequest, route_id: Id, payload: ReplyIn) -> IncidentRoute:
    """The operator records a reply the provider gave another way (telephone)."""
    user = _user(request)
    route = get_object_or_404(routes_visible_to(user), pk=route_id)
    return routing.record_reply(route, status=payload.status, reply=payload.reply, actor=user)


@router.get("/desk/response-times", response=responses({200: list[PartyTimesOut]}))
def response_times(request: HttpRequest) -> list[dict[str, Any]]:
    """Per party: incidents, and the mean minutes to acknowledge and to resolve."""
    if not role_allows(_user(request), Action.MANAGE_INCIDENT):
        raise denied(Action.MANAGE_INCIDENT)
    return [t.as_dict() for t in selectors.response_times()]


# ---------------------------------------------------------------- contacts and training


def _person(contact: Any) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"full_name": contact.full_name, "phone": contact.phone, "email": contact.email,
            "trained_on": contact.trained_on}


@router.get("/desk/contacts", response=responses({200: list[ContactRowOut]}))
def consolidated_contacts(request: HttpRequest,
                          filters: Query[ScopeFilters]) -> list[dict[str, Any]]:
    """The consolidated list of endpoints, room units and technicians; `subtree` includes the
    agency's subordinate units (KH Đ19.3: a district compiles its communes)."""
    user = _user(request)
    agency = _agency(user, filters.agency, Action.VIEW_CONTACTS)
    return [{"endpoint": r.endpoint.pk, "endpoint_name": r.endpoint.name,
             "agency": r.endpoint.agency.name, "location": r.endpoint.location,
             "leader": _person(r.leader), "technician": _person(r.technician),
             "training_open": r.training_open}
            for r in selectors.consolidated_contacts(user, agency, subtree=filters.subtree)]


@router.get("/desk/training", response=responses({200: list[TrainingOut]}))
def list_training(request: HttpRequest) -> QuerySet[TrainingTask]:
    return selectors.open_training(training_visible_to(_user(request)))


@router.post("/desk/training/{int:task_id}/done", response=responses({200: TrainingOut}))
def training_done(request: HttpRequest, task_id: Id, payload: DoneIn) -> TrainingTask:
    user = _user(request)
    task = get_object_or_404(training_visible_to(user), pk=task_id)
    return training.complete_training(task, done_on=payload.done_on, note=payload.note,
                                      actor=user)
