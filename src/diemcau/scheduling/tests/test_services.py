"""Registration, approval, capacity and priority under both rulebooks (R8–R13, R15)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from diemcau.core import calendar
from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidInput, PermissionDenied, RuleViolation
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind
from diemcau.notifications.models import Notification
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import (
    CheckStatus,
    HoldKind,
    MeetingStatus,
    Urgency,
    WindowKind,
)
from diemcau.scheduling.models import Booking, Meeting
from diemcau.scheduling.services import approval, lifecycle, registration
from diemcau.testing.factories import (
    AgencyFactory,
    ApprovedEndpointFactory,
    McuNodeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def working_day_at(days_ahead: int, hour: int) -> dt.datetime:
    """A local time `days_ahead` working days from now (safe for every lead time)."""
    work = calendar.WorkCalendar.for_rulebook(active_rulebook())
    day = work.add_working_days(timezone.now(), days_ahead)
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def setup(kh_world):
    return kh_world


def meeting_input(host_agency, host_endpoint, participants, start, hours=2, **extra):
    data = dict(
        title=f"Họp {host_agency.name} {start:%d/%m %H:%M}",
        host_agency=host_agency,
        host_endpoint=host_endpoint,
        participants=list(participants),
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        place="Phòng họp trực tuyến",
        contact_name="Nguyễn Văn A",
        contact_phone="0912345678",
    )
    data.update(extra)
    return registration.MeetingInput(**data)


# ---------------------------------------------------------------- registration (R7, R8, R10)


def test_submission_stamps_order_and_reply_deadline(setup):
    start = working_day_at(5, 9)
    meeting = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [setup.ep_commune], start),
        actor=setup.district_office,
    )
    assert meeting.status == MeetingStatus.SUBMITTED
    assert meeting.registered_at is not None and meeting.reply_due_at is not None
    # KH Đ13.2b: 3 hours from the time the registration counts from
    assert meeting.reply_due_at - meeting.counted_from == dt.timedelta(hours=3)
    assert Notification.objects.filter(user=setup.operator, kind="meeting.submitted").exists()


def test_kh_lead_time_two_working_days(setup):
    start = timezone.localtime(timezone.now() + dt.timedelta(hours=30))
    with pytest.raises(RuleViolation) as refused:
        registration.create_meeting(
            meeting_input(setup.district, setup.ep_district, [], start), actor=setup.district_office
        )
    assert "Điều 13.2a" in refused.value.article and refused.value.field == "starts_at"
    assert not Meeting.objects.exists()
    # an emergency is exempt in KH (Đ13.2a)
    meeting = registration.create_meeting(
        meeting_input(
            setup.district,
            setup.ep_district,
            [],
            start,
            urgency=Urgency.EMERGENCY,
            emergency_reason="Bão số 5",
        ),
        actor=setup.district_office,
    )
    assert meeting.status == MeetingStatus.SUBMITTED


def test_dn_emergency_still_needs_six_hours(setup, use_rulebook):
    use_rulebook("dong-nai-2025")
    start = timezone.now() + dt.timedelta(hours=3)
    with pytest.raises(RuleViolation) as refused:
        registration.create_meeting(
            meeting_input(
                setup.department,
                ApprovedEndpointFactory(agency=setup.department),
                [],
                start,
                urgency=Urgency.EMERGENCY,
                emergency_reason="Cháy rừng",
            ),
            actor=setup.operator,
        )
    assert "Điều 11.2a" in refused.value.article


def test_kh_commune_meetings_are_registered_by_the_district(setup):
    commune_office = UserFactory(role=Role.OFFICE, agency=setup.commune)
    data = meeting_input(setup.commune, setup.ep_commune, [], working_day_at(5, 9))
    with pytest.raises(RuleViolation) as refused:
        registration.create_meeting(data, actor=commune_office)
    assert "Điều 12" in refused.value.article
    meeting = registration.create_meeting(data, actor=setup.district_office)
    assert meeting.host_agency == setup.commune


def test_other_districts_office_cannot_register_for_us(setup):
    with pytest.raises(PermissionDenied):
        registration.create_meeting(
            meeting_input(setup.district, setup.ep_district, [], working_day_at(5, 9)),
            actor=setup.other_office,
        )


def test_bad_input_is_field_level_and_saves_nothing(setup):
    start = working_day_at(5, 9)
    data = meeting_input(
        setup.district,
        setup.ep_district,
        [],
        start,
        contact_phone="12",
        title=" ",
        ends_at=start - dt.timedelta(hours=1),
    )
    with pytest.raises(InvalidInput) as refused:
        registration.create_meeting(data, actor=setup.district_office)
    assert {"title", "contact_phone", "ends_at"} <= set(refused.value.errors)
    assert not Meeting.objects.exists()


def test_weekly_series_gives_occurrences_with_their_own_state(setup):
    start = working_day_at(5, 8)
    series = registration.create_series(
        meeting_input(setup.district, setup.ep_district, [setup.ep_commune], start),
        recurrence="weekly",
        until=(start + dt.timedelta(weeks=3)).date(),
        actor=setup.district_office,
    )
    occurrences = list(series.meetings.order_by("starts_at"))
    assert len(occurrences) == 4
    assert occurrences[1].starts_at - occurrences[0].starts_at == dt.timedelta(weeks=1)
    lifecycle.refuse_meeting(occurrences[1], reason="Trùng lịch", actor=setup.operator)
    lifecycle.accept_meeting(occurrences[0], actor=setup.operator)
    states = [m.status for m in series.meetings.order_by("starts_at")]
    assert states == [
        MeetingStatus.ACCEPTED,
        MeetingStatus.REFUSED,
        MeetingStatus.SUBMITTED,
        MeetingStatus.SUBMITTED,
    ]


# ---------------------------------------------------------------- acceptance (R11, R13, R15)


def test_accept_books_node_issues_code_and_schedules_checks(setup):
    start = working_day_at(5, 14)
    data = meeting_input(
        setup.district,
        setup.ep_district,
        [setup.ep_commune],
        start,
        rehearsal_starts_at=start - dt.timedelta(hours=5),
        rehearsal_ends_at=start - dt.timedelta(hours=4),
    )
    meeting = registration.create_meeting(data, actor=setup.district_office)
    meeting = lifecycle.accept_meeting(meeting, actor=setup.operator)
    assert meeting.status == MeetingStatus.ACCEPTED and meeting.node == setup.node
    assert meeting.code and len(meeting.code) == 10
    checks = list(meeting.checks.order_by("due_at", "endpoint_id"))
    # KH Đ13.2b: 2 h before the rehearsal and before the session, for every endpoint
    assert {(c.kind, c.due_at) for c in checks} == {
        (WindowKind.REHEARSAL, data.rehearsal_starts_at - dt.timedelta(hours=2)),
        (WindowKind.SESSION, start - dt.timedelta(hours=2)),
    }
    assert len(checks) == 4 and all(c.status == CheckStatus.SCHEDULED for c in checks)
    node_rows = Booking.objects.filter(meeting=meeting, endpoint__isnull=True)
    # KH Đ12.4a: the node is held for each window and each check's own half hour, not from
    # the check to the end.
    half_hour = dt.timedelta(minutes=30)
    rehearsal_check = data.rehearsal_starts_at - dt.timedelta(hours=2)
    session_check = start - dt.timedelta(hours=2)
    assert {(r.kind, r.starts_at, r.ends_at) for r in node_rows} == {
        (HoldKind.REHEARSAL, data.rehearsal_starts_at, data.rehearsal_ends_at),
        (HoldKind.SESSION, start, data.ends_at),
        (HoldKind.CHECK, rehearsal_check - half_hour, rehearsal_check),
        (HoldKind.CHECK, session_check - half_hour, session_check),
    }
    assert {r.endpoints_count for r in node_rows} == {2}
    assert verify_chain().ok


def test_an_endpoint_is_never_in_two_overlapping_meetings(setup):
    start = working_day_at(5, 9)
    first = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [setup.ep_commune], start),
        actor=setup.district_office,
    )
    second = registration.create_meeting(
        meeting_input(
            setup.province, setup.ep_province, [setup.ep_commune], start + dt.timedelta(hours=1)
        ),
        actor=setup.province_office,
    )
    lifecycle.accept_meeting(first, actor=setup.operator)
    # same level or not: KH revokes only for capacity of lower bodies; here the province
    # outranks the district, so the district meeting must give way — with confirmation.
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(second, actor=setup.operator)
    assert refused.value.code == "revocation_needs_confirmation"
    third = registration.create_meeting(
        meeting_input(
            setup.other_district,
            setup.ep_other,
            [setup.ep_commune],
            start + dt.timedelta(minutes=30),
        ),
        actor=setup.operator,
    )
    with pytest.raises(InvalidInput) as busy:
        lifecycle.accept_meeting(third, actor=setup.operator)
    assert "NT.XuongHuan" in busy.value.errors["participants"][0]
    # back to back is fine: windows are half-open
    fourth = registration.create_meeting(
        meeting_input(
            setup.other_district, setup.ep_other, [setup.ep_commune], start + dt.timedelta(hours=2)
        ),
        actor=setup.operator,
    )
    lifecycle.accept_meeting(fourth, actor=setup.operator)


def _fill(setup, start, count):
    """`count` accepted district-level meetings overlapping `start`, each with its own rooms."""
    meetings = []
    for n in range(count):
        agency = AgencyFactory(
            parent=setup.province,
            kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
            name=f"UBND huyện Thử {n}",
            abbreviation=f"T{n}",
        )
        endpoint = ApprovedEndpointFactory(agency=agency, name=f"UBND.Thu {n}")
        meeting = registration.create_meeting(
            meeting_input(agency, endpoint, [], start + dt.timedelta(minutes=5 * n)),
            actor=setup.operator,
        )
        meetings.append(lifecycle.accept_meeting(meeting, actor=setup.operator))
    return meetings


def test_kh_cap_is_80_percent_of_the_node(setup):
    start = working_day_at(5, 9)
    _fill(setup, start, 4)  # 80 % of 5
    extra = registration.create_meeting(
        meeting_input(setup.other_district, setup.ep_other, [], start), actor=setup.operator
    )
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(extra, actor=setup.operator)
    assert refused.value.code == "mcu_capacity_full" and "Điều 12.4a" in refused.value.article
    # KH Đ12.4a counts what runs at once: a meeting at 12:00 fits; its check, due by 10:00
    # while the four run, moves earlier to the first quarter hour where only three run
    later = registration.create_meeting(
        meeting_input(setup.other_district, setup.ep_other, [], start + dt.timedelta(hours=3)),
        actor=setup.operator,
    )
    lifecycle.accept_meeting(later, actor=setup.operator)
    assert {c.due_at for c in later.checks.all()} == {start + dt.timedelta(minutes=15)}
    much_later = registration.create_meeting(
        meeting_input(setup.other_district, setup.ep_other, [], start + dt.timedelta(hours=5)),
        actor=setup.operator,
    )
    lifecycle.accept_meeting(much_later, actor=setup.operator)


def test_a_second_node_takes_what_the_first_cannot(setup):
    start = working_day_at(5, 9)
    _fill(setup, start, 4)
    spare = McuNodeFactory(name="mcu-2", max_meetings=5, max_endpoints=100)
    extra = registration.create_meeting(
        meeting_input(setup.other_district, setup.ep_other, [], start), actor=setup.operator
    )
    assert lifecycle.accept_meeting(extra, actor=setup.operator).node == spare


def test_kh_priority_revokes_latest_registered_lower_meetings_first(
    setup, django_capture_on_commit_callbacks
):
    start = working_day_at(5, 9)
    lower = _fill(setup, start, 4)
    province = registration.create_meeting(
        meeting_input(setup.province, setup.ep_province, [], start), actor=setup.province_office
    )
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(province, actor=setup.operator)
    assert refused.value.code == "revocation_needs_confirmation"
    assert "Điều 12.4b" in refused.value.article
    latest = lower[-1]
    assert (
        f"#{latest.pk}" in refused.value.message and f"#{lower[0].pk}" not in refused.value.message
    )
    with django_capture_on_commit_callbacks(execute=False) as committed:
        lifecycle.accept_meeting(province, actor=setup.operator,
                                 confirm_revocations=[latest.pk])
    latest.refresh_from_db()
    assert latest.status == MeetingStatus.REVOKED and latest.code is None
    assert not latest.bookings.filter(holds=True).exists()
    assert all(
        m.status == MeetingStatus.ACCEPTED
        for m in Meeting.objects.filter(pk__in=[m.pk for m in lower[:-1]])
    )
    # the revoked meeting's registrant is told at once, with the article; the free slots are
    # searched only after the decision committed, by the worker
    notice = Notification.objects.get(
        kind="meeting.revoked", user=latest.created_by, channel="in_app"
    )
    assert "Điều 12.4b" in notice.body and latest.title in notice.subject
    assert not Notification.objects.filter(kind="meeting.free_slots").exists()
    for callback in committed:
        callback()
    offered = Notification.objects.get(
        kind="meeting.free_slots", user=latest.created_by, channel="in_app"
    )
    assert latest.title in offered.subject
    slots = offered.body.rsplit(": ", 1)[1]
    assert slots.count("/") == 6  # three times, each "dd/mm/yyyy hh:mm"
    assert timezone.localtime(latest.starts_at).strftime("%d/%m/%Y %H:%M") not in slots
    assert verify_chain().ok


def test_dn_has_no_revocation(setup, use_rulebook):
    use_rulebook("dong-nai-2025")
    setup.node.max_meetings = 4
    setup.node.save()
    start = working_day_at(5, 9)
    _fill_dn = []
    for n in range(4):
        agency = AgencyFactory(
            parent=setup.province, kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE, name=f"UBND xã Thử {n}"
        )
        endpoint = ApprovedEndpointFactory(agency=agency, name=f"Xa Thu {n}")
        meeting = registration.create_meeting(
            meeting_input(agency, endpoint, [], start), actor=setup.operator
        )
        _fill_dn.append(lifecycle.accept_meeting(meeting, actor=setup.operator))
    province = registration.create_meeting(
        meeting_input(setup.province, setup.ep_province, [], start), actor=setup.operator
    )
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(province, actor=setup.operator)
    assert refused.value.code == "mcu_capacity_full"


def test_refuse_needs_reason_and_cancel_releases(setup):
    start = working_day_at(5, 9)
    meeting = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [], start), actor=setup.district_office
    )
    with pytest.raises(InvalidInput):
        lifecycle.refuse_meeting(meeting, reason=" ", actor=setup.operator)
    lifecycle.accept_meeting(meeting, actor=setup.operator)
    lifecycle.cancel_meeting(meeting, reason="Lãnh đạo bận", actor=setup.district_office)
    assert not Booking.objects.filter(meeting=meeting, holds=True).exists()
    assert not meeting.checks.exists()


def test_reply_breaches_are_recorded(setup):
    start = working_day_at(5, 9)
    meeting = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [], start), actor=setup.district_office
    )
    Meeting.objects.filter(pk=meeting.pk).update(
        reply_due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert approval.record_reply_breaches() == 1
    assert approval.record_reply_breaches() == 0
    meeting.refresh_from_db()
    assert meeting.sla_breached_at is not None


# ---------------------------------------------------------------- technical checks (R15)


def test_failed_check_opens_an_incident_tracked_to_closure(setup):
    from diemcau.scheduling.choices import IncidentStatus
    from diemcau.scheduling.services import checks

    start = working_day_at(5, 9)
    meeting = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [setup.ep_commune], start),
        actor=setup.district_office,
    )
    lifecycle.accept_meeting(meeting, actor=setup.operator)
    commune_tech = UserFactory(role=Role.TECHNICIAN, agency=setup.commune)
    check = meeting.checks.get(endpoint=setup.ep_commune)
    items = active_rulebook().technical_check.items
    with pytest.raises(InvalidInput):
        checks.record_check(check, checks.CheckInput({items[0]: True}), actor=commune_tech)
    with pytest.raises(PermissionDenied):
        checks.record_check(
            meeting.checks.get(endpoint=setup.ep_district),
            checks.CheckInput({i: True for i in items}),
            actor=commune_tech,
        )
    results = {i: True for i in items} | {"backup_power": False}
    with pytest.raises(InvalidInput):
        checks.record_check(check, checks.CheckInput(results), actor=commune_tech)
    with translation.override("en"):
        checks.record_check(check, checks.CheckInput(results, "UPS hỏng"), actor=commune_tech)
    check.refresh_from_db()
    assert check.status == CheckStatus.FAILED
    incident = meeting.incidents.get()
    assert "Backup power" in incident.description  # the item's label, not its key
    with pytest.raises(PermissionDenied):
        checks.update_incident(
            incident, status=IncidentStatus.CLOSED, resolution="x", actor=commune_tech
        )
    checks.update_incident(
        incident, status=IncidentStatus.CLOSED, resolution="Thay UPS", actor=setup.operator
    )
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED and incident.closed_by == setup.operator


def test_a_meeting_lasts_at_most_twelve_hours(setup):
    start = working_day_at(5, 7)
    with pytest.raises(InvalidInput) as refused:
        registration.create_meeting(
            meeting_input(setup.district, setup.ep_district, [], start, hours=13),
            actor=setup.district_office,
        )
    assert "ends_at" in refused.value.errors
    meeting = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [], start, hours=12),
        actor=setup.district_office,
    )
    assert lifecycle.accept_meeting(meeting, actor=setup.operator).status == MeetingStatus.ACCEPTED


def test_free_slots_skip_the_times_an_endpoint_is_held_as_a_plan_would(setup):
    """The free times are searched with the endpoints' bookings read once: the times they
    offer are exactly those at which `planning.plan` fits the meeting without revoking."""
    from diemcau.scheduling import planning, selectors

    held = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [setup.ep_commune],
                      working_day_at(5, 9), hours=3),
        actor=setup.district_office,
    )
    lifecycle.accept_meeting(held, actor=setup.operator)
    wanted = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [], working_day_at(5, 8), hours=1),
        actor=setup.district_office,
    )
    found = selectors.free_slots(wanted, count=6)

    rulebook = active_rulebook()
    work = calendar.WorkCalendar.for_rulebook(rulebook)
    length = wanted.ends_at - wanted.starts_at
    candidate = work.next_office_time(max(wanted.starts_at, timezone.now()))
    candidate = candidate.replace(minute=(candidate.minute // 30) * 30, second=0, microsecond=0)
    horizon, expected = candidate + selectors.SLOT_HORIZON, []
    while candidate < horizon and len(expected) < 6:
        if work.is_office_time(candidate) and work.is_office_time(candidate + length):
            probe = Meeting(pk=wanted.pk, host_agency=wanted.host_agency,
                            host_endpoint=wanted.host_endpoint, starts_at=candidate,
                            ends_at=candidate + length)
            plan = planning.plan(probe, rulebook)
            if plan.possible and not plan.revocations:
                expected.append(candidate)
        candidate += selectors.SLOT_STEP
    assert found == expected and len(found) == 6
    assert not [t for t in found if t < held.ends_at and held.starts_at < t + length]
