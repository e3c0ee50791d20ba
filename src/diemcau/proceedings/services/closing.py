"""The closing checklist (ĐN Đ13.1–2, KH Đ15.1–2): once the session has ended, each endpoint
of the meeting and the MCU operator tick the rulebook's closing items (`closing.items`: the
system checked, the terminal switched off, then the power cut; the recording stored). An item
without its tick stays open, and the open ones show on the operator's desk."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.text import hidden_character_errors
from diemcau.directory.models import Endpoint
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting

from ..choices import ClosingParty
from ..models import ClosingTick
from ..permissions import can_tick_for, meeting_endpoints

TICK_FIELDS = ["meeting_id", "endpoint_id", "item", "remarks", "ticked_by_id", "ticked_at"]


def closing_refusal(meeting: Meeting) -> InvalidTransition | None:
    """Why the closing items of `meeting` cannot be ticked now, if they cannot."""
    if meeting.status == MeetingStatus.ENDED:
        return None
    return InvalidTransition(
        _("The closing items are ticked once the session has ended; this meeting is "
          "“%(status)s”.") % {"status": meeting.get_status_display()})


@transaction.atomic
def set_tick(meeting: Meeting, *, item: str, endpoint: Endpoint | None, done: bool,
             actor: User, remarks: str = "") -> ClosingTick | None:
    """Tick (or, with `done=False`, open again) one closing item of `endpoint`, or of the
    operator when `endpoint` is None. Returns the tick, or None once it is open again."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not can_tick_for(actor, endpoint):
        raise PermissionDenied(
            "tick_closing",
            _("The closing items of an endpoint are ticked by its technicians, the "
              "operator's by the MCU operators."))
    refusal = closing_refusal(meeting)
    if refusal is not None:
        raise refusal
    party = ClosingParty.OPERATOR if endpoint is None else ClosingParty.ENDPOINT
    keys = {entry.key for entry in active_rulebook().closing.items_for(party)}
    if item not in keys:
        raise InvalidInput({"item": [_("Not a closing item of this checklist.")]})
    if endpoint is not None and not meeting_endpoints(meeting).filter(pk=endpoint.pk).exists():
        raise InvalidInput({"endpoint": [_("This endpoint is not in the meeting.")]})
    remarks = " ".join(remarks.split())
    errors = hidden_character_errors({"remarks": remarks})
    if len(remarks) > 500:
        errors["remarks"] = [_("At most 500 characters.")]
    if errors:
        raise InvalidInput(errors)
    existing = ClosingTick.objects.filter(meeting=meeting, endpoint=endpoint, item=item).first()
    if done:
        if existing is not None:
            return existing
        tick = ClosingTick.objects.create(meeting=meeting, endpoint=endpoint, item=item,
                                          remarks=remarks, ticked_by=actor,
                                          ticked_at=timezone.now())
        audit.record("closing.tick", tick, actor=actor, after=audit.snapshot(tick, TICK_FIELDS))
        return tick
    if existing is not None:
        audit.record("closing.untick", existing, actor=actor,
                     before=audit.snapshot(existing, TICK_FIELDS))
        existing.delete()
    return None
