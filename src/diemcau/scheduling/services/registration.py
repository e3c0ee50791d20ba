"""Registering meetings (R7, R8, R10): drafts, registration with lead times, series. The
submission itself and the cancellation are transitions of the lifecycle (`lifecycle`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit, date_bounds
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require
from diemcau.core.text import hidden_character_errors
from diemcau.directory.choices import AgencyKind
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.rules import Stage, readiness_refusal
from diemcau.directory.services.contacts import normalize_phone, valid_phone
from diemcau.rulebooks import Rulebook, active_rulebook

from .. import notices
from ..choices import Classification, MeetingStatus, Recurrence, Urgency
from ..models import Meeting, MeetingSeries
from ..permissions import can_manage_meeting
from ..planning import MAX_MEETING_LENGTH
from ..rules import personal_internet_refusal
from . import lifecycle
from .snapshots import meeting_snapshot

MAX_INVITATION_BYTES = 10 * 1024 * 1024
MAX_OCCURRENCES = 60


@dataclass
class MeetingInput:
    title: str
    host_agency: Agency
    host_endpoint: Endpoint
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    contact_name: str
    contact_phone: str
    participants: list[Endpoint] = field(default_factory=list)
    meeting_type: str = "working"
    rehearsal_starts_at: dt.datetime | None = None
    rehearsal_ends_at: dt.datetime | None = None
    urgency: str = Urgency.NORMAL
    emergency_reason: str = ""
    classification: str = Classification.NORMAL
    recording_requested: bool = False
    support_notes: str = ""
    invitation: UploadedFile | None = None


# ---------------------------------------------------------------- checks


def _check_shape(data: MeetingInput) -> None:
    for name in ("starts_at", "ends_at", "rehearsal_starts_at", "rehearsal_ends_at"):
        value = getattr(data, name)
        if value is not None:
            setattr(data, name, date_bounds.aware(value))
    errors = date_bounds.window_errors(
        starts_at=data.starts_at, ends_at=data.ends_at,
        rehearsal_starts_at=data.rehearsal_starts_at, rehearsal_ends_at=data.rehearsal_ends_at,
    )
    if errors:  # nothing below is meaningful for a date outside the window
        raise InvalidInput(errors)
    for name in ("title", "place", "contact_name"):
        if not getattr(data, name).strip():
            errors[name] = [_("This field is required.")]
    errors.update(hidden_character_errors(
        {name: getattr(data, name) for name in ("title", "place", "contact_name")}
    ))
    if not valid_phone(data.contact_phone):
        errors["contact_phone"] = [
            _("Enter a Vietnamese phone number, e.g. 0912345678 or +84912345678.")
        ]
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    elif data.ends_at - data.starts_at > MAX_MEETING_LENGTH:
        errors["ends_at"] = [
            _("A meeting lasts at most 12 hours; register a series for several days.")
        ]
    if (data.rehearsal_starts_at is None) != (data.rehearsal_ends_at is None):
        errors["rehearsal_ends_at"] = [_("Give both the start and the end of the rehearsal.")]
    elif data.rehearsal_starts_at and data.rehearsal_ends_at:
        if data.rehearsal_ends_at <= data.rehearsal_starts_at:
            errors["rehearsal_ends_at"] = [_("The end must be after the start.")]
        elif data.rehearsal_ends_at - data.rehearsal_starts_at > MAX_MEETING_LENGTH:
            errors["rehearsal_ends_at"] = [_("A rehearsal lasts at most 12 hours.")]
        elif data.rehearsal_ends_at > data.starts_at:
            errors["rehearsal_ends_at"] = [_("The rehearsal must end before the session starts.")]
    if data.urgency == Urgency.EMERGENCY and not data.emergency_reason.strip():
        errors["emergency_reason"] = [_("Say what the emergency is.")]
    if data.host_endpoint.agency_id != data.host_agency.pk:
        errors["host_endpoint"] = [_("The host endpoint must belong to the host agency.")]
    if data.invitation is not None:
        errors.update(_invitation_errors(data.invitation))
    if errors:
        raise InvalidInput(errors)


def _invitation_errors(upload: UploadedFile) -> dict[str, list[str]]:
    if upload.size is not None and upload.size > MAX_INVITATION_BYTES:
        return {"invitation": [_("The invitation letter must be at most 10 MB.")]}
    head = upload.read(5)
    upload.seek(0)
    if head != b"%PDF-":
        return {"invitation": [_("The invitation letter must be a PDF file.")]}
    return {}


def _check_endpoints(data: MeetingInput, rulebook: Rulebook) -> None:
    """Only endpoints ready for use join (R5: admitted; ĐN Đ8.3c: security check not due —
    `directory.rules.checklist`, as the form's panel and the API show it); state secrets keep
    personal devices on the Internet out (R20)."""
    for endpoint in [data.host_endpoint, *data.participants]:
        where = "participants" if endpoint != data.host_endpoint else "host_endpoint"
        refusal = readiness_refusal(endpoint, Stage.USE, rulebook, field=where)
        if refusal is None:
            refusal = personal_internet_refusal(data.classification, endpoint,
                                                field="participants")
        if refusal is not None:
            raise refusal


def check_registrar(actor: User, host: Agency, rulebook: Rulebook) -> None:
    """Who registers (ĐN Đ10.1–2, KH Đ12.1–2): the host's office, or for KH communes the
    district's office; the operator may register on anyone's behalf."""
    require(actor, Action.REGISTER_MEETING, host)
    if actor.is_province_wide or actor.is_superuser:
        return
    rule = rulebook.registration
    if (
        rule.district_registers_for_communes
        and host.kind == AgencyKind.COMMUNE_PEOPLE_COMMITTEE
        and host.parent is not None
        and host.parent.kind == AgencyKind.DISTRICT_PEOPLE_COMMITTEE
        and actor.agency_id != host.parent_id
    ):
        raise RuleViolation(
            code="registrar_is_the_district",
            article=rulebook.cite(rule.district_registers_article or rule.article),
            message=_(
                "Meetings hosted by a commune are registered by the office of its "
                "district (%(district)s)."
            )
            % {"district": host.parent.name},
            field="host_agency",
        )


def _apply(meeting: Meeting, data: MeetingInput) -> None:
    meeting.title = data.title.strip()
    meeting.meeting_type = data.meeting_type
    meeting.host_agency = data.host_agency
    meeting.host_endpoint = data.host_endpoint
    meeting.starts_at, meeting.ends_at = data.starts_at, data.ends_at
    meeting.rehearsal_starts_at = data.rehearsal_starts_at
    meeting.rehearsal_ends_at = data.rehearsal_ends_at
    meeting.place = data.place.strip()
    meeting.contact_name = data.contact_name.strip()
    meeting.contact_phone = normalize_phone(data.contact_phone)
    meeting.urgency = data.urgency
    meeting.emergency_reason = data.emergency_reason.strip()
    meeting.classification = data.classification
    meeting.recording_requested = data.recording_requested
    meeting.support_notes = data.support_notes.strip()
    if data.invitation is not None:
        meeting.invitation = data.invitation


def _participants(data: MeetingInput) -> list[Endpoint]:
    unique = {e.pk: e for e in data.participants if e.pk != data.host_endpoint.pk}
    return list(unique.values())


def _validate(data: MeetingInput, actor: User, rulebook: Rulebook) -> None:
    _check_shape(data)
    data.participants = _participants(data)
    check_registrar(actor, data.host_agency, rulebook)
    _check_endpoints(data, rulebook)


# ---------------------------------------------------------------- services


@transaction.atomic
def create_meeting(data: MeetingInput, *, actor: User, submit: bool = True) -> Meeting:
    """Register a meeting; with `submit=False` it stays a draft the office can finish."""
    rulebook = active_rulebook()
    _validate(data, actor, rulebook)
    meeting = Meeting(created_by=actor)
    _apply(meeting, data)
    if submit:
        lifecycle.stamp_submission(meeting, rulebook, timezone.now())
    meeting.save()
    meeting.participants.set(data.participants)
    if submit:
        lifecycle.record_new_submission(meeting, actor=actor)
    else:
        audit.record("meeting.draft", meeting, actor=actor, after=meeting_snapshot(meeting))
    return meeting


# An edit of these needs the lead time again (R8); any edit restarts the reply clock (R9).
TIMING_FIELDS = ("starts_at", "ends_at", "rehearsal_starts_at", "rehearsal_ends_at", "urgency")
# What may still be edited: a draft, and a registration the operator has not decided yet.
EDITABLE_STATUSES = (MeetingStatus.DRAFT, MeetingStatus.SUBMITTED)


def edit_refusal(meeting: Meeting) -> InvalidTransition | None:
    """Why this meeting can no longer be edited (pages hide the button by it)."""
    if meeting.status in EDITABLE_STATUSES:
        return None
    return InvalidTransition(_("Once the operator has decided, a meeting can no longer be "
                               "edited; copy it into a new registration."))


@transaction.atomic
def update_meeting(meeting: Meeting, data: MeetingInput, *, actor: User) -> Meeting:
    """Edit a draft, or a submitted registration before the operator's decision. A submitted
    one is a new registration as far as the rules go: the lead time is checked again from now
    and the operator's reply clock starts again (ĐN Đ11.2b, KH Đ13.2b), and the operators are
    told what changed."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not can_manage_meeting(actor, meeting):
        raise PermissionDenied("register_meeting")
    refusal = edit_refusal(meeting)
    if refusal is not None:
        raise refusal
    before = meeting_snapshot(meeting)
    rulebook = active_rulebook()
    _validate(data, actor, rulebook)
    _apply(meeting, data)
    submitted = meeting.status == MeetingStatus.SUBMITTED
    if submitted:
        moved = any(before.get(name) != value for name, value in audit.snapshot(
            meeting, TIMING_FIELDS).items())
        lifecycle.restart_reply_clock(meeting, rulebook, timezone.now(), check_lead_time=moved)
    meeting.save()
    meeting.participants.set(data.participants)
    after = meeting_snapshot(meeting)
    audit.record("meeting.amend" if submitted else "meeting.update", meeting, actor=actor,
                 before=before, after=after)
    if submitted:
        notices.amended(meeting, changed=sorted(
            name for name in after if before.get(name) != after.get(name)))
    return meeting


# The name the pages and the API knew first.
update_draft = update_meeting


def occurrence_starts(first: dt.datetime, recurrence: str, until: dt.date) -> list[dt.datetime]:
    """Start times of a series: the same weekday each week, or the same day each month
    (skipped in months without that day), in local time, up to `until` — at most one more
    than MAX_OCCURRENCES, so the caller can tell a series that is too long.

    The scan is bounded by a number of steps, not by reaching `until`: a month without the
    day, or a year past the calendar's end, can never make it loop."""
    local = timezone.localtime(first)
    starts: list[dt.datetime] = []
    # Months without the 29th–31st: at most 5 in 12, so this many steps find every start.
    for index in range(3 * (MAX_OCCURRENCES + 1)):
        if recurrence == Recurrence.WEEKLY:
            try:
                candidate = local + dt.timedelta(weeks=index)
            except OverflowError:
                break
        else:
            month = local.month - 1 + index
            year, month = local.year + month // 12, month % 12 + 1
            if year > dt.MAXYEAR:
                break
            try:
                candidate = local.replace(year=year, month=month)
            except ValueError:
                continue  # this month has no such day
        if candidate.date() > until or len(starts) > MAX_OCCURRENCES:
            break
        starts.append(candidate)
    return starts


@transaction.atomic
def create_series(
    data: MeetingInput, *, recurrence: str, until: dt.date, actor: User
) -> MeetingSeries:
    """Register a recurring meeting: every occurrence is submitted and decided on its own."""
    if recurrence not in Recurrence.values:
        raise InvalidInput({"recurrence": [_("Choose weekly or monthly.")]})
    errors = date_bounds.window_errors(starts_at=data.starts_at, until=until)
    if errors:
        raise InvalidInput(errors)
    starts = occurrence_starts(data.starts_at, recurrence, until)
    if not starts:
        raise InvalidInput({"until": [_("The series ends before its first meeting.")]})
    if len(starts) > MAX_OCCURRENCES:
        raise InvalidInput(
            {"until": [_("At most %(n)s meetings in one series.") % {"n": MAX_OCCURRENCES}]}
        )
    series = MeetingSeries.objects.create(recurrence=recurrence, until=until, created_by=actor)
    for start in starts:
        shift = start - data.starts_at
        occurrence = MeetingInput(**{**data.__dict__})
        occurrence.starts_at, occurrence.ends_at = start, data.ends_at + shift
        if data.rehearsal_starts_at and data.rehearsal_ends_at:
            occurrence.rehearsal_starts_at = data.rehearsal_starts_at + shift
            occurrence.rehearsal_ends_at = data.rehearsal_ends_at + shift
        meeting = create_meeting(occurrence, actor=actor)
        meeting.series = series
        meeting.save(update_fields=["series"])
    audit.record(
        "meeting.series",
        series,
        actor=actor,
        after={"recurrence": recurrence, "until": until, "count": len(starts)},
    )
    return series
