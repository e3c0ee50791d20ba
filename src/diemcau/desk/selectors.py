"""Read-side queries of the desk: who is on duty, which meetings no one covers, what falls
due, the consolidated contact list, and the time each party takes to answer an incident."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from diemcau.core.models import User
from diemcau.directory.choices import ContactRole
from diemcau.directory.models import Agency, Contact, Endpoint
from diemcau.directory.permissions import endpoints_visible_to
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import IncidentKind, IncidentStatus, MeetingStatus
from diemcau.scheduling.models import Incident, Meeting

from .models import DutyShift, IncidentRoute, MaintenanceTask, MeetingDuty, TrainingTask

# ---------------------------------------------------------------- duty


def on_duty(at: dt.datetime | None = None) -> QuerySet[DutyShift]:
    at = at or timezone.now()
    return DutyShift.objects.select_related("technician").filter(
        starts_at__lte=at, ends_at__gt=at).order_by("starts_at")


@dataclass(frozen=True)
class MeetingTechnician:
    technician: User | None
    assigned: bool  # named for the meeting; else whoever is on duty at its start


def technician_for(meeting: Meeting) -> MeetingTechnician:
    duty = MeetingDuty.objects.select_related("technician").filter(meeting=meeting).first()
    if duty is not None:
        return MeetingTechnician(duty.technician, True)
    shift = on_duty(meeting.starts_at).first()
    return MeetingTechnician(shift.technician if shift else None, False)


def uncovered_meetings(now: dt.datetime | None = None) -> list[Meeting]:
    """Accepted meetings starting within the rulebook's warning time (`duty.flag_hours_ahead`)
    with no technician assigned and no shift covering their start."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=active_rulebook().duty.flag_hours_ahead)
    meetings = list(
        Meeting.objects.filter(status=MeetingStatus.ACCEPTED, starts_at__gte=now,
                               starts_at__lte=horizon, desk_duty__isnull=True)
        .select_related("host_agency").order_by("starts_at"))
    if not meetings:
        return []
    shifts = list(DutyShift.objects.filter(starts_at__lte=horizon, ends_at__gt=now)
                  .values_list("starts_at", "ends_at"))
    return [m for m in meetings
            if not any(start <= m.starts_at < end for start, end in shifts)]


# ---------------------------------------------------------------- maintenance


def due_tasks(tasks: QuerySet[MaintenanceTask], today: dt.date | None = None
              ) -> QuerySet[MaintenanceTask]:
    """Tasks not done that fall due within the rulebook's `equipment.due_soon_days`, or are
    overdue."""
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=active_rulebook().equipment.due_soon_days)
    return tasks.filter(done_on__isnull=True, due_on__lte=soon).select_related(
        "plan__agency", "device").order_by("due_on")


# ---------------------------------------------------------------- response times


@dataclass
class PartyTimes:
    """How fast one party answered its incidents, in minutes."""

    party: str
    incidents: int = 0
    acknowledged: int = 0
    resolved: int = 0
    ack_minutes: list[float] = field(default_factory=list)
    resolve_minutes: list[float] = field(default_factory=list)

    @property
    def mean_ack_minutes(self) -> float | None:
        return round(mean(self.ack_minutes), 1) if self.ack_minutes else None

    @property
    def mean_resolve_minutes(self) -> float | None:
        return round(mean(self.resolve_minutes), 1) if self.resolve_minutes else None

    def as_dict(self) -> dict[str, Any]:
        return {"party": self.party, "incidents": self.incidents,
                "acknowledged": self.acknowledged, "resolved": self.resolved,
                "mean_ack_minutes": self.mean_ack_minutes,
                "mean_resolve_minutes": self.mean_resolve_minutes}


def _minutes(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 60


def response_times(
    since: dt.datetime | None = None, until: dt.datetime | None = None, *,
    operator_label: str = "",
) -> list[PartyTimes]:
    """Per party: each line provider (from sending to its acknowledgement and resolution),
    and the operating unit for the incidents it fixes itself (from the report to closing;
    its acknowledgement is the incident's closing or being taken in hand, not recorded apart,
    so only the resolution is counted). For the reports (R21)."""
    routes = IncidentRoute.objects.select_related("provider")
    incidents = Incident.objects.filter(desk_route__isnull=True).exclude(kind=IncidentKind.LINE)
    if since is not None:
        routes = routes.filter(sent_at__gte=since)
        incidents = incidents.filter(opened_at__gte=since)
    if until is not None:
        routes = routes.filter(sent_at__lt=until)
        incidents = incidents.filter(opened_at__lt=until)
    parties: dict[str, PartyTimes] = {}
    for route in routes:
        times = parties.setdefault(route.provider.name, PartyTimes(route.provider.name))
        times.incidents += 1
        if route.acknowledged_at:
            times.acknowledged += 1
            times.ack_minutes.append(_minutes(route.sent_at, route.acknowledged_at))
        if route.resolved_at:
            times.resolved += 1
            times.resolve_minutes.append(_minutes(route.sent_at, route.resolved_at))
    own = PartyTimes(operator_label or active_rulebook().operator.technical_unit_vi)
    for incident in incidents.only("opened_at", "closed_at", "status"):
        own.incidents += 1
        if incident.status == IncidentStatus.CLOSED and incident.closed_at:
            own.resolved += 1
            own.resolve_minutes.append(_minutes(incident.opened_at, incident.closed_at))
    result = sorted(parties.values(), key=lambda p: p.party)
    return [*result, own] if own.incidents else result


# ---------------------------------------------------------------- contacts


@dataclass(frozen=True)
class ContactRow:
    endpoint: Endpoint
    leader: Contact | None
    technician: Contact | None
    training_open: bool


def consolidated_contacts(user: User, agency: Agency | None = None, *,
                          subtree: bool = True) -> list[ContactRow]:
    """The consolidated list of endpoints, their room units and technicians (ĐN Đ14.9;
    KH Đ17.2c, Đ19.3), in the user's scope; for one agency, with its subordinate units when
    `subtree` (KH: the district compiles the list of its communes)."""
    endpoints = endpoints_visible_to(user).select_related("agency")
    if agency is not None:
        endpoints = endpoints.filter(
            Q(agency__path__startswith=agency.path) if subtree else Q(agency=agency))
    current = Contact.objects.filter(active_until__isnull=True).select_related("desk_training")
    endpoints = endpoints.prefetch_related(Prefetch("contacts", queryset=current,
                                                    to_attr="current_contacts"))
    rows = []
    for endpoint in endpoints.order_by("agency__path", "name"):
        by_role = {c.role: c for c in endpoint.current_contacts}  # type: ignore[attr-defined]
        technician = by_role.get(ContactRole.TECHNICIAN)
        training = getattr(technician, "desk_training", None) if technician else None
        rows.append(ContactRow(endpoint, by_role.get(ContactRole.LEADER), technician,
                               training is not None and training.done_on is None))
    return rows


def open_training(tasks: QuerySet[TrainingTask]) -> QuerySet[TrainingTask]:
    return tasks.filter(done_on__isnull=True, contact__active_until__isnull=True).select_related(
        "contact__endpoint__agency").order_by("created_at")
