"""The one calendar service: working days, office hours, lead times and reply deadlines.

Everything is computed in the rulebook's time zone (Asia/Ho_Chi_Minh for both provinces) and
takes and returns aware datetimes only. Working days are the rulebook's office weekdays minus
Vietnamese public holidays (Tết included) from the `holidays` package (R8).

Conventions:
- An office period includes both ends: an e-mail sent at 17:00 sharp is sent in office hours.
  This makes "the latest time a registration may arrive" an instant that exists (17:00), not
  the limit of 16:59:59.999….
- "n working days before" keeps the local clock time and skips non-working days; a meeting on
  a non-working day counts back from that day (Saturday 08:00, 2 days → Thursday 08:00).
"""

from __future__ import annotations

import functools
import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import get_language, gettext, ngettext

from diemcau.core.errors import RuleViolation
from diemcau.rulebooks import LeadTime, Rulebook

# Shown to users (R8 messages): day first, as written in Vietnam.
DISPLAY_FORMAT = "%d/%m/%Y %H:%M"

_ONE_DAY = timedelta(days=1)


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"aware datetimes only, got naive {moment!r}")


class WorkCalendar:
    """Working days and office hours of one rulebook. Build it with `for_rulebook(rb)`."""

    def __init__(self, timezone: str, weekdays: list[int], periods: list[tuple[str, str]]):
        self.tz = ZoneInfo(timezone)
        self.weekdays = frozenset(weekdays)
        # Ascending and non-overlapping: the rulebook schema checks it.
        self.periods: tuple[tuple[time, time], ...] = tuple(
            (_parse_hhmm(start), _parse_hhmm(end)) for start, end in periods
        )
        # (year, language) → {date: name}; filled on first use of a year.
        self._holidays: dict[tuple[int, str], dict[date, str]] = {}

    @classmethod
    def for_rulebook(cls, rb: Rulebook) -> WorkCalendar:
        return _calendar_for(rb)

    # -- days ------------------------------------------------------------------------------

    def _holidays_of(self, year: int, language: str = "vi") -> dict[date, str]:
        key = (year, language)
        if key not in self._holidays:
            found = holidays.country_holidays("VN", years=year, language=language)
            self._holidays[key] = dict(found.items())
        return self._holidays[key]

    def is_holiday(self, d: date) -> bool:
        return d in self._holidays_of(d.year)

    def holiday_name(self, d: date, language: str | None = None) -> str | None:
        """The holiday's name in Vietnamese, or in English when the active language is not
        Vietnamese (or `language="en_US"`); None on an ordinary day."""
        if language is None:
            language = "vi" if (get_language() or "vi").startswith("vi") else "en_US"
        return self._holidays_of(d.year, language).get(d)

    def is_working_day(self, d: date) -> bool:
        return d.weekday() in self.weekdays and not self.is_holiday(d)

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days d there are with a <= d < b (0 when b <= a)."""
        count, d = 0, a
        while d < b:
            count += self.is_working_day(d)
            d += _ONE_DAY
        return count

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        d += _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before d."""
        d -= _ONE_DAY
        while not self.is_working_day(d):
            d -= _ONE_DAY
        return d

    # -- instants --------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """`moment` in the rulebook's time zone."""
        _require_aware(moment)
        return moment.astimezone(self.tz)

    def at(self, d: date, clock: time) -> datetime:
        """Local clock time `clock` on day `d`, in the rulebook's time zone."""
        return datetime.combine(d, clock, tzinfo=self.tz)

    def is_office_time(self, moment: datetime) -> bool:
        local = self.local(moment)
        clock = local.time()
        return self.is_working_day(local.date()) and any(
            start <= clock <= end for start, end in self.periods
        )

    def next_office_time(self, moment: datetime) -> datetime:
        """`moment` if it is in office hours, else the start of the next office period."""
        local = self.local(moment)
        if self.is_office_time(local):
            return local
        day, clock = local.date(), local.time()
        if self.is_working_day(day):
            for start, _end in self.periods:
                if clock < start:
                    return self.at(day, start)
        return self.at(self.next_working_day(day), self.periods[0][0])

    def previous_office_time(self, moment: datetime) -> datetime:
        """`moment` if it is in office hours, else the end of the last office period before."""
        local = self.local(moment)
        if self.is_office_time(local):
            return local
        day, clock = local.date(), local.time()
        if self.is_working_day(day):
            for _start, end in reversed(self.periods):
                if end < clock:
                    return self.at(day, end)
        return self.at(self.previous_working_day(day), self.periods[-1][1])

    def subtract_working_days(self, moment: datetime, n: int) -> datetime:
        """The same local clock time n working days earlier (the day of `moment` itself never
        counts, whether or not it is a working day)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        local = self.local(moment)
        day = local.date()
        for _ in range(n):
            day = self.previous_working_day(day)
        return self.at(day, local.time())

    def add_working_days(self, moment: datetime, n: int) -> datetime:
        """The same local clock time n working days later."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        local = self.local(moment)
        day = local.date()
        for _ in range(n):
            day = self.next_working_day(day)
        return self.at(day, local.time())


@functools.lru_cache(maxsize=16)
def _calendar_for(rb: Rulebook) -> WorkCalendar:
    # Rulebook is frozen and hashable (name, source); one calendar (and holiday cache) per book.
    return WorkCalendar(rb.timezone, rb.office_hours.weekdays, rb.office_hours.periods)


# -- registrations and lead times (R8) -------------------------------------------------------


def registration_received_at(rb: Rulebook, received: datetime,
                             urgency: str = "normal") -> datetime:
    """From when a registration counts: when it arrived, or, where registrations are sent in
    office hours (KH Đ13.2a), the next office time — except for the urgencies the rulebook
    counts at once (KH Đ13.2a "trừ các cuộc họp khẩn cấp": an emergency is never deferred)."""
    calendar = WorkCalendar.for_rulebook(rb)
    registration = rb.registration
    if registration.office_hours_only and urgency not in registration.counts_at_once_for:
        return calendar.next_office_time(received)
    return calendar.local(received)


def _lead_time(rb: Rulebook, urgency: str) -> LeadTime:
    try:
        return rb.lead_times[urgency]
    except KeyError:
        raise ValueError(f"unknown urgency {urgency!r}; known: normal, urgent, emergency") from None


def _latest_bound(rb: Rulebook, lead: LeadTime, starts_at: datetime) -> datetime:
    """The latest effective receipt allowed by the lead time alone (not exempt)."""
    calendar = WorkCalendar.for_rulebook(rb)
    if lead.hours is not None:
        return calendar.local(starts_at) - timedelta(hours=lead.hours)
    assert lead.working_days is not None  # the schema gives exactly one of the three
    return calendar.subtract_working_days(starts_at, lead.working_days)


def latest_registration_time(rb: Rulebook, urgency: str, starts_at: datetime) -> datetime | None:
    """The latest effective receipt time for a meeting starting at `starts_at`; None when the
    urgency is exempt from lead times (KH Đ13.2a emergencies)."""
    lead = _lead_time(rb, urgency)
    if lead.exempt:
        return None
    latest = _latest_bound(rb, lead, starts_at)
    if rb.registration.office_hours_only:
        # A registration only counts from office hours, so the latest one that counts is the
        # last office instant not after the bound (e.g. 17:00 for a meeting at 19:00 + 2 days).
        latest = WorkCalendar.for_rulebook(rb).previous_office_time(latest)
    return latest


def earliest_start(rb: Rulebook, urgency: str, received: datetime) -> datetime:
    """The earliest start a registration received at `received` may ask for: every start from
    this one on satisfies the lead time. Exempt urgencies may start at once.

    With a working-day lead time a start on a day off just before it can be in time too
    (received Thursday 08:00, 2 days: Monday 08:00 here, yet Saturday 08:00 is accepted because
    it counts back to Thursday); the form only needs a start that is sure to pass."""
    lead = _lead_time(rb, urgency)
    if lead.exempt:
        return WorkCalendar.for_rulebook(rb).local(received)
    effective = registration_received_at(rb, received, urgency)
    if lead.hours is not None:
        return effective + timedelta(hours=lead.hours)
    assert lead.working_days is not None
    calendar = WorkCalendar.for_rulebook(rb)
    if not calendar.is_working_day(effective.date()):
        # Received on a day off: the first working day counts in full.
        effective = calendar.at(calendar.next_working_day(effective.date()), time(0, 0))
    return calendar.add_working_days(effective, lead.working_days)


def _requirement(lead: LeadTime) -> str:
    if lead.working_days is not None:
        return ngettext(
            "at least %(count)s working day before",
            "at least %(count)s working days before",
            lead.working_days,
        ) % {"count": lead.working_days}
    assert lead.hours is not None
    shown = f"{lead.hours:g}"  # 24, 6, 1.5
    return ngettext(
        "at least %(count)s hour before",
        "at least %(count)s hours before",
        math.ceil(lead.hours),
    ) % {"count": shown}


def check_lead_time(rb: Rulebook, urgency: str, starts_at: datetime, received: datetime) -> None:
    """Refuse a registration received too late for a meeting starting at `starts_at`."""
    lead = _lead_time(rb, urgency)
    if lead.exempt:
        return
    calendar = WorkCalendar.for_rulebook(rb)
    effective = registration_received_at(rb, received, urgency)
    if effective <= _latest_bound(rb, lead, starts_at):
        return
    raise RuleViolation(
        code="lead_time_too_short",
        article=rb.cite(lead.article),
        message=gettext(
            "The meeting must be registered %(requirement)s it starts. The registration "
            "counts from %(received)s, so the earliest start allowed is %(earliest)s."
        )
        % {
            "requirement": _requirement(lead),
            "received": calendar.local(effective).strftime(DISPLAY_FORMAT),
            "earliest": earliest_start(rb, urgency, received).strftime(DISPLAY_FORMAT),
        },
        field="starts_at",
    )


# -- operator reply SLA (R9) -----------------------------------------------------------------


def reply_is_due_at_once(rb: Rulebook, urgency: str) -> bool:
    """Whether a registration of `urgency` is answered at once rather than within the SLA
    (KH Đ12.3 "kịp thời sắp xếp, bố trí ưu tiên" for an emergency that Đ13.2a exempts from
    every lead time: it may start any moment)."""
    return urgency in rb.reply_sla.at_once_for


def reply_breach_time(rb: Rulebook, received: datetime, urgency: str = "normal") -> datetime:
    """When an unanswered registration has missed the regulation's own limit: effective
    receipt + the SLA (ĐN Đ11.2b: 2 h; KH Đ13.2b: 3 h "kể từ khi tiếp nhận")."""
    return registration_received_at(rb, received, urgency) + timedelta(hours=rb.reply_sla.hours)


def reply_deadline(rb: Rulebook, received: datetime, urgency: str = "normal") -> datetime:
    """When the operator must have answered: effective receipt + the SLA, in wall-clock hours;
    at once for the urgencies the rulebook says so (the queue then counts up from it)."""
    if reply_is_due_at_once(rb, urgency):
        return WorkCalendar.for_rulebook(rb).local(received)
    return reply_breach_time(rb, received, urgency)


def reply_warning_time(rb: Rulebook, received: datetime, urgency: str = "normal") -> datetime:
    """When to warn the operator that the reply deadline is near."""
    return (reply_deadline(rb, received, urgency)
            - timedelta(minutes=rb.reply_sla.warn_before_minutes))
