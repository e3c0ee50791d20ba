"""What stands behind a figure (R21: every figure links to the meetings or endpoints it
counts). A figure's link carries its period, scope and a few keys; `behind` turns them into
the rows, with the same sets (`basis`) and conditions (`figures`) the figure was counted
with, so the list is as long as the figure says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from diemcau.directory.models import Endpoint
from diemcau.media.models import Participation
from diemcau.scheduling.choices import CheckItem, CheckStatus, IncidentStatus, MeetingStatus
from diemcau.scheduling.models import Incident, Meeting, TechnicalCheck

from . import citations, figures
from .basis import HELD, OUTCOMES, Basis

KINDS = ("meetings", "checks", "incidents", "endpoints")


class UnknownFigure(ValueError):
    """A link whose keys name no figure."""


@dataclass
class Behind:
    kind: str  # one of KINDS
    rows: QuerySet[Any]


def _choice(params: Mapping[str, str], key: str, allowed: Any) -> str:
    value = params.get(key, "")
    if value and value not in allowed:
        raise UnknownFigure(key)
    return value


def behind(basis: Basis, params: Mapping[str, str]) -> Behind:
    """The rows behind a figure. `params`: `what` (meetings, checks, incidents, endpoints),
    `which` (current or previous) and the figure's own keys."""
    what = _choice(params, "what", KINDS) or "meetings"
    which = _choice(params, "which", ("current", "previous")) or "current"
    builder = {"meetings": _meetings, "checks": _checks, "incidents": _incidents,
               "endpoints": _endpoints}[what]
    return Behind(what, builder(basis, params, which))


# ---------------------------------------------------------------- meetings


def _meetings(basis: Basis, params: Mapping[str, str], which: str) -> QuerySet[Meeting]:
    rulebook = basis.rulebook
    endpoint = params.get("endpoint", "")
    if endpoint:
        return _endpoint_meetings(basis, params, which, endpoint)
    sla = _choice(params, "sla", figures.SLA_CLASSES)
    if sla:  # registrations: by when they were received
        return (basis.meetings().filter(basis.in_period("registered_at", which))
                .filter(figures.SLA_CLASSES[sla]).order_by("registered_at", "pk"))
    meetings = basis.meetings().filter(basis.in_period("starts_at", which))
    outcome = _choice(params, "outcome", OUTCOMES)
    if outcome:
        meetings = meetings.filter(status__in=OUTCOMES[outcome])
    level = _choice(params, "level", {lv.key for lv in rulebook.levels} | {"-"})
    if level:
        kinds = rulebook.kinds_for_level(level) if level != "-" else []
        meetings = (meetings.filter(host_agency__kind__in=kinds) if level != "-"
                    else meetings.exclude(host_agency__kind__in=list(rulebook.kind_levels)))
    if params.get("host"):
        meetings = meetings.filter(host_agency_id=_int(params["host"]))
    type_ = params.get("type", "")
    if type_:
        meetings = meetings.filter(meeting_type=type_)
    urgency = params.get("urgency", "")
    if urgency:
        meetings = meetings.filter(urgency=urgency)
    if params.get("node"):
        meetings = meetings.filter(node_id=_int(params["node"]), status__in=HELD)
    recording = _choice(params, "recording", ("requested", "requested_held", "handed_in_time",
                                              "handed_late", "handover_overdue"))
    if recording:
        meetings = meetings.filter(recording_requested=True)
        if recording == "requested_held":
            meetings = meetings.filter(status__in=HELD)
        elif recording == "handed_in_time":
            meetings = meetings.filter(
                recording__handed_over_at__lte=F("recording__handover_due_at"))
        elif recording == "handed_late":
            meetings = meetings.filter(
                recording__handed_over_at__gt=F("recording__handover_due_at"))
        elif recording == "handover_overdue":
            meetings = meetings.filter(
                recording__handed_over_at__isnull=True, recording__purged_at__isnull=True,
                recording__handover_due_at__lt=timezone.now())
    if "refused_article" in params:
        meetings = _refused_citing(meetings, params["refused_article"])
    return meetings.order_by("starts_at", "pk")


def _refused_citing(meetings: QuerySet[Meeting], article: str) -> QuerySet[Meeting]:
    refused = meetings.filter(status=MeetingStatus.REFUSED)
    reasons = set(refused.order_by().values_list("decision_reason", flat=True).distinct())
    return refused.filter(decision_reason__in=citations.reasons_citing(reasons, article))


def _endpoint_meetings(basis: Basis, params: Mapping[str, str], which: str,
                       endpoint: str) -> QuerySet[Meeting]:
    """Held meetings an endpoint of the scope was to attend, attended, or missed."""
    endpoint_id = _int(endpoint)
    if not basis.endpoints().filter(pk=endpoint_id).exists():
        return Meeting.objects.none()
    attendance = _choice(params, "attendance", ("invited", "attended", "missed")) or "invited"
    meetings = basis.visible_meetings().filter(basis.in_period("starts_at", which),
                                               status__in=HELD)
    meetings = meetings.filter(Q(participants=endpoint_id) | Q(host_endpoint_id=endpoint_id))
    connected = Exists(Participation.objects.filter(
        meeting=OuterRef("pk"), endpoint_id=endpoint_id, joined_at__isnull=False))
    if attendance == "attended":
        meetings = meetings.filter(connected)
    elif attendance == "missed":
        meetings = meetings.exclude(connected)
    return meetings.distinct().order_by("starts_at", "pk")


# ---------------------------------------------------------------- checks and incidents


def _checks(basis: Basis, params: Mapping[str, str], which: str) -> QuerySet[TechnicalCheck]:
    checks = (
        TechnicalCheck.objects.filter(meeting__in=basis.visible_meetings().values("pk"))
        .filter(basis.endpoint_filter("endpoint__"), basis.in_period("due_at", which))
    )
    status = _choice(params, "check", ("passed", "failed", "not_recorded", "due"))
    if status == "passed":
        checks = checks.filter(status=CheckStatus.PASSED)
    elif status == "failed":
        checks = checks.filter(status=CheckStatus.FAILED)
    elif status == "not_recorded":
        checks = checks.filter(status=CheckStatus.SCHEDULED, due_at__lt=basis.now)
    item = _choice(params, "item", CheckItem.values)
    if item:
        checks = checks.filter(status=CheckStatus.FAILED, **{f"results__{item}": False})
    return checks.select_related("meeting", "endpoint").order_by("due_at", "pk")


def _incidents(basis: Basis, params: Mapping[str, str], which: str) -> QuerySet[Incident]:
    incidents = (
        Incident.objects.filter(meeting__in=basis.visible_meetings().values("pk"))
        .filter(figures.incident_filter(basis), basis.in_period("opened_at", which))
        .annotate(kind=figures.incident_kind())
    )
    kind = _choice(params, "kind", figures.INCIDENT_KINDS)
    if kind:
        incidents = incidents.filter(kind=kind)
    state = _choice(params, "state", ("closed", "open"))
    closed = Q(status=IncidentStatus.CLOSED, closed_at__isnull=False)
    if state == "closed":
        incidents = incidents.filter(closed)
    elif state == "open":
        incidents = incidents.exclude(closed)
    item = _choice(params, "item", CheckItem.values)
    if item:
        incidents = incidents.filter(**{f"technical_check__results__{item}": False})
    return incidents.select_related("meeting", "endpoint").order_by("opened_at", "pk")


# ---------------------------------------------------------------- endpoints


def _endpoints(basis: Basis, params: Mapping[str, str], which: str) -> QuerySet[Endpoint]:
    endpoints = basis.endpoints().select_related("agency")
    change = _choice(params, "change", figures.ADMISSION_ACTIONS)
    if change:
        events = figures.admission_events(basis).filter(
            basis.in_period("at", which), action=figures.ADMISSION_ACTIONS[change])
        ids = [int(pk) for pk in events.values_list("object_id", flat=True).distinct()
               if pk.isdigit()]
        endpoints = endpoints.filter(pk__in=ids)
    status = params.get("status", "")
    if status:
        endpoints = endpoints.filter(status=status)
    return endpoints.order_by("agency__path", "name")


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UnknownFigure(value) from None
