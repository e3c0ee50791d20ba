"""The window of dates the system accepts (R22; ĐN Đ8, KH Đ7: a bad input gets a clear answer,
and no request may hang a worker). Nothing the system records happened before its first
year, and nothing is planned more than a few years ahead: meetings, series, quota decisions,
police checks, trainings and join links are all checked against the same window, so a year
9999 (or 1) is refused with a message instead of reaching calendar arithmetic.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

# Before the first provincial online-conference regulations the system carries (2023).
EARLIEST = dt.date(2020, 1, 1)
YEARS_AHEAD = 5


def latest(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def _as_local_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def window_error(value: dt.date | dt.datetime | None) -> str | None:
    """The message for a date outside the window, or None (also for no date)."""
    if value is None:
        return None
    try:
        day: dt.date | None = _as_local_date(value)
    except OverflowError:  # year 1 at +14:00 or 9999 at -12:00 has no local date
        day = None
    last = latest()
    if day is not None and EARLIEST <= day <= last:
        return None
    return _("Enter a date between %(first)s and %(last)s.") % {
        "first": EARLIEST.strftime("%d/%m/%Y"), "last": last.strftime("%d/%m/%Y"),
    }


def window_errors(**values: dt.date | dt.datetime | None) -> dict[str, list[str]]:
    """Field → [message] for every given date outside the window."""
    errors = {}
    for name, value in values.items():
        message = window_error(value)
        if message:
            errors[name] = [message]
    return errors


def aware(value: dt.datetime) -> dt.datetime:
    """A date and time without a zone is read in the site's zone (Asia/Ho_Chi_Minh), as the
    pages do, rather than failing when compared with aware times."""
    return value if timezone.is_aware(value) else timezone.make_aware(value)
