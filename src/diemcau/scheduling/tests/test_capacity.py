"""Capacity counts what runs at the same time (R11; KH Đ12.4a: "số lượng phiên họp diễn ra
đồng thời"; KH Đ13.2b, ĐN Đ11.2b: the check "chậm nhất 02 giờ trước"). A meeting holds its
node for its session and, apart, for its technical check's own window; a refusal says which
meetings and checks fill the node at which time."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from diemcau.core import calendar
from diemcau.core.errors import RuleViolation
from diemcau.directory.choices import AgencyKind
from diemcau.rulebooks import active_rulebook
from diemcau.rulebooks.loader import DATA_DIR
from diemcau.scheduling.choices import HoldKind, MeetingStatus, WindowKind
from diemcau.scheduling.models import Booking
from diemcau.scheduling.services import lifecycle, registration
from diemcau.testing.factories import AgencyFactory, ApprovedEndpointFactory

from .test_services import meeting_input, working_day_at


@pytest.fixture
def setup(kh_world):
    return kh_world


def _host(setup, n):
    agency = AgencyFactory(parent=setup.province, kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
                           name=f"UBND huyện Đồng Thời {n}", abbreviation=f"DT{n}")
    return agency, ApprovedEndpointFactory(agency=agency, name=f"UBND.Dong Thoi {n}")


def _register(setup, n, start, hours):
    agency, endpoint = _host(setup, n)
    return registration.create_meeting(meeting_input(agency, endpoint, [], start, hours=hours),
                                       actor=setup.operator)


def _hhmm(moment):
    return calendar.WorkCalendar.for_rulebook(active_rulebook()).local(moment).strftime("%H:%M")


def test_seven_meetings_and_one_ending_at_ten_leave_room_at_ten(setup):
    """A node of 10 meetings (8 under KH's 80 %): seven from 09:00 to 11:00 and one from
    09:00 to 10:00. At no instant from 10:00 do more than seven run, so one from 10:00 to
    11:00 fits; a second one would make nine."""
    setup.node.max_meetings = 10
    setup.node.save()
    nine = working_day_at(5, 9)
    ten = nine + dt.timedelta(hours=1)
    held = [lifecycle.accept_meeting(_register(setup, n, nine, 2), actor=setup.operator)
            for n in range(7)]
    short = lifecycle.accept_meeting(_register(setup, 7, nine, 1), actor=setup.operator)
    assert all(m.node == setup.node for m in [*held, short])

    at_ten = lifecycle.accept_meeting(_register(setup, 8, ten, 1), actor=setup.operator)
    assert at_ten.status == MeetingStatus.ACCEPTED and at_ten.node == setup.node
    # Its check holds the node for its own half hour, ending two hours before (08:00), while
    # the others' checks ended at 07:00: nothing else runs then.
    check = at_ten.bookings.get(endpoint__isnull=True, kind=HoldKind.CHECK)
    assert (check.starts_at, check.ends_at) == (ten - dt.timedelta(hours=2, minutes=30),
                                                ten - dt.timedelta(hours=2))
    assert {c.due_at for c in at_ten.checks.all()} == {ten - dt.timedelta(hours=2)}

    ninth = _register(setup, 9, ten, 1)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(ninth, actor=setup.operator)
    error = refused.value
    assert error.code == "mcu_capacity_full" and "Điều 12.4a" in error.article
    # The refusal names the node, when it is full, and each meeting that fills it then.
    assert setup.node.name in error.message
    assert f"{_hhmm(ten)}" in error.message and f"{_hhmm(ten + dt.timedelta(hours=1))}" in (
        error.message)
    for meeting in [*held, at_ten]:
        assert f"#{meeting.pk} {meeting.title}" in error.message
    assert f"#{short.pk} " not in error.message  # it ended at 10:00

    # The operator's accept page and the API's plan say the same before anyone clicks.
    client = Client()
    client.force_login(setup.operator)
    page = client.get(reverse("scheduling:meeting_accept", args=[ninth.pk]))
    shown = page.content.decode()
    assert 'data-plan="full"' in shown and 'id="capacity-details"' in shown
    assert all(f"#{meeting.pk} " in shown for meeting in [*held, at_ten])
    plan = client.get(f"/api/v1/meetings/{ninth.pk}/plan").json()
    assert plan["full"] and f"#{at_ten.pk} " in plan["capacity_details"]


def test_a_check_moves_earlier_when_the_node_is_busy_then(setup):
    """Four meetings (the cap of a node of 5) run from 10:00 to 12:00; one at 12:30 has its
    check due by 10:30, when the node is full: the check moves earlier, to end at 10:00."""
    ten = working_day_at(5, 10)
    for n in range(4):
        lifecycle.accept_meeting(_register(setup, n, ten, 2), actor=setup.operator)
    later = lifecycle.accept_meeting(
        _register(setup, 4, ten + dt.timedelta(hours=2, minutes=30), 1), actor=setup.operator)
    check = later.bookings.get(endpoint__isnull=True, kind=HoldKind.CHECK)
    assert (check.starts_at, check.ends_at) == (ten - dt.timedelta(minutes=30), ten)
    assert [(c.kind, c.due_at) for c in later.checks.all()] == [(WindowKind.SESSION, ten)]


def test_a_check_that_finds_no_room_is_named_in_the_refusal(setup):
    """Four meetings (the cap) run from 18:00 to 06:00 and four from 06:00 to 18:00 (their
    checks move to the evening before). A meeting at 18:00 needs its check by 16:00 and no
    earlier than 24 hours before: every place is taken, and the refusal says it is the check
    that finds no room, and which meetings fill the node at its latest place."""
    six = working_day_at(5, 6)
    nights, days = [], []
    for n in range(4):
        nights.append(lifecycle.accept_meeting(
            _register(setup, n, six - dt.timedelta(hours=12), 12), actor=setup.operator))
    for n in range(4):
        days.append(lifecycle.accept_meeting(
            _register(setup, n + 10, six, 12), actor=setup.operator))
    for meeting in days:
        check = meeting.bookings.get(endpoint__isnull=True, kind=HoldKind.CHECK)
        assert check.ends_at == six - dt.timedelta(hours=12)  # moved before the nights
    evening = _register(setup, 20, six + dt.timedelta(hours=12), 1)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(evening, actor=setup.operator)
    message = refused.value.message
    latest = six + dt.timedelta(hours=10)  # 16:00
    assert f"{_hhmm(latest - dt.timedelta(minutes=30))} " in message
    for meeting in days:
        assert f"#{meeting.pk} {meeting.title}" in message
    assert all(f"#{meeting.pk} " not in message for meeting in nights)
    assert refused.value.code == "mcu_capacity_full"


def _rulebook_with(tmp_path: Path, **values: str) -> Path:
    text = (DATA_DIR / "khanh-hoa-2023.toml").read_text(encoding="utf-8")
    for old, new in values.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "khanh-hoa-test.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_check_40_hours_before_on_a_node_of_one_takes_one_meeting(setup, tmp_path):
    """A rulebook with the check 40 hours before and a node of one meeting: two overlapping
    meetings never both get it, and one whose session falls on the other's check neither.
    (Holds were once searched a fixed 48 hours back, which a long hold escaped.)"""
    path = _rulebook_with(tmp_path, **{
        "cap_percent = 80": "cap_percent = 100",
        "hours_before = 2\n": "hours_before = 40\n",
        "earliest_hours_before = 24": "earliest_hours_before = 40",
    })
    setup.node.max_meetings = 1
    setup.node.save()
    start = working_day_at(8, 9)
    with override_settings(RULEBOOK=str(path)):
        first = lifecycle.accept_meeting(_register(setup, 0, start, 2), actor=setup.operator)
        check = first.bookings.get(endpoint__isnull=True, kind=HoldKind.CHECK)
        assert check.ends_at == start - dt.timedelta(hours=40)
        for n, (begin, hours) in enumerate([
            (start + dt.timedelta(hours=1), 2),  # over its session
            (start + dt.timedelta(hours=41), 1),  # its check (40 h before) falls in the session
            (check.starts_at, 1),  # over its check
        ], start=1):
            other = _register(setup, n, begin, hours)
            with pytest.raises(RuleViolation) as refused:
                lifecycle.accept_meeting(other, actor=setup.operator)
            assert refused.value.code == "mcu_capacity_full"
            assert f"#{first.pk} " in refused.value.message
        apart = lifecycle.accept_meeting(
            _register(setup, 9, start + dt.timedelta(hours=3), 1), actor=setup.operator)
        assert apart.status == MeetingStatus.ACCEPTED


def test_rows_held_from_the_check_to_the_end_are_split_by_the_migration(setup):
    """A meeting accepted before holds one node row from its check to its end; the migration
    leaves its session and its check's own half hour."""
    from django.apps import apps

    split = importlib.import_module(
        "diemcau.scheduling.migrations.0008_booking_holds_checks_apart").split_holds
    start = working_day_at(5, 9)
    meeting = lifecycle.accept_meeting(_register(setup, 0, start, 2), actor=setup.operator)
    meeting.bookings.filter(endpoint__isnull=True).delete()
    Booking.objects.create(meeting=meeting, kind=HoldKind.SESSION, node=setup.node,
                           starts_at=start - dt.timedelta(hours=2), ends_at=meeting.ends_at,
                           endpoints_count=1)
    split(apps, None)
    rows = meeting.bookings.filter(endpoint__isnull=True)
    assert {(r.kind, r.starts_at, r.ends_at, r.endpoints_count) for r in rows} == {
        (HoldKind.SESSION, start, meeting.ends_at, 1),
        (HoldKind.CHECK, start - dt.timedelta(hours=2, minutes=30),
         start - dt.timedelta(hours=2), 1),
    }
    assert meeting.bookings.filter(endpoint__isnull=False).count() == 1  # untouched
