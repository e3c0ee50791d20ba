"""The calendar service: working days, office hours, lead times (R8) and reply deadlines (R9).

Holiday dates are those of the `holidays` package for Vietnam:
2026: 1/1; Tết 16–20/2 (Mon–Fri); Hùng Kings 26/4 (Sun) observed 27/4 (Mon); 30/4 (Thu),
      1/5 (Fri); 31/8 (Mon, swapped day off), 1–2/9 (Tue–Wed); 24/11 (Tue, Culture Day).
2027: 1/1 (Fri); Tết 4–10/2 (Thu–Wed); Hùng Kings 16/4 (Fri); 30/4 (Fri), 1/5 (Sat) observed
      3/5 (Mon); 2–3/9 (Thu–Fri); 24/11 (Wed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from diemcau.core.calendar import (
    WorkCalendar,
    check_lead_time,
    earliest_start,
    latest_registration_time,
    registration_received_at,
    reply_deadline,
    reply_warning_time,
)
from diemcau.core.errors import RuleViolation
from diemcau.rulebooks import Rulebook, get_rulebook

VN = ZoneInfo("Asia/Ho_Chi_Minh")
KH = get_rulebook("khanh-hoa-2023")
DN = get_rulebook("dong-nai-2025")


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar.for_rulebook(KH)


# -- days ------------------------------------------------------------------------------------


def test_holidays_from_the_package(cal: WorkCalendar) -> None:
    tet_2027 = [date(2027, 2, day) for day in range(4, 11)]
    assert all(cal.is_holiday(d) for d in tet_2027)
    assert not cal.is_holiday(date(2027, 2, 3)) and not cal.is_holiday(date(2027, 2, 11))
    assert cal.holiday_name(date(2027, 2, 8), "vi") == "Mùng ba Tết Nguyên Đán"
    assert cal.holiday_name(date(2027, 2, 8)) == "Third Day of Lunar New Year"  # active: en
    assert cal.holiday_name(date(2027, 2, 11)) is None
    for d in (date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2), date(2027, 5, 3)):
        assert cal.is_holiday(d), d


def test_working_days(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2027, 3, 12))  # Friday
    assert not cal.is_working_day(date(2027, 3, 13))  # Saturday
    assert not cal.is_working_day(date(2027, 3, 14))  # Sunday
    assert not cal.is_working_day(date(2027, 2, 8))  # Tết, a Monday
    assert not cal.is_working_day(date(2026, 8, 31))  # day off before 2/9
    # 1–15/2/2027: Mon 1, Tue 2, Wed 3, then Tết until Wed 10, Thu 11, Fri 12.
    assert cal.working_days_between(date(2027, 2, 1), date(2027, 2, 15)) == 5
    assert cal.working_days_between(date(2027, 2, 15), date(2027, 2, 1)) == 0
    assert cal.working_days_between(date(2027, 3, 15), date(2027, 3, 15)) == 0


def test_for_rulebook_is_shared() -> None:
    assert WorkCalendar.for_rulebook(KH) is WorkCalendar.for_rulebook(KH)


def test_naive_datetimes_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        cal.is_office_time(datetime(2027, 3, 15, 9, 0))


# -- office hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2027, 3, 15, 7, 29), False),
        (vn(2027, 3, 15, 7, 30), True),
        (vn(2027, 3, 15, 11, 30), True),  # the end of a period still counts
        (vn(2027, 3, 15, 12, 0), False),
        (vn(2027, 3, 15, 17, 0), True),
        (vn(2027, 3, 15, 17, 1), False),
        (vn(2027, 3, 13, 9, 0), False),  # Saturday
        (vn(2027, 2, 8, 9, 0), False),  # Tết
        (datetime(2027, 3, 15, 2, 0, tzinfo=UTC), True),  # 09:00 in Vietnam
    ],
)
def test_is_office_time(cal: WorkCalendar, moment: datetime, expected: bool) -> None:
    assert cal.is_office_time(moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2027, 3, 15, 9, 0), vn(2027, 3, 15, 9, 0)),
        (vn(2027, 3, 15, 6, 0), vn(2027, 3, 15, 7, 30)),
        (vn(2027, 3, 15, 12, 0), vn(2027, 3, 15, 13, 30)),
        (vn(2027, 3, 12, 18, 0), vn(2027, 3, 15, 7, 30)),  # Friday evening → Monday
        (vn(2027, 2, 3, 18, 0), vn(2027, 2, 11, 7, 30)),  # the eve of Tết → after Tết
        (vn(2026, 8, 28, 17, 30), vn(2026, 9, 3, 7, 30)),  # over 31/8–2/9
    ],
)
def test_next_office_time(cal: WorkCalendar, moment: datetime, expected: datetime) -> None:
    assert cal.next_office_time(moment) == expected


def test_previous_office_time(cal: WorkCalendar) -> None:
    assert cal.previous_office_time(vn(2027, 3, 15, 12, 0)) == vn(2027, 3, 15, 11, 30)
    assert cal.previous_office_time(vn(2027, 3, 15, 7, 0)) == vn(2027, 3, 12, 17, 0)
    assert cal.previous_office_time(vn(2027, 2, 11, 7, 0)) == vn(2027, 2, 3, 17, 0)


# -- working-day arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "n", "expected"),
    [
        (vn(2027, 3, 15, 9, 0), 2, vn(2027, 3, 11, 9, 0)),  # Monday → Thursday before
        (vn(2027, 3, 13, 8, 0), 2, vn(2027, 3, 11, 8, 0)),  # Saturday → Thursday
        (vn(2027, 3, 14, 8, 0), 1, vn(2027, 3, 12, 8, 0)),  # Sunday → Friday
        (vn(2027, 2, 11, 9, 0), 2, vn(2027, 2, 2, 9, 0)),  # first day after Tết → before Tết
        (vn(2027, 2, 11, 9, 0), 1, vn(2027, 2, 3, 9, 0)),
        (vn(2026, 5, 4, 9, 0), 2, vn(2026, 4, 28, 9, 0)),  # over 30/4–1/5 (Thu–Fri)
        (vn(2027, 5, 4, 8, 0), 2, vn(2027, 4, 28, 8, 0)),  # over 30/4–3/5 (Fri–Mon)
        (vn(2026, 9, 3, 8, 0), 2, vn(2026, 8, 27, 8, 0)),  # over 31/8–2/9
        (vn(2027, 9, 6, 8, 0), 2, vn(2027, 8, 31, 8, 0)),  # over 2–3/9 (Thu–Fri)
        (vn(2027, 3, 15, 9, 0), 0, vn(2027, 3, 15, 9, 0)),
    ],
)
def test_subtract_working_days(
    cal: WorkCalendar, moment: datetime, n: int, expected: datetime
) -> None:
    assert cal.subtract_working_days(moment, n) == expected


def test_add_working_days(cal: WorkCalendar) -> None:
    assert cal.add_working_days(vn(2027, 3, 11, 9, 0), 2) == vn(2027, 3, 15, 9, 0)
    assert cal.add_working_days(vn(2027, 2, 3, 10, 0), 2) == vn(2027, 2, 12, 10, 0)
    assert cal.add_working_days(vn(2026, 4, 29, 8, 0), 1) == vn(2026, 5, 4, 8, 0)
    with pytest.raises(ValueError):
        cal.add_working_days(vn(2027, 3, 11, 9, 0), -1)


def test_working_day_results_keep_the_local_clock_for_utc_input(cal: WorkCalendar) -> None:
    # 01:30 UTC on Monday 15/3 is 08:30 in Vietnam.
    result = cal.subtract_working_days(datetime(2027, 3, 15, 1, 30, tzinfo=UTC), 2)
    assert result == vn(2027, 3, 11, 8, 30)


# -- registrations and lead times (R8) -------------------------------------------------------


def test_kh_registration_counts_from_office_hours() -> None:
    # KH Đ13.2a: e-mailed at 18:00 on Friday, it counts from 07:30 on Monday.
    assert registration_received_at(KH, vn(2027, 3, 12, 18, 0)) == vn(2027, 3, 15, 7, 30)
    assert registration_received_at(KH, vn(2027, 3, 12, 10, 0)) == vn(2027, 3, 12, 10, 0)
    # ĐN has no such rule.
    assert registration_received_at(DN, vn(2027, 3, 12, 18, 0)) == vn(2027, 3, 12, 18, 0)


def test_kh_normal_two_working_days() -> None:
    monday = vn(2027, 3, 15, 9, 0)
    assert latest_registration_time(KH, "normal", monday) == vn(2027, 3, 11, 9, 0)
    check_lead_time(KH, "normal", monday, vn(2027, 3, 11, 9, 0))
    # Sent on Wednesday evening, counted from Thursday 07:30: in time.
    check_lead_time(KH, "normal", monday, vn(2027, 3, 10, 18, 0))
    with pytest.raises(RuleViolation) as caught:
        check_lead_time(KH, "normal", monday, vn(2027, 3, 11, 9, 1))
    violation = caught.value
    assert violation.code == "lead_time_too_short"
    assert violation.field == "starts_at"
    assert violation.article == "Điều 13.2a Quy chế KH"
    assert "at least 2 working days before" in violation.message
    assert "earliest start allowed is 15/03/2027 09:01" in violation.message


def test_kh_normal_meeting_after_tet_needs_registration_before_tet() -> None:
    first_day_after_tet = vn(2027, 2, 11, 9, 0)
    assert latest_registration_time(KH, "normal", first_day_after_tet) == vn(2027, 2, 2, 9, 0)
    check_lead_time(KH, "normal", first_day_after_tet, vn(2027, 2, 2, 8, 0))
    with pytest.raises(RuleViolation) as caught:
        check_lead_time(KH, "normal", first_day_after_tet, vn(2027, 2, 3, 10, 0))
    assert "earliest start allowed is 12/02/2027 10:00" in caught.value.message
    # E-mailed during Tết: it counts from 07:30 on 11/2, so the meeting can be on 15/2.
    assert earliest_start(KH, "normal", vn(2027, 2, 8, 9, 0)) == vn(2027, 2, 15, 7, 30)


def test_kh_normal_over_30_4_and_2_9() -> None:
    assert latest_registration_time(KH, "normal", vn(2026, 5, 4, 9, 0)) == vn(2026, 4, 28, 9, 0)
    assert latest_registration_time(KH, "normal", vn(2026, 9, 3, 8, 0)) == vn(2026, 8, 27, 8, 0)
    assert earliest_start(KH, "normal", vn(2026, 8, 28, 10, 0)) == vn(2026, 9, 4, 10, 0)


def test_kh_meeting_outside_office_hours() -> None:
    # A 19:00 meeting on Monday: the last e-mail that counts is Thursday 17:00.
    evening = vn(2027, 3, 15, 19, 0)
    assert latest_registration_time(KH, "normal", evening) == vn(2027, 3, 11, 17, 0)
    check_lead_time(KH, "normal", evening, vn(2027, 3, 11, 17, 0))
    with pytest.raises(RuleViolation):
        check_lead_time(KH, "normal", evening, vn(2027, 3, 11, 17, 1))


def test_kh_saturday_meeting_counts_back_from_saturday() -> None:
    saturday = vn(2027, 3, 13, 8, 0)
    assert latest_registration_time(KH, "normal", saturday) == vn(2027, 3, 11, 8, 0)
    check_lead_time(KH, "normal", saturday, vn(2027, 3, 11, 8, 0))


def test_kh_urgent_four_hours() -> None:
    meeting = vn(2027, 3, 15, 15, 0)
    assert latest_registration_time(KH, "urgent", meeting) == vn(2027, 3, 15, 11, 0)
    check_lead_time(KH, "urgent", meeting, vn(2027, 3, 15, 11, 0))
    with pytest.raises(RuleViolation) as caught:
        check_lead_time(KH, "urgent", meeting, vn(2027, 3, 15, 11, 5))
    assert "at least 4 hours before" in caught.value.message
    assert "15/03/2027 15:05" in caught.value.message
    # A 09:00 meeting: 05:00 is outside office hours, so the e-mail must come by Friday 17:00.
    early = vn(2027, 3, 15, 9, 0)
    assert latest_registration_time(KH, "urgent", early) == vn(2027, 3, 12, 17, 0)
    with pytest.raises(RuleViolation):
        check_lead_time(KH, "urgent", early, vn(2027, 3, 15, 5, 0))


def test_kh_emergency_is_exempt() -> None:
    meeting = vn(2027, 2, 8, 9, 0)  # during Tết
    assert latest_registration_time(KH, "emergency", meeting) is None
    check_lead_time(KH, "emergency", meeting, meeting - timedelta(minutes=1))
    check_lead_time(KH, "emergency", meeting, meeting + timedelta(hours=1))
    assert earliest_start(KH, "emergency", vn(2027, 2, 7, 22, 0)) == vn(2027, 2, 7, 22, 0)


def test_dn_normal_24_hours() -> None:
    meeting = vn(2027, 3, 15, 9, 0)
    assert latest_registration_time(DN, "normal", meeting) == vn(2027, 3, 14, 9, 0)  # Sunday
    check_lead_time(DN, "normal", meeting, vn(2027, 3, 14, 9, 0))
    with pytest.raises(RuleViolation) as caught:
        check_lead_time(DN, "normal", meeting, vn(2027, 3, 14, 9, 1))
    assert caught.value.article == "Điều 11.2a Quy chế ĐN"
    assert "at least 24 hours before" in caught.value.message
    assert "earliest start allowed is 15/03/2027 09:01" in caught.value.message


@pytest.mark.parametrize("urgency", ["urgent", "emergency"])
def test_dn_urgent_and_emergency_6_hours(urgency: str) -> None:
    meeting = vn(2027, 2, 8, 15, 0)  # Tết does not matter for hours
    assert latest_registration_time(DN, urgency, meeting) == vn(2027, 2, 8, 9, 0)
    check_lead_time(DN, urgency, meeting, vn(2027, 2, 8, 9, 0))
    with pytest.raises(RuleViolation) as caught:
        check_lead_time(DN, urgency, meeting, vn(2027, 2, 8, 10, 0))
    assert "at least 6 hours before" in caught.value.message
    assert earliest_start(DN, urgency, vn(2027, 2, 8, 10, 0)) == vn(2027, 2, 8, 16, 0)


def test_message_is_translatable() -> None:
    with translation.override("vi"), pytest.raises(RuleViolation) as caught:
        check_lead_time(DN, "normal", vn(2027, 3, 15, 9, 0), vn(2027, 3, 15, 8, 0))
    assert "15/03/2027 08:00" in caught.value.message  # the earliest start is still there


def test_unknown_urgency() -> None:
    with pytest.raises(ValueError, match="urgency"):
        earliest_start(KH, "whenever", vn(2027, 3, 15, 9, 0))


# -- reply SLA (R9) --------------------------------------------------------------------------


def test_reply_deadlines() -> None:
    assert reply_deadline(DN, vn(2027, 3, 12, 10, 0)) == vn(2027, 3, 12, 12, 0)
    assert reply_warning_time(DN, vn(2027, 3, 12, 10, 0)) == vn(2027, 3, 12, 11, 30)
    assert reply_deadline(DN, vn(2027, 3, 13, 22, 0)) == vn(2027, 3, 14, 0, 0)
    assert reply_deadline(KH, vn(2027, 3, 12, 10, 0)) == vn(2027, 3, 12, 13, 0)
    assert reply_warning_time(KH, vn(2027, 3, 12, 10, 0)) == vn(2027, 3, 12, 12, 30)
    # Wall-clock hours from the effective receipt: 16:00 + 3 h = 19:00.
    assert reply_deadline(KH, vn(2027, 3, 12, 16, 0)) == vn(2027, 3, 12, 19, 0)
    # E-mailed on Friday evening, counted from Monday 07:30.
    assert reply_deadline(KH, vn(2027, 3, 12, 18, 0)) == vn(2027, 3, 15, 10, 30)


# -- properties ------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([VN, UTC]),
)
rulebooks = st.sampled_from([KH, DN])
urgencies = st.sampled_from(["normal", "urgent", "emergency"])
gaps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
slow = settings(deadline=None, max_examples=300)


@slow
@given(moments, st.integers(min_value=1, max_value=15))
def test_subtract_gives_an_earlier_working_day(moment: datetime, n: int) -> None:
    cal = WorkCalendar.for_rulebook(KH)
    result = cal.subtract_working_days(moment, n)
    assert result < moment
    assert cal.is_working_day(result.date())
    assert result.time() == cal.local(moment).time()
    # Exactly n working days from the result up to (not including) the meeting's day.
    assert cal.working_days_between(result.date(), cal.local(moment).date()) == n


@slow
@given(moments, st.integers(min_value=0, max_value=15))
def test_add_undoes_subtract_on_working_days(moment: datetime, n: int) -> None:
    cal = WorkCalendar.for_rulebook(KH)
    local = cal.local(moment)
    if cal.is_working_day(local.date()):
        assert cal.add_working_days(cal.subtract_working_days(local, n), n) == local
        assert cal.subtract_working_days(cal.add_working_days(local, n), n) == local
    later = cal.add_working_days(local, n)
    assert later >= local and (n == 0 or cal.is_working_day(later.date()))


@slow
@given(rulebooks, moments)
def test_office_time_neighbours(rb: Rulebook, moment: datetime) -> None:
    cal = WorkCalendar.for_rulebook(rb)
    following = cal.next_office_time(moment)
    preceding = cal.previous_office_time(moment)
    assert cal.is_office_time(following) and cal.is_office_time(preceding)
    assert preceding <= moment <= following
    assert (following == moment) is cal.is_office_time(moment)


@slow
@given(rulebooks, urgencies, moments)
def test_latest_then_earliest_round_trip(rb: Rulebook, urgency: str, starts_at: datetime) -> None:
    latest = latest_registration_time(rb, urgency, starts_at)
    if latest is None:
        return
    # Received at the latest time, the registration is in time…
    check_lead_time(rb, urgency, starts_at, latest)
    assert registration_received_at(rb, latest) == latest
    cal = WorkCalendar.for_rulebook(rb)
    lead = rb.lead_times[urgency]
    if lead.hours is not None or cal.is_working_day(cal.local(starts_at).date()):
        # …and the earliest start it allows is no later than the meeting.
        assert earliest_start(rb, urgency, latest) <= starts_at


@slow
@given(rulebooks, urgencies, moments, gaps)
def test_every_start_from_the_earliest_on_is_allowed(
    rb: Rulebook, urgency: str, received: datetime, gap: timedelta
) -> None:
    earliest = earliest_start(rb, urgency, received)
    assert earliest >= received
    check_lead_time(rb, urgency, earliest + gap, received)
    latest = latest_registration_time(rb, urgency, earliest + gap)
    effective = registration_received_at(rb, received)
    assert latest is None or effective <= latest


@slow
@given(rulebooks, urgencies, moments, st.timedeltas(timedelta(days=-3), timedelta(days=20)))
def test_check_agrees_with_latest_registration_time(
    rb: Rulebook, urgency: str, received: datetime, offset: timedelta
) -> None:
    starts_at = received + offset
    latest = latest_registration_time(rb, urgency, starts_at)
    effective = registration_received_at(rb, received)
    in_time = latest is None or effective <= latest
    try:
        check_lead_time(rb, urgency, starts_at, received)
    except RuleViolation as violation:
        assert not in_time
        # The earliest start it names is one the check would accept.
        check_lead_time(
            rb,
            urgency,
            earliest_start(rb, urgency, received),
            received,
        )
        assert violation.code == "lead_time_too_short"
    else:
        assert in_time


@slow
@given(rulebooks, urgencies, moments, gaps)
def test_hour_lead_times_are_exact(
    rb: Rulebook, urgency: str, received: datetime, gap: timedelta
) -> None:
    lead = rb.lead_times[urgency]
    if lead.hours is None:
        return
    earliest = earliest_start(rb, urgency, received)
    assert earliest - registration_received_at(rb, received) == timedelta(hours=lead.hours)
    if gap > timedelta(0):
        with pytest.raises(RuleViolation):
            check_lead_time(rb, urgency, earliest - gap, received)


@slow
@given(rulebooks, moments)
def test_reply_deadline_follows_the_sla(rb: Rulebook, received: datetime) -> None:
    deadline = reply_deadline(rb, received)
    effective = registration_received_at(rb, received)
    assert effective >= received
    assert deadline - effective == timedelta(hours=rb.reply_sla.hours)
    assert reply_warning_time(rb, received) <= deadline
