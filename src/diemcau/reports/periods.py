"""Report periods (R21): the rulebook's periodic ones (ĐN Đ14.4, KH Đ17.2d: 6 months and a
year) and any range of days asked on demand, with the period before it to compare with.

A period is a range of whole days in the rulebook's time zone, its last day included; as
datetimes it is half-open [start, end) from local midnight to local midnight, so a meeting
starting at 23:30 on 30 June belongs to the first half-year and never to both.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from diemcau.core import date_bounds
from diemcau.rulebooks import Rulebook

# "2025", "2025-H1", "2025-Q3", "2025-07", or "2025-01-01..2025-03-31".
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
# The longest period a report covers on demand (a few years; beyond it nothing is planned).
MAX_DAYS = 5 * 366


class PeriodError(ValueError):
    """A period that cannot be read or is out of bounds; the message says why."""


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, month_calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Period:
    """Days `first`..`last` (both included). `months` is the periodic length it was made
    from (6, 12…), 0 for a range of days asked on demand."""

    first: dt.date
    last: dt.date
    months: int = 0

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(_("The period ends before it starts."))
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise PeriodError(_("A report covers at most five years."))

    def check_window(self) -> Period:
        """Refuse a period outside the dates the system accepts (`core.date_bounds`); the
        period before an accepted one may lie earlier (it then shows zeros)."""
        for day in (self.first, self.last):
            error = date_bounds.window_error(day)
            if error:
                raise PeriodError(error)
        return self

    # -- naming

    @property
    def key(self) -> str:
        """The period as written in a URL: "2025-H1", "2025", or "2025-01-01..2025-03-31"."""
        if self.months == 12:
            return f"{self.first.year}"
        if self.months == 6:
            return f"{self.first.year}-H{1 if self.first.month == 1 else 2}"
        if self.months == 3:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.months == 1:
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def label(self) -> str:
        """In the reader's language: "6 tháng đầu năm 2025", "Năm 2025", "01/01/2025 – …"."""
        year = self.first.year
        if self.months == 12:
            return _("Year %(year)s") % {"year": year}
        if self.months == 6:
            if self.first.month == 1:
                return _("First six months of %(year)s") % {"year": year}
            return _("Last six months of %(year)s") % {"year": year}
        if self.months == 3:
            return _("Quarter %(quarter)s of %(year)s") % {
                "quarter": (self.first.month - 1) // 3 + 1, "year": year}
        if self.months == 1:
            return _("Month %(month)s/%(year)s") % {"month": f"{self.first.month:02d}",
                                                    "year": year}
        return f"{self.first:%d/%m/%Y} – {self.last:%d/%m/%Y}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    # -- as instants

    def bounds(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes: local midnight of the first day to local midnight
        after the last."""
        start = dt.datetime.combine(self.first, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return start, end

    # -- neighbours

    def previous(self) -> Period:
        """The period just before, of the same kind: the previous half-year or year, or the
        same number of days before a range."""
        if self.months:
            first = _add_months(self.first, -self.months)
            return Period(first, self.first - dt.timedelta(days=1), self.months)
        length = dt.timedelta(days=self.days)
        return Period(self.first - length, self.first - dt.timedelta(days=1))

    def next(self) -> Period:
        if self.months:
            first = _add_months(self.first, self.months)
            return Period(first, _add_months(first, self.months) - dt.timedelta(days=1),
                          self.months)
        length = dt.timedelta(days=self.days)
        return Period(self.last + dt.timedelta(days=1), self.last + length)

    def as_json(self) -> dict[str, object]:
        return {"first": self.first.isoformat(), "last": self.last.isoformat(),
                "months": self.months, "key": self.key}


def periodic(months: int, containing: dt.date) -> Period:
    """The period of `months` (a divisor of 12) that contains the day, aligned on 1 January:
    6 → the half-year, 12 → the year."""
    if months < 1 or 12 % months:
        raise PeriodError(_("A periodic report covers 1, 2, 3, 4, 6 or 12 months."))
    first = dt.date(containing.year, (containing.month - 1) // months * months + 1, 1)
    return Period(first, _add_months(first, months) - dt.timedelta(days=1), months)


def parse(text: str) -> Period:
    """Read a period written as `Period.key` gives it, within the accepted dates."""
    return _parse(text).check_window()


def _parse(text: str) -> Period:
    text = (text or "").strip()
    try:
        if match := _YEAR.match(text):
            return periodic(12, dt.date(int(match[1]), 1, 1))
        if match := _HALF.match(text):
            return periodic(6, dt.date(int(match[1]), 1 if match[2] == "1" else 7, 1))
        if match := _QUARTER.match(text):
            return periodic(3, dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1))
        if match := _MONTH.match(text):
            return periodic(1, dt.date(int(match[1]), int(match[2]), 1))
        if match := _RANGE.match(text):
            return Period(dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2]))
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(_("This is not a date: %(text)s.") % {"text": text}) from None
    raise PeriodError(
        _("Write the period as 2025, 2025-H1, 2025-Q3, 2025-07 or 2025-01-01..2025-03-31.")
    )


def zone_of(rulebook: Rulebook) -> ZoneInfo:
    return ZoneInfo(rulebook.timezone)


def last_completed(months: int, today: dt.date) -> Period:
    """The latest period of `months` that has ended before `today`: the one the worker
    reports on (on 1 July, the first half-year)."""
    return periodic(months, today).previous()


def current_default(rulebook: Rulebook, today: dt.date) -> Period:
    """What the page shows first: the running period of the rulebook's shortest length."""
    months = min(rulebook.reporting.period_months)
    return periodic(months, today)
