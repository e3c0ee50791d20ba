"""Changes to an endpoint, and the change requests an admitted endpoint's parameters need.

ĐN Đ6.6, KH Đ11.5: "Không thay đổi, cài đặt lại các thông số liên quan đến thiết bị đầu cuối
khi chưa có sự đồng ý của" the operating unit. An agency edits its endpoint freely until it is
admitted; afterwards a change to the terminal's parameters (`CONSENT_FIELDS`: terminal,
address, SIP account, network, bandwidth, line, room standard) becomes a request that the
operator approves or refuses. The name, location and notes stay the agency's own. A change of
terminal sends the endpoint back to the police check (ĐN Đ16.5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.rulebooks import Rulebook, active_rulebook

from ..choices import ChangeRequestStatus
from ..models import Endpoint, EndpointChangeRequest
from .endpoints import (
    CONSENT_FIELDS,
    ENDPOINT_FIELDS,
    EndpointInput,
    apply_input,
    apply_parameters,
    audit_endpoint,
    check_quota,
    consent_changes,
    consent_value,
    needs_consent,
    required_reason,
    validate_endpoint_input,
)

CHANGE_FIELDS = ["endpoint_id", "changes", "previous", "reason", "status", "decision_note"]


@dataclass(frozen=True)
class EndpointEdit:
    """What an edit did: the endpoint as saved, and the request made for the parameters that
    wait for the operator (None when everything was applied at once)."""

    endpoint: Endpoint
    change_request: EndpointChangeRequest | None = None


def consent_article(rulebook: Rulebook) -> str:
    """The clause that puts the terminal's parameters under the operator's consent."""
    return rulebook.admission.parameters_consent_article or rulebook.admission.article


def _as_input(endpoint: Endpoint, changes: dict[str, object]) -> EndpointInput:
    """The endpoint's current values with `changes` on top, for the rules to check."""
    values = {name: getattr(endpoint, name) for name in CONSENT_FIELDS}
    values.update(changes)
    return EndpointInput(
        agency=endpoint.agency,
        name=endpoint.name,
        terminal_kind=str(values["terminal_kind"]),
        network=str(values["network"]),
        bandwidth_mbps=Decimal(str(values["bandwidth_mbps"])),
        dedicated_line=bool(values["dedicated_line"]),
        vcs_ip=str(values["vcs_ip"]) if values["vcs_ip"] else None,
        sip_uri=str(values["sip_uri"]) if values["sip_uri"] else None,
        location=endpoint.location,
        room_meets_standard=bool(values["room_meets_standard"]),
        room_notes=endpoint.room_notes,
    )


@transaction.atomic
def edit_endpoint(
    endpoint: Endpoint, data: EndpointInput, *, actor: User, reason: str = ""
) -> EndpointEdit:
    """Save an edit: at once for an endpoint not yet admitted or for the operator; for an
    admitted endpoint, the parameters become a change request and the rest is saved."""
    endpoint = Endpoint.objects.select_for_update().select_related("agency").get(pk=endpoint.pk)
    require(actor, Action.EDIT_ENDPOINT, endpoint.agency)
    require(actor, Action.EDIT_ENDPOINT, data.agency)
    rulebook = active_rulebook()
    before = audit.snapshot(endpoint, ENDPOINT_FIELDS)
    validate_endpoint_input(data, rulebook, exclude_pk=endpoint.pk)
    if data.agency.pk != endpoint.agency_id:
        check_quota(data.agency, rulebook, exclude_pk=endpoint.pk)
    changes = consent_changes(endpoint, data)
    if changes and needs_consent(endpoint, actor):
        if endpoint.change_requests.filter(status=ChangeRequestStatus.PENDING).exists():
            raise _pending_refusal(rulebook)
        kept = {name: getattr(endpoint, name) for name in CONSENT_FIELDS}
        apply_input(endpoint, replace(data, **kept))
        endpoint.save()
        audit_endpoint("endpoint.update", endpoint, actor, before)
        request = _create_request(endpoint, changes, reason, actor)
        return EndpointEdit(endpoint, request)
    terminal_before = endpoint.terminal_kind
    apply_input(endpoint, data)
    if endpoint.terminal_kind != terminal_before:
        endpoint.security_check_due = True  # ĐN Đ16.5: a new terminal is checked before use
    endpoint.save()
    audit_endpoint("endpoint.update", endpoint, actor, before)
    return EndpointEdit(endpoint)


def update_endpoint(endpoint: Endpoint, data: EndpointInput, *, actor: User) -> Endpoint:
    """`edit_endpoint`, for callers that need only the endpoint back."""
    return edit_endpoint(endpoint, data, actor=actor).endpoint


def _pending_refusal(rulebook: Rulebook) -> RuleViolation:
    return RuleViolation(
        code="endpoint_change_pending",
        article=rulebook.cite(consent_article(rulebook)),
        message=_("A change of this endpoint's parameters already waits for the operator; "
                  "wait for the decision before asking for another."),
        field=None,
    )


def _create_request(
    endpoint: Endpoint, changes: dict[str, object], reason: str, actor: User
) -> EndpointChangeRequest:
    previous = {name: consent_value(name, getattr(endpoint, name)) for name in changes}
    try:
        with transaction.atomic():
            request = EndpointChangeRequest.objects.create(
                endpoint=endpoint, changes=changes, previous=previous,
                reason=reason.strip(), requested_by=actor,
            )
    except IntegrityError:  # another request was made at the same time
        raise _pending_refusal(active_rulebook()) from None
    audit.record("endpoint.change_request", request, actor=actor,
                 after=audit.snapshot(request, CHANGE_FIELDS))
    return request


@transaction.atomic
def request_change(
    endpoint: Endpoint, changes: dict[str, object], *, actor: User, reason: str = ""
) -> EndpointChangeRequest:
    """Ask the operator to change an admitted endpoint's parameters (`CONSENT_FIELDS`)."""
    endpoint = Endpoint.objects.select_for_update().select_related("agency").get(pk=endpoint.pk)
    require(actor, Action.EDIT_ENDPOINT, endpoint.agency)
    rulebook = active_rulebook()
    unknown = sorted(set(changes) - set(CONSENT_FIELDS))
    if unknown:
        raise InvalidInput({"changes": [
            _("These fields are not parameters that need the operator's consent: %(fields)s.")
            % {"fields": ", ".join(unknown)}
        ]})
    data = _as_input(endpoint, changes)
    validate_endpoint_input(data, rulebook, exclude_pk=endpoint.pk)
    real = consent_changes(endpoint, data)
    if not real:
        raise InvalidInput({"changes": [_("Nothing would change.")]})
    if endpoint.change_requests.filter(status=ChangeRequestStatus.PENDING).exists():
        raise _pending_refusal(rulebook)
    return _create_request(endpoint, real, reason, actor)


def _locked_request(request: EndpointChangeRequest, actor: User, action: Action
                    ) -> tuple[EndpointChangeRequest, Endpoint]:
    request = EndpointChangeRequest.objects.select_for_update().get(pk=request.pk)
    endpoint = Endpoint.objects.select_for_update().select_related("agency").get(
        pk=request.endpoint_id
    )
    require(actor, action, endpoint.agency)
    if request.status != ChangeRequestStatus.PENDING:
        raise InvalidTransition(
            _("This change request was already decided (“%(status)s”).")
            % {"status": request.get_status_display()}
        )
    return request, endpoint


@transaction.atomic
def approve_change(
    request: EndpointChangeRequest, *, actor: User, note: str = ""
) -> EndpointChangeRequest:
    """The operator consents: the parameters are checked again and applied; a changed
    terminal needs the police check again (ĐN Đ16.5)."""
    request, endpoint = _locked_request(request, actor, Action.APPROVE_ENDPOINT)
    before = audit.snapshot(endpoint, ENDPOINT_FIELDS)
    rulebook = active_rulebook()
    changes = dict(request.changes)
    validate_endpoint_input(_as_input(endpoint, changes), rulebook, exclude_pk=endpoint.pk)
    apply_parameters(endpoint, changes)
    endpoint.save()
    audit_endpoint("endpoint.update", endpoint, actor, before)
    return _decide(request, ChangeRequestStatus.APPROVED, note.strip(), actor)


@transaction.atomic
def refuse_change(
    request: EndpointChangeRequest, *, reason: str, actor: User
) -> EndpointChangeRequest:
    """The operator does not consent; the endpoint keeps its parameters."""
    request, _endpoint = _locked_request(request, actor, Action.APPROVE_ENDPOINT)
    return _decide(request, ChangeRequestStatus.REFUSED, required_reason(reason), actor)


def _decide(
    request: EndpointChangeRequest, status: str, note: str, actor: User
) -> EndpointChangeRequest:
    before = audit.snapshot(request, CHANGE_FIELDS)
    request.status = status
    request.decision_note = note
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save()
    audit.record(f"endpoint.change_{status}", request, actor=actor, before=before,
                 after=audit.snapshot(request, CHANGE_FIELDS))
    return request
