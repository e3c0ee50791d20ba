"""Deciding a weekly or monthly series as a whole (R9, R12): the operator accepts every
waiting occurrence but the exceptions it names, which are refused with one reason. Every
occurrence still goes through its own transition of the lifecycle (`lifecycle`), so each is
checked, booked, audited and told as if decided alone; the whole decision commits or rolls
back together, and a refusal names the occurrence it stopped at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.calendar import DISPLAY_FORMAT
from diemcau.core.errors import InvalidInput, InvalidTransition, RuleViolation
from diemcau.core.models import User
from diemcau.core.permissions import Action, require

from ..choices import MeetingStatus
from ..models import Meeting, MeetingSeries
from . import lifecycle


@dataclass(frozen=True)
class SeriesDecision:
    accepted: list[Meeting]
    refused: list[Meeting]


def waiting(series: MeetingSeries) -> list[Meeting]:
    """The occurrences that wait for the operator, first first."""
    return list(series.meetings.filter(status=MeetingStatus.SUBMITTED)
                .select_related("host_agency").order_by("starts_at", "pk"))


@transaction.atomic
def decide_series(series: MeetingSeries, *, exceptions: Iterable[int], reason: str,
                  actor: User) -> SeriesDecision:
    """Accept every waiting occurrence of `series` except `exceptions` (meeting ids), which
    are refused for `reason`."""
    require(actor, Action.DECIDE_MEETING)
    pending = waiting(series)
    if not pending:
        raise InvalidInput({"__all__": [_("No meeting of this series waits for a decision.")]})
    refused_ids = set(exceptions)
    unknown = refused_ids - {m.pk for m in pending}
    if unknown:
        raise InvalidInput({"exceptions": [_("Choose among the meetings that wait.")]})
    if refused_ids and not reason.strip():
        raise InvalidInput({"reason": [_("Give the reason for the exceptions.")]})
    accepted, refused = [], []
    for meeting in pending:
        try:
            if meeting.pk in refused_ids:
                refused.append(lifecycle.refuse_meeting(meeting, reason=reason, actor=actor))
            else:
                accepted.append(lifecycle.accept_meeting(meeting, actor=actor))
        except (RuleViolation, InvalidTransition) as error:
            # Say which occurrence stopped the decision; nothing of the decision is kept.
            when = timezone.localtime(meeting.starts_at).strftime(DISPLAY_FORMAT)
            error.message = f"{when}: {error.message}"
            if isinstance(error, RuleViolation):
                error.field = None
            raise
    audit.record("meeting.series_decide", series, actor=actor, after={
        "accepted": [m.pk for m in accepted], "refused": [m.pk for m in refused],
        "reason": reason.strip()})
    return SeriesDecision(accepted, refused)
