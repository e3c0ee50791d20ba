from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit, date_bounds
from diemcau.core.errors import InvalidInput, InvalidTransition, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.core.sip import normalize_sip_uri
from diemcau.core.text import hidden_character_errors
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import naming
from ..choices import (
    EndpointStatus,
    Network,
    SecurityCheckResult,
    TerminalKind,
)
from ..models import Agency, Endpoint, Evaluation, QuotaException, SecurityCheck
from ..rules import Stage, readiness_refusal
from ..selectors import other_endpoints, suggested_endpoint_name

ENDPOINT_FIELDS = [
    "agency_id",
    "name",
    "terminal_kind",
    "network",
    "bandwidth_mbps",
    "dedicated_line",
    "vcs_ip",
    "sip_uri",
    "location",
    "room_meets_standard",
    "room_notes",
    "status",
    "status_reason",
    "security_check_due",
    "account_username",
    "account_issued_at",
]


@dataclass
class EndpointInput:
    agency: Agency
    name: str
    terminal_kind: str
    network: str
    bandwidth_mbps: Decimal
    dedicated_line: bool = False
    vcs_ip: str | None = None
    location: str = ""
    room_meets_standard: bool = False
    room_notes: str = ""
    sip_uri: str | None = None


@dataclass
class EvaluationInput:
    room_ok: bool
    power_ok: bool
    connection_ok: bool
    av_ok: bool
    remarks: str = ""


@dataclass
class SecurityCheckInput:
    reason: str
    result: str
    checked_on: dt.date
    police_reference: str = ""
    remarks: str = ""


# ---------------------------------------------------------------- validation


def _validate_shape(data: EndpointInput) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = [_("This field is required.")]
    if data.terminal_kind not in TerminalKind.values:
        errors["terminal_kind"] = [_("Choose a valid terminal kind.")]
    if data.network not in Network.values:
        errors["network"] = [_("Choose a valid network.")]
    if data.bandwidth_mbps is None or data.bandwidth_mbps <= 0:
        errors["bandwidth_mbps"] = [_("Bandwidth must be greater than 0 Mbps.")]
    errors.update(hidden_character_errors({"name": data.name, "location": data.location}))
    if data.sip_uri:
        try:
            data.sip_uri = normalize_sip_uri(data.sip_uri)
        except ValueError:
            errors["sip_uri"] = [_("Give a SIP address such as sip:ubnd.nhatrang@10.1.2.3.")]
    if errors:
        raise InvalidInput(errors)


def _check_name(data: EndpointInput, rulebook: Rulebook, exclude_pk: int | None) -> None:
    name = data.name.strip()
    if not naming.name_matches(name, data.agency, rulebook):
        assert rulebook.naming is not None
        raise RuleViolation(
            code="endpoint_name_pattern",
            article=rulebook.cite(rulebook.naming.article_for(data.agency.kind)),
            message=_("The device name must follow the naming rule; for this agency: %(name)s")
            % {"name": suggested_endpoint_name(data.agency, rulebook, exclude_pk)},
            field="name",
        )
    if other_endpoints(exclude_pk).filter(name__iexact=name).exists():
        raise InvalidInput({"name": [_("Another endpoint already has this name.")]})
    if data.sip_uri and other_endpoints(exclude_pk).filter(sip_uri=data.sip_uri).exists():
        raise InvalidInput({"sip_uri": [_("Another endpoint already has this SIP account.")]})


def _line_violation(
    rulebook: Rulebook, article: str, code: str, field: str, message: str
) -> RuleViolation:
    return RuleViolation(code=code, article=rulebook.cite(article), message=message, field=field)


def _check_line(data: EndpointInput, rulebook: Rulebook) -> None:
    """Network, bandwidth and address rules of the rulebook (KH Đ6.3, Đ11.7)."""
    rule = rulebook.bandwidth
    network = Network(data.network)
    minimum = rule.minimum_for(network)
    if data.network == Network.INTERNET:
        # KH Đ6.3a covers only the bodies of Đ3.2 points b, c, d (`tslcd_or_wan_for_kinds`).
        if not rule.internet_allowed_for(data.agency.kind):
            raise _line_violation(
                rulebook,
                rule.tslcd_or_wan_article or rule.article,
                "endpoint_internet_not_allowed",
                "network",
                _("Agencies of this kind connect through TSLCD or WAN, not the Internet."),
            )
        if rule.internet_not_shared and not data.dedicated_line:
            raise _line_violation(
                rulebook,
                rule.article_for(Network.INTERNET),
                "endpoint_internet_shared",
                "dedicated_line",
                _("An Internet line must not be shared with other systems during meetings."),
            )
    if data.network == Network.TSLCD and rule.tslcd_dedicated and not data.dedicated_line:
        raise _line_violation(
            rulebook,
            rule.article_for(Network.TSLCD),
            "endpoint_tslcd_not_dedicated",
            "dedicated_line",
            _("The TSLCD connection must be a dedicated line."),
        )
    if minimum and data.bandwidth_mbps < Decimal(str(minimum)):
        raise _line_violation(
            rulebook,
            rule.article_for(network),
            "endpoint_bandwidth_below_minimum",
            "bandwidth_mbps",
            _("The %(network)s line needs at least %(minimum)s Mbps.")
            % {"network": network.label, "minimum": f"{minimum:g}"},
        )
    dialled = rulebook.vcs_address.required_for_networks
    if data.terminal_kind == TerminalKind.VCS and data.network in dialled and not data.vcs_ip:
        raise _line_violation(
            rulebook,
            rulebook.vcs_address.article,
            "endpoint_vcs_ip_missing",
            "vcs_ip",
            _("Give the IP address of the VCS terminal so the central MCU can call it."),
        )


def allowed_endpoint_count(agency: Agency, rulebook: Rulebook) -> int | None:
    """The quota of the agency plus recorded exceptions; None means unlimited (R4)."""
    quota = rulebook.quotas.quota_for(agency.kind)
    if quota is None:
        return None
    extra = agency.quota_exceptions.aggregate(total=Sum("extra_endpoints"))["total"] or 0
    return quota + extra


def counted_endpoints(agency: Agency, exclude_pk: int | None = None) -> int:
    return (
        other_endpoints(exclude_pk)
        .filter(agency=agency)
        .exclude(status=EndpointStatus.REJECTED)
        .count()
    )


def _check_quota(agency: Agency, rulebook: Rulebook, exclude_pk: int | None = None) -> None:
    # Lock the agency row so two registrations cannot both take the last free place.
    Agency.objects.select_for_update().get(pk=agency.pk)
    allowed = allowed_endpoint_count(agency, rulebook)
    if allowed is None:
        return
    if counted_endpoints(agency, exclude_pk) >= allowed:
        raise RuleViolation(
            code="endpoint_quota_exceeded",
            article=rulebook.cite(rulebook.quotas.article_for(agency.kind)),
            message=_(
                "%(agency)s may have at most %(allowed)s endpoint(s); more need an approval "
                "by the Provincial People's Committee, recorded as a quota exception."
            )
            % {"agency": agency.name, "allowed": allowed},
            field="agency",
        )


def _apply(endpoint: Endpoint, data: EndpointInput) -> None:
    endpoint.agency = data.agency
    endpoint.name = data.name.strip()
    endpoint.terminal_kind = data.terminal_kind
    endpoint.network = data.network
    endpoint.bandwidth_mbps = data.bandwidth_mbps
    endpoint.dedicated_line = data.dedicated_line
    endpoint.vcs_ip = data.vcs_ip or None
    endpoint.sip_uri = data.sip_uri or None
    endpoint.location = data.location.strip()
    endpoint.room_meets_standard = data.room_meets_standard
    endpoint.room_notes = data.room_notes.strip()


# ---------------------------------------------------------------- services


@transaction.atomic
def register_endpoint(data: EndpointInput, *, actor: User) -> Endpoint:
    """Register a new endpoint; it waits for the operator's evaluation (R2, R5)."""
    require(actor, Action.REGISTER_ENDPOINT, data.agency)
    rulebook = active_rulebook()
    _validate_shape(data)
    _check_name(data, rulebook, exclude_pk=None)
    _check_line(data, rulebook)
    _check_quota(data.agency, rulebook)
    endpoint = Endpoint(status=EndpointStatus.PENDING, security_check_due=True, registered_by=actor)
    _apply(endpoint, data)
    endpoint.save()
    audit.record(
        "endpoint.register", endpoint, actor=actor, after=audit.snapshot(endpoint, ENDPOINT_FIELDS)
    )
    return endpoint


@transaction.atomic
def update_endpoint(endpoint: Endpoint, data: EndpointInput, *, actor: User) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    require(actor, Action.EDIT_ENDPOINT, endpoint.agency)
    require(actor, Action.EDIT_ENDPOINT, data.agency)
    rulebook = active_rulebook()
    before = audit.snapshot(endpoint, ENDPOINT_FIELDS)
    _validate_shape(data)
    _check_name(data, rulebook, exclude_pk=endpoint.pk)
    _check_line(data, rulebook)
    if data.agency.pk != endpoint.agency_id:
        _check_quota(data.agency, rulebook, exclude_pk=endpoint.pk)
    _apply(endpoint, data)
    endpoint.save()
    _audit("endpoint.update", endpoint, actor, before)
    return endpoint


def _audit(action: str, endpoint: Endpoint, actor: User, before: dict) -> None:
    audit.record(
        action,
        endpoint,
        actor=actor,
        before=before,
        after=audit.snapshot(endpoint, ENDPOINT_FIELDS),
    )


def _locked(endpoint: Endpoint, action: Action, actor: User) -> tuple[Endpoint, dict]:
    endpoint = Endpoint.objects.select_for_update().select_related("agency").get(pk=endpoint.pk)
    require(actor, action, endpoint.agency)
    return endpoint, audit.snapshot(endpoint, ENDPOINT_FIELDS)


def _require_status(endpoint: Endpoint, *allowed: str) -> None:
    if endpoint.status not in allowed:
        raise InvalidTransition(
            _("Not possible while the endpoint is “%(status)s”.")
            % {"status": endpoint.get_status_display()}
        )


@transaction.atomic
def evaluate_endpoint(endpoint: Endpoint, data: EvaluationInput, *, actor: User) -> Evaluation:
    """The operator's evaluation of the technical conditions (KH Đ9.3, ĐN Đ6)."""
    endpoint, before = _locked(endpoint, Action.EVALUATE_ENDPOINT, actor)
    _require_status(
        endpoint, EndpointStatus.PENDING, EndpointStatus.EVALUATED, EndpointStatus.REJECTED
    )
    passed = data.room_ok and data.power_ok and data.connection_ok and data.av_ok
    evaluation = Evaluation.objects.create(
        endpoint=endpoint,
        passed=passed,
        room_ok=data.room_ok,
        power_ok=data.power_ok,
        connection_ok=data.connection_ok,
        av_ok=data.av_ok,
        remarks=data.remarks.strip(),
        evaluated_by=actor,
    )
    endpoint.room_meets_standard = data.room_ok
    endpoint.status = EndpointStatus.EVALUATED if passed else EndpointStatus.REJECTED
    endpoint.status_reason = data.remarks.strip()
    endpoint.save()
    audit.record(
        "endpoint.evaluate",
        endpoint,
        actor=actor,
        before=before,
        after={
            **audit.snapshot(endpoint, ENDPOINT_FIELDS),
            "evaluation": audit.snapshot(evaluation),
        },
    )
    return evaluation


def _check_ready_for_use(endpoint: Endpoint, rulebook: Rulebook) -> None:
    """The admission checklist (`rules.checklist`), as the approval page shows it."""
    refusal = readiness_refusal(endpoint, Stage.ADMISSION, rulebook)
    if refusal is not None:
        raise refusal


@transaction.atomic
def approve_endpoint(endpoint: Endpoint, *, actor: User) -> tuple[Endpoint, str]:
    """Admit an evaluated endpoint and issue its account (KH Đ9.3). Returns the password once."""
    endpoint, before = _locked(endpoint, Action.APPROVE_ENDPOINT, actor)
    _require_status(endpoint, EndpointStatus.EVALUATED)
    _check_ready_for_use(endpoint, active_rulebook())
    password = secrets.token_urlsafe(12)
    endpoint.status = EndpointStatus.APPROVED
    endpoint.status_reason = ""
    endpoint.account_username = endpoint.name
    endpoint.account_password_hash = make_password(password)
    endpoint.account_issued_at = timezone.now()
    endpoint.save()
    _audit("endpoint.approve", endpoint, actor, before)
    return endpoint, password


def _required_reason(reason: str, field: str = "reason") -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput({field: [_("Give the reason.")]})
    return reason


@transaction.atomic
def suspend_endpoint(endpoint: Endpoint, *, reason: str, actor: User) -> Endpoint:
    endpoint, before = _locked(endpoint, Action.SUSPEND_ENDPOINT, actor)
    _require_status(endpoint, EndpointStatus.APPROVED, EndpointStatus.EVALUATED)
    endpoint.status = EndpointStatus.SUSPENDED
    endpoint.status_reason = _required_reason(reason)
    endpoint.save()
    _audit("endpoint.suspend", endpoint, actor, before)
    return endpoint


@transaction.atomic
def reinstate_endpoint(endpoint: Endpoint, *, actor: User) -> Endpoint:
    endpoint, before = _locked(endpoint, Action.SUSPEND_ENDPOINT, actor)
    _require_status(endpoint, EndpointStatus.SUSPENDED)
    _check_ready_for_use(endpoint, active_rulebook())
    endpoint.status = (
        EndpointStatus.APPROVED if endpoint.account_issued_at else EndpointStatus.EVALUATED
    )
    endpoint.status_reason = ""
    endpoint.save()
    _audit("endpoint.reinstate", endpoint, actor, before)
    return endpoint


@transaction.atomic
def report_repair(endpoint: Endpoint, *, note: str, actor: User) -> Endpoint:
    """A repaired or upgraded device needs a new security check before use (ĐN Đ16.5)."""
    endpoint, before = _locked(endpoint, Action.EDIT_ENDPOINT, actor)
    endpoint.security_check_due = True
    endpoint.status_reason = _required_reason(note, field="note")
    endpoint.save()
    _audit("endpoint.report_repair", endpoint, actor, before)
    return endpoint


@transaction.atomic
def record_security_check(
    endpoint: Endpoint, data: SecurityCheckInput, *, actor: User
) -> SecurityCheck:
    """Record the police security check (ĐN Đ8.3c); a failed one suspends the device."""
    endpoint, before = _locked(endpoint, Action.RECORD_SECURITY_CHECK, actor)
    errors: dict[str, list[str]] = {}
    if data.result not in SecurityCheckResult.values:
        errors["result"] = [_("Choose a valid result.")]
    if data.checked_on > timezone.localdate():
        errors["checked_on"] = [_("The check date cannot be in the future.")]
    errors.update(date_bounds.window_errors(checked_on=data.checked_on))
    if errors:
        raise InvalidInput(errors)
    check = SecurityCheck.objects.create(
        endpoint=endpoint,
        reason=data.reason,
        result=data.result,
        checked_on=data.checked_on,
        police_reference=data.police_reference.strip(),
        remarks=data.remarks.strip(),
        recorded_by=actor,
    )
    passed = data.result == SecurityCheckResult.PASSED
    endpoint.security_check_due = not passed
    if not passed and endpoint.status == EndpointStatus.APPROVED:
        endpoint.status = EndpointStatus.SUSPENDED
        endpoint.status_reason = _("Failed security check: %(remarks)s") % {
            "remarks": data.remarks.strip() or data.police_reference
        }
    endpoint.save()
    audit.record(
        "endpoint.security_check",
        endpoint,
        actor=actor,
        before=before,
        after={**audit.snapshot(endpoint, ENDPOINT_FIELDS), "check": audit.snapshot(check)},
    )
    return check


@transaction.atomic
def record_quota_exception(
    agency: Agency,
    *,
    extra_endpoints: int,
    decision_reference: str,
    decided_on: dt.date,
    note: str = "",
    actor: User,
) -> QuotaException:
    """Record UBND tỉnh's approval of more endpoints than the quota (KH Đ8)."""
    require(actor, Action.RECORD_QUOTA_EXCEPTION, agency)
    errors: dict[str, list[str]] = {}
    if extra_endpoints < 1:
        errors["extra_endpoints"] = [_("At least 1.")]
    if not decision_reference.strip():
        errors["decision_reference"] = [_("Give the number of the approving decision.")]
    if decided_on > timezone.localdate():
        errors["decided_on"] = [_("The decision date cannot be in the future.")]
    errors.update(date_bounds.window_errors(decided_on=decided_on))
    if errors:
        raise InvalidInput(errors)
    exception = QuotaException.objects.create(
        agency=agency,
        extra_endpoints=extra_endpoints,
        decision_reference=decision_reference.strip(),
        decided_on=decided_on,
        note=note.strip(),
        recorded_by=actor,
    )
    audit.record("agency.quota_exception", agency, actor=actor, after=audit.snapshot(exception))
    return exception
