"""The rows a report counts (R21): one definition of each set, used by the figures and by the
pages listing what stands behind a figure, so a figure and its list can never disagree.

- **Meetings of the scope** are those hosted by an agency of the scope (registered: drafts
  never count), counted in the period their official session starts in.
- **Endpoints of the scope** are those of its agencies; their attendance counts every held
  meeting they were invited to, whoever hosted it.
- Everything starts from what the reader may see (`scheduling.permissions.meetings_visible_to`);
  the worker, which reports on the province, starts from every meeting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import ExpressionWrapper, F, FloatField, Func, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from diemcau.core.models import User
from diemcau.core.permissions import Action, role_allows, sees_whole_province
from diemcau.directory.models import Endpoint
from diemcau.rulebooks import Rulebook, active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import meetings_visible_to

from .periods import Period, zone_of
from .scope import ReportScope

# A meeting that took place: its session ran (and was ended by its host or by the system).
HELD = (MeetingStatus.ENDED, MeetingStatus.LIVE)
# A meeting that used, or will use, an MCU node: it was accepted and not withdrawn.
USING_NODE = (MeetingStatus.ACCEPTED, MeetingStatus.LIVE, MeetingStatus.ENDED)

# Outcomes of a registration, each meeting in exactly one (its status now).
OUTCOMES: dict[str, tuple[str, ...]] = {
    "held": HELD,
    "accepted": (MeetingStatus.ACCEPTED,),
    "waiting": (MeetingStatus.SUBMITTED,),
    "refused": (MeetingStatus.REFUSED,),
    "cancelled": (MeetingStatus.CANCELLED,),
    "revoked": (MeetingStatus.REVOKED,),
}

class Seconds(Func):
    """`end - start` in seconds, worked out by the database itself: SQLite's julianday()
    and PostgreSQL's EXTRACT(EPOCH …), never a Python function called for every row (which
    is how Django subtracts datetimes on SQLite)."""

    output_field = FloatField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template="((julianday(%(expressions)s)) * 86400.0)",
                           arg_joiner=") - julianday(", **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        extra.setdefault("template", "EXTRACT(EPOCH FROM (%(expressions)s))")
        extra.setdefault("arg_joiner", " - ")
        return super().as_sql(compiler, connection, **extra)


def duration(end: str, start: str) -> Seconds:
    return Seconds(F(end), F(start))


def session_and_rehearsal() -> Any:
    """How long a meeting uses the MCU as booked, in seconds: its session and rehearsal."""
    rehearsal = Coalesce(duration("rehearsal_ends_at", "rehearsal_starts_at"),
                         Value(0.0, output_field=FloatField()))
    return ExpressionWrapper(duration("ends_at", "starts_at") + rehearsal,
                             output_field=FloatField())


@dataclass
class Basis:
    """A report's period and scope, for a reader (None: the system, province-wide)."""

    period: Period
    scope: ReportScope
    user: User | None = None
    rulebook: Rulebook = field(default_factory=active_rulebook)
    now: dt.datetime = field(default_factory=timezone.now)

    def __post_init__(self) -> None:
        zone = zone_of(self.rulebook)
        self.start, self.end = self.period.bounds(zone)
        self.previous = self.period.previous()
        self.prev_start, _ = self.previous.bounds(zone)

    # -- periods as filters

    def window(self, which: str) -> tuple[dt.datetime, dt.datetime]:
        return (self.start, self.end) if which == "current" else (self.prev_start, self.start)

    def in_span(self, lookup: str) -> Q:
        """Both periods: from the previous period's start to this one's end."""
        return Q(**{f"{lookup}__gte": self.prev_start, f"{lookup}__lt": self.end})

    def in_current(self, lookup: str) -> Q:
        return Q(**{f"{lookup}__gte": self.start, f"{lookup}__lt": self.end})

    def in_previous(self, lookup: str) -> Q:
        return Q(**{f"{lookup}__gte": self.prev_start, f"{lookup}__lt": self.start})

    def in_period(self, lookup: str, which: str) -> Q:
        return self.in_current(lookup) if which == "current" else self.in_previous(lookup)

    # -- rows

    def visible_meetings(self) -> QuerySet[Meeting]:
        """Registered meetings the reader may see, whoever hosts them. A province-wide reader
        sees every registered one (`meetings_visible_to` hides only other offices' drafts),
        which the database finds without that function's subqueries; a test keeps the two
        equal."""
        if self.user is None or (sees_whole_province(self.user)
                                 and role_allows(self.user, Action.VIEW_MEETING)):
            return Meeting.objects.exclude(status=MeetingStatus.DRAFT)
        return meetings_visible_to(self.user).exclude(status=MeetingStatus.DRAFT)

    def meetings(self) -> QuerySet[Meeting]:
        """Meetings hosted in the scope."""
        meetings = self.visible_meetings()
        if self.scope.is_everything:
            return meetings
        return meetings.filter(self.scope.agency_filter(self.rulebook, "host_agency__"))

    def endpoints(self) -> QuerySet[Endpoint]:
        """Endpoints of the scope's agencies."""
        endpoints = Endpoint.objects.all()
        if self.scope.is_everything:
            return endpoints
        return endpoints.filter(self.scope.agency_filter(self.rulebook, "agency__"))

    def endpoint_filter(self, prefix: str) -> Q:
        """A filter through `prefix` (e.g. "endpoint__") to an endpoint of the scope."""
        if self.scope.is_everything:
            return Q()
        return self.scope.agency_filter(self.rulebook, f"{prefix}agency__")

    def held_meetings(self) -> QuerySet[Meeting]:
        """Held meetings the reader may see (any host) in either period: attendance."""
        return self.visible_meetings().filter(self.in_span("starts_at"), status__in=HELD)
