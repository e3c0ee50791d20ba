"""The duty roster: MCU technicians on duty per shift, the one assigned to each meeting, and
the meetings that no one covers, flagged ahead of time (ĐN Đ12.1; KH Đ14.1, Đ17.3)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition
from diemcau.core.models import User
from diemcau.core.permissions import Action, is_operator, operators, require
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting

from .. import notices, selectors
from ..models import DutyGapNotice, DutyShift, MeetingDuty
from ._common import check_text

SHIFT_FIELDS = ["technician_id", "starts_at", "ends_at", "note", "handed_over_from_id",
                "handover_note"]
MAX_SHIFT = dt.timedelta(hours=24)


def _technician_errors(technician: User) -> dict[str, list[str]]:
    if not technician.is_active or not is_operator(technician):
        return {"technician": [_("Only an active MCU operator can be on duty.")]}
    return {}


@transaction.atomic
def add_shift(
    technician: User, *, starts_at: dt.datetime, ends_at: dt.datetime, note: str = "",
    actor: User,
) -> DutyShift:
    """Put an MCU technician on duty for a shift."""
    require(actor, Action.MANAGE_DUTY)
    errors = _technician_errors(technician)
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The shift must end after it starts.")]
    elif ends_at - starts_at > MAX_SHIFT:
        errors["ends_at"] = [_("A shift lasts at most 24 hours.")]
    check_text(limits={"note": (note, 250)}, dates={"starts_at": starts_at, "ends_at": ends_at},
               errors=errors)
    overlapping = DutyShift.objects.select_for_update().filter(
        technician=technician, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if overlapping.exists():
        raise InvalidInput({"starts_at": [_("This technician already has a shift then.")]})
    shift = DutyShift.objects.create(technician=technician, starts_at=starts_at, ends_at=ends_at,
                                     note=note.strip(), created_by=actor)
    audit.record("desk.shift_add", shift, actor=actor, after=audit.snapshot(shift, SHIFT_FIELDS))
    return shift


@transaction.atomic
def hand_over(shift: DutyShift, *, to: User, note: str, actor: User) -> DutyShift:
    """The technician on duty hands the rest of the shift to another, with a note of what is
    going on: the shift ends now and the other's begins now, until the shift's end."""
    require(actor, Action.MANAGE_DUTY)
    shift = DutyShift.objects.select_for_update().get(pk=shift.pk)
    now = timezone.now()
    if not shift.starts_at <= now < shift.ends_at:
        raise InvalidTransition(_("Only the shift on duty now can be handed over."))
    errors = _technician_errors(to)
    if to.pk == shift.technician_id:
        errors["technician"] = [_("Hand over to someone else.")]
    check_text({"note": note}, limits={"note": (note, 2000)}, errors=errors)
    if DutyShift.objects.filter(technician=to, starts_at__lt=shift.ends_at,
                                ends_at__gt=now).exists():
        raise InvalidInput({"technician": [_("This technician already has a shift then.")]})
    before = audit.snapshot(shift, SHIFT_FIELDS)
    ends_at = shift.ends_at
    shift.ends_at = now
    shift.save(update_fields=["ends_at"])
    audit.record("desk.shift_handover", shift, actor=actor, before=before,
                 after=audit.snapshot(shift, SHIFT_FIELDS))
    following = DutyShift.objects.create(
        technician=to, starts_at=now, ends_at=ends_at, note=shift.note,
        handed_over_from=shift, handover_note=note.strip(), created_by=actor)
    audit.record("desk.shift_add", following, actor=actor,
                 after=audit.snapshot(following, SHIFT_FIELDS))
    return following


@transaction.atomic
def assign_meeting(meeting: Meeting, *, technician: User, actor: User) -> MeetingDuty:
    """Name the MCU technician who watches one meeting (ĐN Đ12.1; KH Đ14.1)."""
    require(actor, Action.MANAGE_DUTY)
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
    if meeting.status not in (MeetingStatus.SUBMITTED, MeetingStatus.ACCEPTED,
                              MeetingStatus.LIVE):
        raise InvalidTransition(_("The meeting is no longer to be held."))
    errors = _technician_errors(technician)
    if errors:
        raise InvalidInput(errors)
    duty = MeetingDuty.objects.filter(meeting=meeting).first()
    before = {"technician_id": duty.technician_id} if duty else None
    duty = duty or MeetingDuty(meeting=meeting)
    duty.technician, duty.assigned_by = technician, actor
    duty.save()
    audit.record("desk.meeting_assign", duty, actor=actor, before=before,
                 after={"meeting_id": meeting.pk, "technician_id": technician.pk})
    return duty


def flag_duty_gaps(now: dt.datetime | None = None) -> list[int]:
    """Tell the operators, once per meeting, of each meeting that starts within the
    rulebook's warning time with no technician assigned and no one on duty at its start.
    The worker runs it every few minutes; returns the meetings flagged now."""
    flagged: list[int] = []
    for meeting in selectors.uncovered_meetings(now):
        with transaction.atomic():
            _, created = DutyGapNotice.objects.get_or_create(meeting=meeting)
            if not created:
                continue
            audit.record("desk.duty_gap", meeting, actor=None,
                         after={"meeting_id": meeting.pk, "starts_at": meeting.starts_at})
            notices.duty_gap(meeting, list(operators()))
            flagged.append(meeting.pk)
    return flagged
