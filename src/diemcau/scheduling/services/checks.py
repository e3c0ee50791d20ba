"""Technical checks before the rehearsal and the session, and incidents (R15, R16)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User
from diemcau.core.permissions import Action, denied, require
from diemcau.rulebooks import active_rulebook

from ..choices import (
    HOLDING_STATUSES,
    CheckStatus,
    IncidentKind,
    IncidentStatus,
    check_item_label,
)
from ..models import Incident, Meeting, TechnicalCheck
from ..rules import (
    incident_refusal,
    incident_update_refusal,
    may_manage_incidents,
    may_report_incident,
)

CHECK_FIELDS = ["status", "results", "remarks", "checked_by_id", "checked_at"]
INCIDENT_FIELDS = [
    "status",
    "kind",
    "description",
    "resolution",
    "endpoint_id",
    "technical_check_id",
    "closed_at",
    "closed_by_id",
]


@dataclass
class CheckInput:
    results: dict[str, bool] = field(default_factory=dict)
    remarks: str = ""


@transaction.atomic
def record_check(check: TechnicalCheck, data: CheckInput, *, actor: User) -> TechnicalCheck:
    """Record the checklist of one endpoint. Any item not ready opens an incident that the
    operator tracks to closure (ĐN Đ11.2c, KH Đ13.2c)."""
    check = (
        TechnicalCheck.objects.select_for_update()
        .select_related("endpoint__agency", "meeting")
        .get(pk=check.pk)
    )
    require(actor, Action.RECORD_CHECK, check.endpoint.agency)
    if check.meeting.status not in HOLDING_STATUSES:
        raise InvalidTransition(_("The meeting is no longer accepted."))
    items = active_rulebook().technical_check.items
    unknown = set(data.results) - set(items)
    missing = [item for item in items if item not in data.results]
    if unknown or missing:
        raise InvalidInput(
            {
                "results": [
                    _("Answer every item of the checklist: %(items)s.")
                    % {"items": ", ".join(items)}
                ]
            }
        )
    failed = [item for item in items if not data.results[item]]
    if failed and not data.remarks.strip():
        raise InvalidInput({"remarks": [_("Describe what is not ready.")]})
    before = audit.snapshot(check, CHECK_FIELDS)
    check.results = {item: bool(data.results[item]) for item in items}
    check.remarks = data.remarks.strip()
    check.status = CheckStatus.FAILED if failed else CheckStatus.PASSED
    check.checked_by, check.checked_at = actor, timezone.now()
    check.save()
    audit.record(
        "check.record", check, actor=actor, before=before, after=audit.snapshot(check, CHECK_FIELDS)
    )
    if failed:
        _open(
            check.meeting,
            actor,
            description=_("Not ready: %(items)s. %(remarks)s")
            % {"items": ", ".join(check_item_label(i) for i in failed), "remarks": check.remarks},
            endpoint_id=check.endpoint_id,
            check=check,
        )
    return check


def _open(
    meeting: Meeting,
    actor: User,
    *,
    description: str,
    endpoint_id: int | None,
    check: TechnicalCheck | None = None,
) -> Incident:
    incident = Incident.objects.create(
        meeting=meeting,
        endpoint_id=endpoint_id,
        technical_check=check,
        description=description,
        opened_by=actor,
    )
    audit.record(
        "incident.open", incident, actor=actor, after=audit.snapshot(incident, INCIDENT_FIELDS)
    )
    from .. import notices

    notices.incident_opened(incident)
    return incident


@transaction.atomic
def report_incident(
    meeting: Meeting, *, description: str, actor: User, endpoint_id: int | None = None
) -> Incident:
    """An endpoint reports a problem it cannot fix itself (ĐN Đ12.4c, KH Đ14.4c). Who may, and
    on which meetings, is `rules.may_report_incident` and `rules.incident_refusal`: the pages,
    the API and the live console (media's escalation) all come through here."""
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("host_agency")
        .get(pk=meeting.pk)
    )
    endpoint = None
    if endpoint_id is not None:
        endpoint = meeting.participants.select_related("agency").filter(pk=endpoint_id).first() or (
            meeting.host_endpoint if meeting.host_endpoint_id == endpoint_id else None
        )
        if endpoint is None:
            raise InvalidInput({"endpoint": [_("This endpoint is not in the meeting.")]})
    if not may_report_incident(actor, meeting, endpoint):
        raise denied(Action.REPORT_INCIDENT)
    refusal = incident_refusal(meeting)
    if refusal is not None:
        raise refusal
    if not description.strip():
        raise InvalidInput({"description": [_("Describe the problem.")]})
    return _open(meeting, actor, description=description.strip(), endpoint_id=endpoint_id)


@transaction.atomic
def update_incident(incident: Incident, *, status: str, resolution: str, actor: User) -> Incident:
    """The operator tracks an incident: being fixed, then closed with what was done
    (`rules.may_manage_incidents`, `rules.incident_update_refusal`)."""
    if not may_manage_incidents(actor):
        raise denied(Action.MANAGE_INCIDENT)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    refusal = incident_update_refusal(incident)
    if refusal is not None:
        raise refusal
    if status not in IncidentStatus.values:
        raise InvalidInput({"status": [_("Choose a valid status.")]})
    if status == IncidentStatus.CLOSED and not resolution.strip():
        raise InvalidInput({"resolution": [_("Say how it was resolved.")]})
    before = audit.snapshot(incident, INCIDENT_FIELDS)
    incident.status = status
    incident.resolution = resolution.strip()
    if status == IncidentStatus.CLOSED:
        incident.closed_at, incident.closed_by = timezone.now(), actor
    incident.save()
    audit.record(
        "incident.update",
        incident,
        actor=actor,
        before=before,
        after=audit.snapshot(incident, INCIDENT_FIELDS),
    )
    if status == IncidentStatus.CLOSED and before.get("status") != IncidentStatus.CLOSED:
        from .. import notices

        notices.incident_closed(incident)  # the loop closes with whoever reported it
    return incident


@transaction.atomic
def classify_incident(incident: Incident, *, kind: str, actor: User) -> Incident:
    """The operator says what kind of incident it is — terminal, line, MCU or room — so it
    reaches whoever can fix it (ĐN Đ12.1, Đ12.2d; KH Đ14.1–2, Đ14.3d)."""
    if not may_manage_incidents(actor):
        raise denied(Action.MANAGE_INCIDENT)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if kind not in IncidentKind.values:
        raise InvalidInput({"kind": [_("Choose a valid kind.")]})
    if incident.kind == kind:
        return incident
    before = audit.snapshot(incident, INCIDENT_FIELDS)
    incident.kind = kind
    incident.save(update_fields=["kind"])
    audit.record(
        "incident.classify",
        incident,
        actor=actor,
        before=before,
        after=audit.snapshot(incident, INCIDENT_FIELDS),
    )
    return incident
