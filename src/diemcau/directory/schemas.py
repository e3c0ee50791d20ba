"""Request and response shapes of the directory API.

Responses never carry secrets: no account password (hash or not, except the one-time password
in the approval response), no token hashes. Field names are the services' names, so a rule
violation's location (["body", "name"]) points at the field the client sent.
"""


import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import get_language
from ninja import Field, Schema
from pydantic import IPvAnyAddress, field_validator
from pydantic.json_schema import SkipJsonSchema

from diemcau.core.api_inputs import Id
from diemcau.core.permissions import Action, can
from diemcau.rulebooks import active_rulebook

from .choices import (
    AgencyKind,
    ChangeRequestStatus,
    ContactRole,
    EndpointStatus,
    Network,
    SecurityCheckReason,
    SecurityCheckResult,
    TerminalKind,
)
from .models import Agency, Contact, Endpoint
from .permissions import endpoints_visible_to
from .rules import Stage, network_advice, unmet
from .services.endpoints import allowed_endpoint_count, counted_endpoints

Bandwidth = Annotated[Decimal, Field(gt=0, max_digits=7, decimal_places=1)]
ShortText = Annotated[str, Field(max_length=200)]


# ---------------------------------------------------------------- agencies


class LevelOut(Schema):
    key: str
    rank: int
    label: str


def level_of(agency: Agency) -> LevelOut | None:
    """The agency's level under the active rulebook, in the request's language."""
    rulebook = active_rulebook()
    if not rulebook.supports_kind(agency.kind):
        return None
    level = rulebook.level(rulebook.level_for_kind(agency.kind))
    label = level.label_en if (get_language() or "").startswith("en") else level.label_vi
    return LevelOut(key=level.key, rank=level.rank, label=label)


class AgencyRef(Schema):
    id: int
    name: str
    abbreviation: str


class AgencyOut(Schema):
    id: int
    name: str
    kind: AgencyKind
    kind_label: str
    abbreviation: str
    parent: AgencyRef | None
    level: LevelOut | None
    admin_code: int | None
    division_type: str
    is_active: bool

    @staticmethod
    def resolve_kind_label(obj: Agency) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_level(obj: Agency) -> LevelOut | None:
        return level_of(obj)


class QuotaOut(Schema):
    allowed: int | None = Field(description="Endpoints allowed incl. exceptions; null: no limit")
    used: int
    article: str


class AgencyFilters(Schema):
    kind: AgencyKind | None = None
    level: str | None = Field(None, description="Level key of the active rulebook: province…")
    parent: Id | None = None
    q: str | None = Field(None, max_length=100, description="Part of the name or abbreviation")


class RefusalOut(Schema):
    code: str
    article: str
    message: str


class NameSuggestionOut(Schema):
    agency: int
    name: str | None = Field(
        description="A free name for a new endpoint; null when the quota is full (see refusal)"
    )
    article: str | None = Field(description="The naming rule cited, null when there is none")
    refusal: RefusalOut | None = Field(
        None, description="Why no new endpoint may be registered: the quota's clause (KH Đ8)"
    )
    device_name: str | None = Field(
        None, description="When the quota is full: the next device name of the agency's room"
    )


class QuotaExceptionIn(Schema):
    extra_endpoints: int = Field(ge=1, le=1000)
    decision_reference: str = Field(max_length=120)
    decided_on: dt.date
    note: str = ""


class QuotaExceptionOut(Schema):
    id: int
    agency: AgencyRef
    extra_endpoints: int
    decision_reference: str
    decided_on: dt.date
    note: str
    recorded_at: dt.datetime


# ---------------------------------------------------------------- endpoints


class EndpointBrief(Schema):
    id: int
    name: str
    status: EndpointStatus
    terminal_kind: TerminalKind
    network: Network


class AgencyDetailOut(AgencyOut):
    endpoints: list[EndpointBrief] = Field(description="Only those the caller may see")
    quota: QuotaOut | None = Field(description="Null when the caller may not see its endpoints")

    @staticmethod
    def resolve_endpoints(obj: Agency, context: dict[str, Any]) -> list[Endpoint]:
        # Not `obj.endpoints`: that is every endpoint, and this one is scoped (R22).
        user = context["request"].auth
        return list(endpoints_visible_to(user).filter(agency=obj))

    @staticmethod
    def resolve_quota(obj: Agency, context: dict[str, Any]) -> QuotaOut | None:
        user = context["request"].auth
        if not can(user, Action.VIEW_ENDPOINT, obj):
            return None
        rulebook = active_rulebook()
        return QuotaOut(
            allowed=allowed_endpoint_count(obj, rulebook),
            used=counted_endpoints(obj),
            article=rulebook.cite(rulebook.quotas.article_for(obj.kind)),
        )


class EndpointOut(Schema):
    id: int
    agency: AgencyRef
    name: str
    terminal_kind: TerminalKind
    network: Network
    bandwidth_mbps: Decimal
    dedicated_line: bool
    vcs_ip: IPvAnyAddress | None
    sip_uri: str | None
    location: str
    room_meets_standard: bool
    meets_control_requirements: bool = Field(
        description="The latest evaluation met every item, control ones too (KH Đ10.2)"
    )
    room_notes: str
    status: EndpointStatus
    status_label: str
    status_reason: str
    security_check_due: bool
    account_username: str | None
    account_issued_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    network_advice: str | None = Field(
        None, description="A warning that refuses nothing, with its article: the room is not "
                          "on the network the regulation prefers (ĐN Đ6.2)")

    @staticmethod
    def resolve_status_label(obj: Endpoint) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_network_advice(obj: Endpoint) -> str | None:
        advice = network_advice(obj.network)
        return f"{advice.article}: {advice.message}" if advice is not None else None


class AnswerOut(Schema):
    item_key: str
    article: str
    text: str
    control_only: bool
    met: bool

    @staticmethod
    def resolve_text(obj: Any) -> str:
        english = (get_language() or "").startswith("en")
        return str(obj.text_en if english and obj.text_en else obj.text_vi)


class EvaluationOut(Schema):
    id: int
    passed: bool
    answers: list[AnswerOut] = Field(description="One per item of the room standard")
    remarks: str
    evaluated_by: str
    evaluated_at: dt.datetime

    @staticmethod
    def resolve_evaluated_by(obj: Any) -> str:
        return str(obj.evaluated_by.get_username())

    @staticmethod
    def resolve_answers(obj: Any) -> list[Any]:
        return list(obj.answers.all())


class DeviceOut(Schema):
    id: int
    endpoint: int
    name: str
    terminal_kind: TerminalKind
    vcs_ip: IPvAnyAddress | None
    note: str
    added_at: dt.datetime

    @staticmethod
    def resolve_endpoint(obj: Any) -> int:
        return int(obj.endpoint_id)


class DeviceIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    terminal_kind: TerminalKind
    vcs_ip: IPvAnyAddress | None = None
    note: ShortText = ""


class EndpointRef(Schema):
    id: int
    name: str


class ChangeRequestOut(Schema):
    id: int
    endpoint: EndpointRef
    changes: dict[str, Any] = Field(description="The new values of the parameters")
    previous: dict[str, Any] = Field(description="Their values when the request was made")
    reason: str
    status: ChangeRequestStatus
    status_label: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_requested_by(obj: Any) -> str:
        return str(obj.requested_by.get_username())

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return str(obj.decided_by.get_username()) if obj.decided_by_id else None


class ChangeRequestIn(Schema):
    """The parameters to change (those left out keep their values) and why."""

    terminal_kind: TerminalKind | SkipJsonSchema[None] = None
    network: Network | SkipJsonSchema[None] = None
    bandwidth_mbps: Bandwidth | SkipJsonSchema[None] = None
    dedicated_line: bool | SkipJsonSchema[None] = None
    vcs_ip: IPvAnyAddress | None = None
    sip_uri: str | None = Field(None, max_length=200)
    room_meets_standard: bool | SkipJsonSchema[None] = None
    reason: str = Field("", max_length=2000)


class ChangeRequestFilters(Schema):
    status: ChangeRequestStatus | None = None
    endpoint: Id | None = None


class ChangeDecisionIn(Schema):
    note: str = Field("", max_length=2000)


class SecurityCheckOut(Schema):
    id: int
    reason: SecurityCheckReason
    result: SecurityCheckResult
    checked_on: dt.date
    police_reference: str
    remarks: str
    recorded_by: str
    recorded_at: dt.datetime

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str:
        return str(obj.recorded_by.get_username())


class UnmetOut(Schema):
    code: str = Field(description="The refusal's code while it is not met")
    label: str = Field(description="The checklist's line")
    article: str
    message: str = Field(description="What the refusal says")


class ReadinessOut(Schema):
    """The endpoint readiness checklist (`directory.rules`): what the services refuse by,
    the same lines the approval page shows."""

    admission: list[UnmetOut] = Field(
        description="What the operator's approval or reinstatement still waits for (R5, R6)"
    )
    use: list[UnmetOut] = Field(
        description="What keeps the endpoint out of a meeting's registration (R5)"
    )


def _unmet_out(endpoint: Endpoint, stage: Stage) -> list[UnmetOut]:
    return [
        UnmetOut(code=c.code, label=c.label, article=c.article, message=c.message)
        for c in unmet(endpoint, stage)
    ]


class EndpointDetailOut(EndpointOut):
    evaluations: list[EvaluationOut]
    security_checks: list[SecurityCheckOut]
    readiness: ReadinessOut
    devices: list[DeviceOut] = Field(description="The room's further devices (KH Đ6.4)")

    @staticmethod
    def resolve_devices(obj: Endpoint) -> list[Any]:
        return list(obj.devices.all())

    @staticmethod
    def resolve_readiness(obj: Endpoint) -> ReadinessOut:
        return ReadinessOut(admission=_unmet_out(obj, Stage.ADMISSION),
                            use=_unmet_out(obj, Stage.USE))

    @staticmethod
    def resolve_evaluations(obj: Endpoint) -> list[Any]:
        return list(obj.evaluations.select_related("evaluated_by").prefetch_related("answers"))

    @staticmethod
    def resolve_security_checks(obj: Endpoint) -> list[Any]:
        return list(obj.security_checks.select_related("recorded_by"))


class EndpointFilters(Schema):
    agency: Id | None = None
    status: EndpointStatus | None = None
    network: Network | None = None
    terminal_kind: TerminalKind | None = None
    q: str | None = Field(None, max_length=100, description="Part of the name or location")


class EndpointIn(Schema):
    agency: Id = Field(description="Id of the owning agency")
    name: str = Field(min_length=1, max_length=120)
    terminal_kind: TerminalKind
    network: Network
    bandwidth_mbps: Bandwidth
    dedicated_line: bool = False
    vcs_ip: IPvAnyAddress | None = None
    sip_uri: str | None = Field(None, max_length=200,
                                description="The terminal's SIP account (sip:user@host)")
    location: ShortText = ""
    room_meets_standard: bool = False
    room_notes: str = ""


_NOT_NULL = (
    "agency",
    "name",
    "terminal_kind",
    "network",
    "bandwidth_mbps",
    "dedicated_line",
    "location",
    "room_meets_standard",
    "room_notes",
)


class EndpointPatch(Schema):
    """Only the fields sent change; the others keep their values. Only `vcs_ip` may be null
    (no fixed address); the other fields may be left out, but not sent as null."""

    # SkipJsonSchema: None stands for "not sent" only, so the schema does not call them nullable.
    agency: Id | SkipJsonSchema[None] = None
    name: Annotated[str, Field(min_length=1, max_length=120)] | SkipJsonSchema[None] = None
    terminal_kind: TerminalKind | SkipJsonSchema[None] = None
    network: Network | SkipJsonSchema[None] = None
    bandwidth_mbps: Bandwidth | SkipJsonSchema[None] = None
    dedicated_line: bool | SkipJsonSchema[None] = None
    vcs_ip: IPvAnyAddress | None = None
    sip_uri: str | None = Field(None, max_length=200)
    location: ShortText | SkipJsonSchema[None] = None
    room_meets_standard: bool | SkipJsonSchema[None] = None
    room_notes: str | SkipJsonSchema[None] = None

    @field_validator(*_NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Optional only so that it may be left out; an explicit null is not a value.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class EvaluationIn(Schema):
    answers: dict[Annotated[str, Field(max_length=60)], bool] = Field(
        description="One answer per item key of the rulebook's room standard "
        "(room_standard.items), e.g. {\"power\": true}"
    )
    remarks: str = Field("", max_length=4000)


class EvaluationResultOut(Schema):
    evaluation: EvaluationOut
    endpoint: EndpointOut


class ApprovalOut(Schema):
    endpoint: EndpointOut
    account_username: str
    account_password: str = Field(
        description="Shown in this response only; it is stored hashed and cannot be read again."
    )


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)


class ContactEndIn(Schema):
    reason: str = Field(max_length=200, description="Why the person left the post")


class RepairIn(Schema):
    note: str = Field(max_length=2000, description="What was repaired, replaced or upgraded")


class SecurityCheckIn(Schema):
    reason: SecurityCheckReason
    result: SecurityCheckResult
    checked_on: dt.date
    police_reference: str = Field("", max_length=120)
    remarks: str = ""


class SecurityCheckResultOut(Schema):
    security_check: SecurityCheckOut
    endpoint: EndpointOut


# ---------------------------------------------------------------- contacts


class ContactOut(Schema):
    id: int
    endpoint: int
    role: ContactRole
    role_label: str
    full_name: str
    phone: str
    email: str
    trained_on: dt.date | None
    active_from: dt.datetime
    active_until: dt.datetime | None
    change_reason: str
    is_current: bool

    @staticmethod
    def resolve_endpoint(obj: Contact) -> int:
        return int(obj.endpoint_id)

    @staticmethod
    def resolve_role_label(obj: Contact) -> str:
        return str(obj.get_role_display())


class ContactListOut(Schema):
    current: list[ContactOut]
    history: list[ContactOut]


class ContactIn(Schema):
    role: ContactRole
    full_name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=1, max_length=20)
    email: str = Field("", max_length=254)
    trained_on: dt.date | None = None
    change_reason: str = Field("", max_length=200)

