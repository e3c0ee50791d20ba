"""Series expansion always ends, and the window of dates the system accepts (the API's
refusals of dates outside it are in test_api.py)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from diemcau.core import date_bounds
from diemcau.scheduling.choices import Recurrence
from diemcau.scheduling.services.registration import MAX_OCCURRENCES, occurrence_starts

pytestmark = pytest.mark.django_db


def _far(year: int, month: int = 1, day: int = 31) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, 9, 0))


@pytest.mark.parametrize("recurrence", list(Recurrence))
@pytest.mark.parametrize("start", [_far(9999, 1, 31), _far(9999, 12, 31), _far(2026, 1, 31)])
def test_series_expansion_always_ends(recurrence, start):
    began = time.monotonic()
    starts = occurrence_starts(start, recurrence, dt.date.max)
    assert time.monotonic() - began < 5  # generous: the old loop never returned
    assert len(starts) <= MAX_OCCURRENCES + 1
    assert starts == sorted(starts) and all(s.day == start.day or recurrence == "weekly"
                                            for s in starts)


def test_the_window_runs_from_the_first_year_to_a_few_years_ahead():
    today = timezone.localdate()
    assert date_bounds.window_error(today) is None
    assert date_bounds.window_error(date_bounds.EARLIEST) is None
    assert date_bounds.window_error(date_bounds.latest()) is None
    assert date_bounds.window_error(date_bounds.latest() + dt.timedelta(days=1))
    assert date_bounds.window_error(date_bounds.EARLIEST - dt.timedelta(days=1))
    assert date_bounds.latest(dt.date(2028, 2, 29)) == dt.date(2033, 2, 28)
