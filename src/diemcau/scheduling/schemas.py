"""Request and response shapes of the scheduling API (R7–R15).

Field names are the services' names (`starts_at`, `contact_phone`, `participants`…), so a rule
violation located at ["body", "starts_at"] points at the field the client sent. Datetimes are
ISO 8601 with an offset; a naive datetime is refused (DESIGN: aware datetimes only).

The meeting code (R13) is a secret: list items never carry it, and a meeting's detail carries
it only for the callers `api._sees_code` names (`MeetingWithCodeOut`).
"""

import datetime as dt
from typing import Any

from django.db.models import Count, Min, Q
from ninja import Field, Schema
from pydantic import AwareDatetime

from diemcau.core.api_errors import ErrorItem
from diemcau.core.api_inputs import Id, QueryInstant

from .choices import (
    CheckStatus,
    Classification,
    IncidentStatus,
    MeetingStatus,
    MeetingType,
    Recurrence,
    Urgency,
    WindowKind,
)
from .models import Incident, Meeting, TechnicalCheck
from .permissions import can_see_code
from .reasons import reason_text
from .rules import ReplyState, is_announced, reply_deadline

# ---------------------------------------------------------------- references


class AgencyRef(Schema):
    id: int
    name: str
    abbreviation: str


class EndpointRef(Schema):
    id: int
    name: str


class ParticipantOut(Schema):
    id: int
    name: str
    agency: AgencyRef


class NodeRef(Schema):
    id: int
    name: str


class MeetingRef(Schema):
    id: int
    title: str


def _user_name(user: Any) -> str | None:
    return str(user.get_username()) if user is not None else None


# ---------------------------------------------------------------- meetings


class MeetingOut(Schema):
    """A meeting in a list: no participants, never the code."""

    id: int
    title: str
    meeting_type: MeetingType
    status: MeetingStatus
    status_label: str
    urgency: Urgency
    classification: Classification
    host_agency: AgencyRef
    host_endpoint: EndpointRef
    rehearsal_starts_at: dt.datetime | None
    rehearsal_ends_at: dt.datetime | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    registered_at: dt.datetime | None
    reply_due_at: dt.datetime | None
    series: int | None = Field(description="Id of the recurring series, if any")

    @staticmethod
    def resolve_status_label(obj: Meeting) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_series(obj: Meeting) -> int | None:
        return obj.series_id


class ChecksSummaryOut(Schema):
    total: int
    scheduled: int
    passed: int
    failed: int
    next_due_at: dt.datetime | None = Field(description="Earliest check not yet recorded")


def checks_summary(meeting: Meeting) -> ChecksSummaryOut:
    """One aggregate query over the meeting's technical checks (R15)."""
    counts = meeting.checks.aggregate(
        total=Count("pk"),
        scheduled=Count("pk", filter=Q(status=CheckStatus.SCHEDULED)),
        passed=Count("pk", filter=Q(status=CheckStatus.PASSED)),
        failed=Count("pk", filter=Q(status=CheckStatus.FAILED)),
        next_due_at=Min("due_at", filter=Q(status=CheckStatus.SCHEDULED)),
    )
    return ChecksSummaryOut(**counts)


class ReplyOut(Schema):
    """The operator's reply deadline (R9: ĐN Đ11.2b, KH Đ13.2b), from `rules.reply_deadline`
    like the meeting page's countdown."""

    due_at: dt.datetime
    warn_at: dt.datetime = Field(description="From then on the deadline is near")
    state: ReplyState = Field(
        description="ok: due; warn: due soon; now: due at once (an emergency), counted up "
                    "from the receipt; overdue: missed")
    answered: bool
    seconds_left: int = Field(description="Until the deadline; negative once it has passed")
    article: str


class MeetingDetailOut(MeetingOut):
    """Everything registered (R7), the decision, the MCU node and the checks; the code only
    for the callers `can_see_code` names (the field is left out for the others)."""

    participants: list[ParticipantOut]
    place: str
    contact_name: str
    contact_phone: str
    recording_requested: bool
    support_notes: str
    emergency_reason: str
    has_invitation: bool
    counted_from: dt.datetime | None = Field(description="When the registration counts from")
    sla_breached_at: dt.datetime | None
    decided_at: dt.datetime | None
    decision_reason: str
    node: NodeRef | None = Field(description="The MCU node booked on acceptance")
    checks: ChecksSummaryOut
    reply: ReplyOut | None = Field(description="The operator's reply deadline, once submitted")
    announced: bool = Field(
        False, description="Announced by its office for the operator to prepare (ĐN Đ10.1, "
                           "KH Đ12.1): not registered for approval, never refused")
    created_at: dt.datetime
    updated_at: dt.datetime
    code: str | None = Field(
        None,
        description=(
            "Meeting code (secret, R13), null until issued. Present only for the host's and "
            "participants' agencies and the operator; never in lists."
        ),
    )

    @staticmethod
    def resolve_participants(obj: Meeting) -> list[Any]:
        return list(obj.participants.select_related("agency").order_by("name"))

    @staticmethod
    def resolve_has_invitation(obj: Meeting) -> bool:
        return bool(obj.invitation)

    @staticmethod
    def resolve_decision_reason(obj: Meeting) -> str:
        # A system reason (a revocation, KH Đ12.4b) in the reader's language.
        return reason_text(obj)

    @staticmethod
    def resolve_announced(obj: Meeting) -> bool:
        return is_announced(obj)

    @staticmethod
    def resolve_checks(obj: Meeting) -> ChecksSummaryOut:
        return checks_summary(obj)

    @staticmethod
    def resolve_reply(obj: Meeting) -> ReplyOut | None:
        deadline = reply_deadline(obj)
        if deadline is None:
            return None
        return ReplyOut(
            due_at=deadline.due,
            warn_at=deadline.warn_at,
            state=deadline.state,
            answered=deadline.answered,
            seconds_left=deadline.seconds_left,
            article=deadline.article,
        )

    @staticmethod
    def resolve_code(obj: Meeting, context: dict[str, Any] | None) -> str | None:
        request = (context or {}).get("request")
        if request is None or not can_see_code(request.auth, obj):
            # "No such attribute": the field stays unset, and operations serialize with
            # exclude_unset, so the key is absent rather than null.
            raise AttributeError("code")
        return obj.code


class MeetingFilters(Schema):
    status: MeetingStatus | None = None
    urgency: Urgency | None = None
    host_agency: Id | None = None
    start: QueryInstant | None = Field(None, description="Meetings ending after this instant")
    end: QueryInstant | None = Field(None, description="Meetings starting before this instant")
    q: str | None = Field(None, max_length=100, description="Part of the title, place or host")


class RepeatIn(Schema):
    recurrence: Recurrence
    until: dt.date = Field(description="Last day an occurrence may fall on")


class MeetingIn(Schema):
    title: str = Field(max_length=250)
    meeting_type: MeetingType = MeetingType.WORKING
    host_agency: Id = Field(description="Id of the host agency")
    host_endpoint: Id = Field(description="Id of the host endpoint, of the host agency")
    participants: list[Id] = Field(
        default_factory=list, max_length=500, description="Ids of the participant endpoints"
    )
    rehearsal_starts_at: AwareDatetime | None = None
    rehearsal_ends_at: AwareDatetime | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: str = Field(max_length=250)
    contact_name: str = Field(max_length=120)
    contact_phone: str = Field(max_length=20)
    recording_requested: bool = False
    support_notes: str = Field("", max_length=5000)
    urgency: Urgency = Urgency.NORMAL
    emergency_reason: str = Field("", max_length=250)
    classification: Classification = Classification.NORMAL
    submit: bool = Field(True, description="false keeps a draft the office can finish")
    repeat: RepeatIn | None = Field(
        None, description="A recurring series: every occurrence is submitted on its own"
    )


class SeriesOut(Schema):
    id: int
    recurrence: Recurrence
    until: dt.date
    occurrences: list[MeetingOut]


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)


class AcceptIn(Schema):
    confirm_revocations: list[Id] = Field(
        default_factory=list,
        max_length=500,
        description="Ids of the lower-level meetings the operator agrees to revoke (KH Đ12.4b)",
    )


# ---------------------------------------------------------------- decisions


class RevocationOut(Schema):
    id: int
    title: str
    registered_at: dt.datetime | None
    host_agency: AgencyRef


class ConflictOut(Schema):
    endpoint: EndpointRef
    meeting: MeetingRef


class PlanOut(Schema):
    """Where the meeting would go if accepted now, and what stands in the way (R11, R12)."""

    meeting: int
    possible: bool
    full: bool = Field(description="No node has room, even with revocations")
    node: NodeRef | None
    revocations: list[RevocationOut] = Field(description="Latest registered first")
    blocking_conflicts: list[ConflictOut]
    capacity_article: str
    capacity_details: str = Field(
        "", description="When full: on each node, from when to when and which meetings and "
        "technical checks fill it (KH Đ12.4a)")
    priority_article: str


class AcceptErrorItem(ErrorItem):
    revocations: list[RevocationOut] | None = Field(
        None, description="With code revocation_needs_confirmation: what would be revoked"
    )


class AcceptValidationErrorOut(Schema):
    detail: list[AcceptErrorItem]


class QueueItemOut(Schema):
    id: int
    title: str
    urgency: Urgency
    emergency_reason: str
    host_agency: AgencyRef
    host_endpoint: EndpointRef
    starts_at: dt.datetime
    registered_at: dt.datetime | None
    reply_due_at: dt.datetime | None
    announced: bool = Field(
        False, description="Announced by its office (ĐN Đ10.1, KH Đ12.1): never refused")
    seconds_left: int | None = Field(description="Until the reply deadline; negative when late")
    warning: bool = Field(description="The deadline is near (the rulebook's warning time)")
    breached: bool = Field(description="The deadline has passed unanswered")
    reply_state: ReplyState | None = Field(
        description="ok: due; warn: due soon; now: due at once (an emergency); overdue: "
                    "missed (as on the pages)"
    )

    # R9 (ĐN Đ11.2b, KH Đ13.2b): every field below is `rules.reply_deadline`'s answer, the
    # same the queue page's countdown and the worker's warning use.
    @staticmethod
    def resolve_seconds_left(obj: Meeting) -> int | None:
        deadline = reply_deadline(obj)
        return deadline.seconds_left if deadline is not None else None

    @staticmethod
    def resolve_announced(obj: Meeting) -> bool:
        return is_announced(obj)

    @staticmethod
    def resolve_breached(obj: Meeting) -> bool:
        deadline = reply_deadline(obj)
        return deadline is not None and deadline.missed

    @staticmethod
    def resolve_warning(obj: Meeting) -> bool:
        deadline = reply_deadline(obj)
        return deadline is not None and deadline.state == ReplyState.DUE_SOON

    @staticmethod
    def resolve_reply_state(obj: Meeting) -> ReplyState | None:
        deadline = reply_deadline(obj)
        return deadline.state if deadline is not None else None


# ---------------------------------------------------------------- rules, busy, calendar


class RegistrarOut(Schema):
    allowed: bool
    message: str | None
    article: str | None


class ChannelOut(Schema):
    """How a registration is sent under the regulation (KH Đ13.2a, ĐN Đ11.2a)."""

    kind: str = Field(description="official_email, web_form or invitation_letter")
    label: str
    address: str = Field(description="The e-mail address or the form's URL; empty for a letter")


class RulesOut(Schema):
    urgency: Urgency
    exempt: bool = Field(description="No lead time for this urgency")
    earliest_start: dt.datetime = Field(description="Earliest start allowed if submitted now")
    article: str
    requirement: str
    counted_from: dt.datetime = Field(description="When a registration sent now counts from")
    reply_due_at: dt.datetime = Field(description="The operator's reply deadline if sent now")
    reply_article: str
    registrar: RegistrarOut | None = Field(
        description="Whether the caller may register for host_agency (when given)"
    )
    channels: list[ChannelOut] = Field(
        default_factory=list,
        description="Where the regulation has registrations sent; this site records them")
    channels_article: str = ""


class RulesFilters(Schema):
    urgency: Urgency = Urgency.NORMAL
    host_agency: Id | None = None


class RangeFilters(Schema):
    start: QueryInstant
    end: QueryInstant


class BusyFilters(RangeFilters):
    ids: str = Field(max_length=2000, description="Endpoint ids, comma separated: 1,2,3")


class HeldWindowOut(Schema):
    kind: WindowKind
    starts_at: dt.datetime
    ends_at: dt.datetime
    meeting: int | None = Field(description="Null when the caller may not see the meeting")
    title: str | None = Field(description="Null when the caller may not see the meeting")


class EndpointBusyOut(Schema):
    endpoint: EndpointRef
    held: list[HeldWindowOut]


class CalendarItemOut(Schema):
    id: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: MeetingStatus
    host_agency: str

    @staticmethod
    def resolve_host_agency(obj: Meeting) -> str:
        return str(obj.host_agency.name)


# ---------------------------------------------------------------- checks and incidents


class CheckEndpointOut(Schema):
    id: int
    name: str
    agency: int

    @staticmethod
    def resolve_agency(obj: Any) -> int:
        return int(obj.agency_id)


class CheckOut(Schema):
    id: int
    meeting: int
    endpoint: CheckEndpointOut
    kind: WindowKind
    due_at: dt.datetime
    status: CheckStatus
    status_label: str
    results: dict[str, bool]
    remarks: str
    checked_by: str | None
    checked_at: dt.datetime | None

    @staticmethod
    def resolve_meeting(obj: TechnicalCheck) -> int:
        return int(obj.meeting_id)

    @staticmethod
    def resolve_status_label(obj: TechnicalCheck) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_checked_by(obj: TechnicalCheck) -> str | None:
        return _user_name(obj.checked_by)


class CheckListOut(Schema):
    items: list[str] = Field(description="The rulebook's checklist: answer each in `results`")
    article: str
    checks: list[CheckOut]


class CheckIn(Schema):
    results: dict[str, bool] = Field(description="Every checklist item: true when ready")
    remarks: str = Field("", max_length=5000)


class IncidentOut(Schema):
    id: int
    meeting: MeetingRef
    endpoint: EndpointRef | None
    technical_check: int | None
    description: str
    kind: str = Field(description="terminal, line, mcu, room, or empty when not yet known")
    status: IncidentStatus
    status_label: str
    resolution: str
    opened_by: str
    opened_at: dt.datetime
    closed_by: str | None
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_technical_check(obj: Incident) -> int | None:
        return obj.technical_check_id

    @staticmethod
    def resolve_status_label(obj: Incident) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_opened_by(obj: Incident) -> str:
        return str(obj.opened_by.get_username())

    @staticmethod
    def resolve_closed_by(obj: Incident) -> str | None:
        return _user_name(obj.closed_by)


class IncidentIn(Schema):
    description: str = Field(max_length=5000)
    endpoint: Id | None = Field(None, description="The endpoint concerned, if one")


class IncidentUpdateIn(Schema):
    status: IncidentStatus
    resolution: str = Field("", max_length=5000)


class IncidentFilters(Schema):
    status: IncidentStatus | None = None
    meeting: Id | None = None
