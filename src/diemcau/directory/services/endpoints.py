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
from diemcau.core.permissions import Action, can, require
from diemcau.core.sip import normalize_sip_uri
from diemcau.core.text import hidden_character_errors
from diemcau.rulebooks import Rulebook, active_rulebook
from diemcau.rulebooks.schema import RoomItem

from .. import naming
from ..choices import (
    EndpointStatus,
    Network,
    SecurityCheckResult,
    TerminalKind,
)
from ..models import (
    Agency,
    Device,
    Endpoint,
    Evaluation,
    EvaluationAnswer,
    QuotaException,
    SecurityCheck,
)
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
    "meets_control_requirements",
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
    """One answer per item of the rulebook's room standard (`room_standard.items`), by key."""

    answers: dict[str, bool]
    remarks: str = ""

    @classmethod
    def all_met(cls, remarks: str = "", rulebook: Rulebook | None = None) -> EvaluationInput:
        """Every item of the active rulebook met (the demo's and the tests' usual case)."""
        rulebook = rulebook or active_rulebook()
        return cls({item.key: True for item in rulebook.room_standard.items}, remarks)


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
        full = quota_refusal(data.agency, rulebook) if exclude_pk is None else None
        if full is not None:
            raise full  # no new endpoint name to propose: the quota is full (KH Đ8)
        raise RuleViolation(
            code="endpoint_name_pattern",
            article=rulebook.cite(rulebook.naming.article_for(data.agency.kind)),
            message=_("The device name must follow the naming rule; for this agency: %(name)s")
            % {"name": suggested_endpoint_name(data.agency, rulebook, exclude_pk)},
            field="name",
        )
    if (other_endpoints(exclude_pk).filter(name__iexact=name).exists()
            or Device.objects.filter(name__iexact=name).exists()):
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
    """The rooms the quota counts: endpoints, not their devices (KH Đ8 counts điểm cầu;
    Đ6.4 lets one điểm cầu connect several devices)."""
    return (
        other_endpoints(exclude_pk)
        .filter(agency=agency)
        .exclude(status=EndpointStatus.REJECTED)
        .count()
    )


def quota_refusal(
    agency: Agency, rulebook: Rulebook, exclude_pk: int | None = None
) -> RuleViolation | None:
    """The refusal of one more room for `agency` when its quota is full, citing the clause
    that sets its kind's quota (KH Đ8 khoản 2 for a department, khoản 3 for a district);
    None while there is room. Registration and the name suggester both ask it."""
    allowed = allowed_endpoint_count(agency, rulebook)
    if allowed is None or counted_endpoints(agency, exclude_pk) < allowed:
        return None
    return RuleViolation(
        code="endpoint_quota_exceeded",
        article=rulebook.cite(rulebook.quotas.article_for(agency.kind)),
        message=_(
            "%(agency)s may have at most %(allowed)s endpoint(s); more need an approval "
            "by the Provincial People's Committee, recorded as a quota exception."
        )
        % {"agency": agency.name, "allowed": allowed},
        field="agency",
    )


def check_quota(agency: Agency, rulebook: Rulebook, exclude_pk: int | None = None) -> None:
    # Lock the agency row so two registrations cannot both take the last free place.
    Agency.objects.select_for_update().get(pk=agency.pk)
    refusal = quota_refusal(agency, rulebook, exclude_pk)
    if refusal is not None:
        raise refusal


def apply_input(endpoint: Endpoint, data: EndpointInput) -> None:
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
    check_quota(data.agency, rulebook)
    endpoint = Endpoint(status=EndpointStatus.PENDING, security_check_due=True, registered_by=actor)
    apply_input(endpoint, data)
    endpoint.save()
    audit.record(
        "endpoint.register", endpoint, actor=actor, after=audit.snapshot(endpoint, ENDPOINT_FIELDS)
    )
    return endpoint


# ĐN Đ6.6, KH Đ11.5: "Không thay đổi, cài đặt lại các thông số liên quan đến thiết bị đầu
# cuối khi chưa có sự đồng ý của" the operating unit. These are the terminal's parameters; once
# the endpoint is admitted, an agency's change to them waits for the operator's consent.
CONSENT_FIELDS = (
    "terminal_kind",
    "network",
    "bandwidth_mbps",
    "dedicated_line",
    "vcs_ip",
    "sip_uri",
    "room_meets_standard",
)
# Admitted endpoints: an account was issued (KH Đ9.3), so their parameters are the operator's.
ADMITTED = frozenset({EndpointStatus.APPROVED, EndpointStatus.SUSPENDED})


def consent_value(field: str, value: object) -> object:
    """A parameter as the change request stores it (JSON): decimals and addresses as text."""
    if value is None or isinstance(value, bool):
        return value
    if field == "bandwidth_mbps":
        return str(Decimal(str(value)).quantize(Decimal("0.1")))
    return str(value)


def consent_changes(endpoint: Endpoint, data: EndpointInput) -> dict[str, object]:
    """The parameters `data` changes on `endpoint`, as new values (empty when none)."""
    changes: dict[str, object] = {}
    for name in CONSENT_FIELDS:
        old = consent_value(name, getattr(endpoint, name))
        new = consent_value(name, getattr(data, name) or (False if name in (
            "dedicated_line", "room_meets_standard") else None))
        if old != new:
            changes[name] = new
    return changes


def needs_consent(endpoint: Endpoint, actor: User) -> bool:
    """True when `actor`'s parameter changes on `endpoint` wait for the operator: the
    endpoint is admitted and the actor is not who consents (the operator)."""
    return endpoint.status in ADMITTED and not can(actor, Action.APPROVE_ENDPOINT, endpoint.agency)


def validate_endpoint_input(
    data: EndpointInput, rulebook: Rulebook, exclude_pk: int | None
) -> None:
    """Shape, name and line rules of an endpoint's values, as registration checks them."""
    _validate_shape(data)
    _check_name(data, rulebook, exclude_pk=exclude_pk)
    _check_line(data, rulebook)


def apply_parameters(endpoint: Endpoint, changes: dict[str, object]) -> bool:
    """Set the consented parameters on `endpoint`; True when the terminal changed, which
    sends it back to the police check (ĐN Đ16.5: "thiết bị đầu cuối đầu tư mới hoặc sửa
    chữa, nâng cấp" are checked "trước khi đưa vào khai thác, sử dụng")."""
    terminal_changed = "terminal_kind" in changes
    for name, value in changes.items():
        if name == "bandwidth_mbps":
            value = Decimal(str(value))
        setattr(endpoint, name, value)
    if terminal_changed:
        endpoint.security_check_due = True
    return terminal_changed


def audit_endpoint(action: str, endpoint: Endpoint, actor: User, before: dict) -> None:
    audit.record(
        action,
        endpoint,
        actor=actor,
        before=before,
        after=audit.snapshot(endpoint, ENDPOINT_FIELDS),
    )


def locked(endpoint: Endpoint, action: Action, actor: User) -> tuple[Endpoint, dict]:
    endpoint = Endpoint.objects.select_for_update().select_related("agency").get(pk=endpoint.pk)
    require(actor, action, endpoint.agency)
    return endpoint, audit.snapshot(endpoint, ENDPOINT_FIELDS)


def require_status(endpoint: Endpoint, *allowed: str) -> None:
    if endpoint.status not in allowed:
        raise InvalidTransition(
            _("Not possible while the endpoint is “%(status)s”.")
            % {"status": endpoint.get_status_display()}
        )


def _answers(data: EvaluationInput, rulebook: Rulebook) -> list[tuple[RoomItem, bool]]:
    """Each item of the room standard with its answer; every item answered, no other."""
    items = rulebook.room_standard.items
    known = {item.key for item in items}
    errors: dict[str, list[str]] = {}
    missing = [item.key for item in items if item.key not in data.answers]
    if missing:
        errors["answers"] = [_("Answer every item of the checklist: %(items)s.")
                             % {"items": ", ".join(missing)}]
    unknown = sorted(set(data.answers) - known)
    if unknown:
        errors.setdefault("answers", []).append(
            _("Not an item of this rulebook's checklist: %(items)s.")
            % {"items": ", ".join(unknown)}
        )
    if errors:
        raise InvalidInput(errors)
    return [(item, bool(data.answers[item.key])) for item in items]


# Evaluated again after admission: a failed evaluation takes the account out of use.
RE_EVALUABLE = frozenset({EndpointStatus.APPROVED, EndpointStatus.SUSPENDED})


@transaction.atomic
def evaluate_endpoint(endpoint: Endpoint, data: EvaluationInput, *, actor: User) -> Evaluation:
    """The operator's evaluation of the technical conditions (KH Đ9.3, ĐN Đ6), one answer per
    item of the rulebook's room standard. Only the operator records it (KH Đ9.3: "Được Đơn vị
    vận hành kỹ thuật … đánh giá")."""
    endpoint, before = locked(endpoint, Action.EVALUATE_ENDPOINT, actor)
    require_status(
        endpoint, EndpointStatus.PENDING, EndpointStatus.EVALUATED, EndpointStatus.REJECTED,
        *RE_EVALUABLE,
    )
    rulebook = active_rulebook()
    answers = _answers(data, rulebook)
    # Đ6 (both): "phòng họp trực tuyến … phải bảo đảm" every item; a control-only item
    # (KH Đ10.2b) is asked only when control rights are given.
    passed = all(met for item, met in answers if not item.control_only)
    remarks = data.remarks.strip()
    evaluation = Evaluation.objects.create(
        endpoint=endpoint, passed=passed, remarks=remarks, evaluated_by=actor
    )
    EvaluationAnswer.objects.bulk_create([
        EvaluationAnswer(
            evaluation=evaluation, item_key=item.key, article=item.article,
            text_vi=item.text_vi, text_en=item.text_en, control_only=item.control_only, met=met,
        )
        for item, met in answers
    ])
    endpoint.room_meets_standard = passed
    endpoint.meets_control_requirements = all(met for _item, met in answers)
    if endpoint.status == EndpointStatus.APPROVED and not passed:
        endpoint.status = EndpointStatus.SUSPENDED
        endpoint.status_reason = remarks or _("The evaluation found the room below the standard.")
    elif endpoint.status not in RE_EVALUABLE:
        endpoint.status = EndpointStatus.EVALUATED if passed else EndpointStatus.REJECTED
        endpoint.status_reason = remarks
    endpoint.save()
    audit.record(
        "endpoint.evaluate",
        endpoint,
        actor=actor,
        before=before,
        after={
            **audit.snapshot(endpoint, ENDPOINT_FIELDS),
            "evaluation": audit.snapshot(evaluation),
            "answers": {item.key: met for item, met in answers},
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
    endpoint, before = locked(endpoint, Action.APPROVE_ENDPOINT, actor)
    require_status(endpoint, EndpointStatus.EVALUATED)
    _check_ready_for_use(endpoint, active_rulebook())
    password = secrets.token_urlsafe(12)
    endpoint.status = EndpointStatus.APPROVED
    endpoint.status_reason = ""
    endpoint.account_username = endpoint.name
    endpoint.account_password_hash = make_password(password)
    endpoint.account_issued_at = timezone.now()
    endpoint.save()
    audit_endpoint("endpoint.approve", endpoint, actor, before)
    return endpoint, password


def required_reason(reason: str, field: str = "reason") -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput({field: [_("Give the reason.")]})
    return reason


@transaction.atomic
def suspend_endpoint(endpoint: Endpoint, *, reason: str, actor: User) -> Endpoint:
    endpoint, before = locked(endpoint, Action.SUSPEND_ENDPOINT, actor)
    require_status(endpoint, EndpointStatus.APPROVED, EndpointStatus.EVALUATED)
    endpoint.status = EndpointStatus.SUSPENDED
    endpoint.status_reason = required_reason(reason)
    endpoint.save()
    audit_endpoint("endpoint.suspend", endpoint, actor, before)
    return endpoint


@transaction.atomic
def reinstate_endpoint(endpoint: Endpoint, *, actor: User) -> Endpoint:
    endpoint, before = locked(endpoint, Action.SUSPEND_ENDPOINT, actor)
    require_status(endpoint, EndpointStatus.SUSPENDED)
    _check_ready_for_use(endpoint, active_rulebook())
    endpoint.status = (
        EndpointStatus.APPROVED if endpoint.account_issued_at else EndpointStatus.EVALUATED
    )
    endpoint.status_reason = ""
    endpoint.save()
    audit_endpoint("endpoint.reinstate", endpoint, actor, before)
    return endpoint


@transaction.atomic
def report_repair(endpoint: Endpoint, *, note: str, actor: User) -> Endpoint:
    """A repaired or upgraded device needs a new security check before use (ĐN Đ16.5)."""
    endpoint, before = locked(endpoint, Action.EDIT_ENDPOINT, actor)
    endpoint.security_check_due = True
    endpoint.status_reason = required_reason(note, field="note")
    endpoint.save()
    audit_endpoint("endpoint.report_repair", endpoint, actor, before)
    return endpoint


@transaction.atomic
def record_security_check(
    endpoint: Endpoint, data: SecurityCheckInput, *, actor: User
) -> SecurityCheck:
    """Record the police security check (ĐN Đ8.3c); a failed one suspends the device."""
    endpoint, before = locked(endpoint, Action.RECORD_SECURITY_CHECK, actor)
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
