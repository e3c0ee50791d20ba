"""Clauses read against their text (issue 10): emergencies are not deferred to office hours
(KH Đ12.3, Đ13.2a; ĐN Đ10.3, Đ11.2), the lead time runs to the session (KH Đ13.2a), who
controls a meeting with no qualifying level above its host (KH Đ10.1), and how the agencies
of KH Đ3.2đ rank (KH Đ12.4b)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from diemcau.core import calendar
from diemcau.core.errors import RuleViolation
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind
from diemcau.notifications.models import Channel, Notification
from diemcau.rulebooks import get_rulebook
from diemcau.scheduling import planning
from diemcau.scheduling.choices import MeetingStatus, Urgency
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.permissions import can_control, controlling_agency
from diemcau.scheduling.presenters import rules_panel_context
from diemcau.scheduling.reasons import reason_text
from diemcau.scheduling.rules import ReplyState, is_announced, reply_deadline
from diemcau.scheduling.services import lifecycle, registration
from diemcau.testing.factories import AgencyFactory, ApprovedEndpointFactory, UserFactory

from .test_services import meeting_input, working_day_at

VN = ZoneInfo("Asia/Ho_Chi_Minh")
KH = get_rulebook("khanh-hoa-2023")
DN = get_rulebook("dong-nai-2025")
# A Friday at 22:00, no holiday near it (Friday 7 March 2025).
FRIDAY_22 = dt.datetime(2025, 3, 7, 22, 0, tzinfo=VN)


# ---------------------------------------------------------------- emergencies (item 4)


def test_kh_normal_registration_at_night_counts_from_monday() -> None:
    # The reference point: a normal registration waits for office hours (KH Đ13.2a).
    assert calendar.reply_deadline(KH, FRIDAY_22, Urgency.NORMAL) == dt.datetime(
        2025, 3, 10, 10, 30, tzinfo=VN)


def test_kh_emergency_at_night_is_not_deferred_and_its_reply_is_due_at_once() -> None:
    assert calendar.registration_received_at(KH, FRIDAY_22, Urgency.EMERGENCY) == FRIDAY_22
    assert calendar.reply_deadline(KH, FRIDAY_22, Urgency.EMERGENCY) == FRIDAY_22
    # The regulation's own 03 giờ still bound it, counted from when it arrived.
    assert calendar.reply_breach_time(KH, FRIDAY_22, Urgency.EMERGENCY) == (
        FRIDAY_22 + dt.timedelta(hours=3))
    # Urgent meetings are still sent in office hours (only emergencies are excepted).
    assert calendar.registration_received_at(KH, FRIDAY_22, Urgency.URGENT) == dt.datetime(
        2025, 3, 10, 7, 30, tzinfo=VN)


def _stamped(rulebook_name: str, use_rulebook, urgency: str, starts_in: dt.timedelta,
             now: dt.datetime, kh_world) -> Meeting:
    use_rulebook(rulebook_name)
    meeting = Meeting(
        title="Bão số 5", host_agency=kh_world.district, host_endpoint=kh_world.ep_district,
        starts_at=now + starts_in, ends_at=now + starts_in + dt.timedelta(hours=1),
        urgency=urgency, emergency_reason="Bão số 5", created_by=kh_world.district_office,
    )
    lifecycle.stamp_submission(meeting, get_rulebook(rulebook_name), now)
    return meeting


def test_kh_emergency_queue_counts_up_and_misses_only_after_three_hours(kh_world,
                                                                        use_rulebook) -> None:
    meeting = _stamped("khanh-hoa-2023", use_rulebook, Urgency.EMERGENCY,
                       dt.timedelta(minutes=30), FRIDAY_22, kh_world)
    assert meeting.reply_due_at == FRIDAY_22 and meeting.counted_from == FRIDAY_22
    soon = reply_deadline(meeting, KH, FRIDAY_22 + dt.timedelta(minutes=10))
    assert soon is not None
    assert soon.state == ReplyState.DUE_NOW and not soon.missed and soon.seconds_left == -600
    assert "Điều 12.3" in soon.article and "Điều 13.2b" in soon.article
    late = reply_deadline(meeting, KH, FRIDAY_22 + dt.timedelta(hours=3, minutes=1))
    assert late is not None and late.state == ReplyState.OVERDUE and late.missed


@pytest.mark.parametrize("urgency", [Urgency.URGENT, Urgency.EMERGENCY])
def test_dn_urgent_and_emergency_count_at_once_with_the_two_hour_reply(
        kh_world, use_rulebook, urgency) -> None:
    # ĐN Đ11.2a: 06 giờ for both; Đ11.2b: a reply within 02 giờ of receipt, at any hour.
    meeting = _stamped("dong-nai-2025", use_rulebook, urgency, dt.timedelta(hours=6),
                       FRIDAY_22, kh_world)
    assert meeting.counted_from == FRIDAY_22
    assert meeting.reply_due_at == FRIDAY_22 + dt.timedelta(hours=2)
    state = reply_deadline(meeting, DN, FRIDAY_22 + dt.timedelta(minutes=10))
    assert state is not None and state.state == ReplyState.DUE
    with pytest.raises(RuleViolation) as refused:
        _stamped("dong-nai-2025", use_rulebook, urgency, dt.timedelta(hours=5),
                 FRIDAY_22, kh_world)
    assert refused.value.article == "Điều 11.2a Quy chế ĐN"


def test_an_emergency_check_is_never_due_before_it_was_registered(kh_world) -> None:
    start = timezone.now() + dt.timedelta(minutes=45)
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [kh_world.ep_commune], start,
                      urgency=Urgency.EMERGENCY, emergency_reason="Lũ quét"),
        actor=kh_world.district_office,
    )
    lifecycle.accept_meeting(meeting, actor=kh_world.operator)
    dues = list(meeting.checks.values_list("due_at", flat=True))
    assert dues and all(due >= meeting.registered_at for due in dues)
    # A meeting registered in good time keeps its check 02 giờ before (KH Đ13.2b).
    normal = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(5, 9)),
        actor=kh_world.district_office,
    )
    lifecycle.accept_meeting(normal, actor=kh_world.operator)
    [due] = set(normal.checks.values_list("due_at", flat=True))
    assert due == normal.starts_at - dt.timedelta(hours=2)


# ---------------------------------------------------------------- lead time to the session (item 6)


def test_kh_lead_time_runs_to_the_session_not_to_its_rehearsal(kh_world) -> None:
    start = working_day_at(4, 9)
    rehearsal = timezone.localtime(timezone.now() + dt.timedelta(hours=6)).replace(
        second=0, microsecond=0)
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], start,
                      rehearsal_starts_at=rehearsal,
                      rehearsal_ends_at=rehearsal + dt.timedelta(hours=1)),
        actor=kh_world.district_office,
    )
    assert meeting.status == MeetingStatus.SUBMITTED
    # The form's panel says the same as the service.
    panel = rules_panel_context(kh_world.district_office, {
        "urgency": Urgency.NORMAL, "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2), "rehearsal_starts_at": rehearsal,
        "rehearsal_ends_at": rehearsal + dt.timedelta(hours=1)})
    assert panel["timing"]["in_time"] is True


# ---------------------------------------------------------------- control (item 6, KH Đ10.1)


def _meeting_of(agency, created_by):
    endpoint = ApprovedEndpointFactory(agency=agency)
    now = timezone.now()
    return Meeting.objects.create(
        title="Họp", host_agency=agency, host_endpoint=endpoint,
        starts_at=now + dt.timedelta(days=3), ends_at=now + dt.timedelta(days=3, hours=1),
        status=MeetingStatus.ACCEPTED, created_by=created_by, registered_at=now,
    )


def test_kh_an_other_agency_with_no_qualifying_level_above_controls_nothing(kh_world) -> None:
    branch = AgencyFactory(name="Cục Thống kê tỉnh", kind=AgencyKind.OTHER, parent=None)
    meeting = _meeting_of(branch, kh_world.operator)
    assert controlling_agency(meeting) is None
    assert not can_control(UserFactory(role=Role.TECHNICIAN, agency=branch), meeting)
    assert can_control(kh_world.operator, meeting)
    # Under the central endpoint it is no different: Đ10.1 gives control to points b, c only.
    unit = AgencyFactory(name="Ban Quản lý dự án", kind=AgencyKind.OTHER,
                         parent=kh_world.province)
    assert controlling_agency(_meeting_of(unit, kh_world.operator)) is None
    # Under a department (point b), the department's endpoint controls it.
    department_unit = AgencyFactory(name="Trung tâm CNTT", kind=AgencyKind.DEPARTMENT_UNIT,
                                    parent=kh_world.department)
    assert controlling_agency(_meeting_of(department_unit, kh_world.operator)) == (
        kh_world.department)


# ---------------------------------------------------------------- priority (item 6, KH Đ12.4b)


def test_kh_other_agencies_are_neither_below_communes_nor_above_districts(kh_world) -> None:
    branch = AgencyFactory(name="Kho bạc Nhà nước tỉnh", kind=AgencyKind.OTHER,
                           parent=kh_world.province)
    theirs = _meeting_of(branch, kh_world.operator)
    commune = _meeting_of(kh_world.commune, kh_world.operator)
    district = _meeting_of(kh_world.district, kh_world.operator)
    assert planning.rank(theirs, KH) is None
    assert not planning.outranks(commune, theirs, KH)
    assert not planning.outranks(theirs, district, KH)
    assert planning.outranks(district, commune, KH)  # the ladder itself still holds
    theirs.upstream_uri = ""
    upstream = _meeting_of(kh_world.province, kh_world.operator)
    upstream.upstream_uri = "sip:mcu@chinhphu.vn"
    assert planning.outranks(upstream, theirs, KH)


# ---------------------------------------------------------------- announced meetings (item 5)


def test_kh_the_office_announces_and_the_operator_cannot_refuse(kh_world) -> None:
    meeting = registration.create_meeting(
        meeting_input(kh_world.province, kh_world.ep_province, [kh_world.ep_district],
                      working_day_at(4, 9)),
        actor=kh_world.province_office,
    )
    assert is_announced(meeting)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.refuse_meeting(meeting, reason="Bận", actor=kh_world.operator)
    assert refused.value.code == "announced_meeting_not_refused"
    assert refused.value.article == "Điều 12.1 Quy chế KH"
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SUBMITTED
    # It is prepared for: accepted, with the priority rule making room when needed.
    assert lifecycle.accept_meeting(meeting, actor=kh_world.operator).status == (
        MeetingStatus.ACCEPTED)
    # A district's registration is still the operator's to refuse.
    district = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(4, 14)),
        actor=kh_world.district_office,
    )
    assert not is_announced(district)
    # KH Đ12.1: a meeting with the Government is announced too, whoever hosts it.
    district.upstream_uri = "sip:mcu@chinhphu.vn"
    assert is_announced(district)
    district.upstream_uri = ""
    assert lifecycle.refuse_meeting(district, reason="Bận", actor=kh_world.operator).status == (
        MeetingStatus.REFUSED)


def test_kh_a_higher_body_announced_meeting_makes_room_by_the_priority_rule(kh_world) -> None:
    kh_world.node.max_meetings = 2  # 80 % of 2: one meeting at a time (KH Đ12.4a)
    kh_world.node.save()
    start = working_day_at(4, 9)
    lower = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], start),
        actor=kh_world.district_office,
    )
    lifecycle.accept_meeting(lower, actor=kh_world.operator)
    announced = registration.create_meeting(
        meeting_input(kh_world.province, kh_world.ep_province, [], start),
        actor=kh_world.province_office,
    )
    lifecycle.accept_meeting(announced, actor=kh_world.operator, confirm_revocations=[lower.pk])
    lower.refresh_from_db()
    assert lower.status == MeetingStatus.REVOKED
    # Item 12: the reason is kept as a kind with parameters, read in the reader's language.
    assert lower.decision_reason_kind == "revoked_for_higher_level"
    assert lower.decision_reason_params["article"] == "Điều 12.4b Quy chế KH"
    assert lower.decision_reason_params["winner_id"] == announced.pk
    with translation.override("en"):
        english = reason_text(lower)
    with translation.override("vi"):
        vietnamese = reason_text(lower)
    assert english.startswith("Code revoked") and "Điều 12.4b Quy chế KH" in english
    assert vietnamese.startswith("Thu hồi mã phiên họp") and announced.title in vietnamese


def test_dn_the_national_assembly_delegation_announces_its_meetings(kh_world,
                                                                    use_rulebook) -> None:
    use_rulebook("dong-nai-2025")
    delegation = AgencyFactory(name="Đoàn ĐBQH tỉnh Đồng Nai",
                               kind=AgencyKind.NATIONAL_ASSEMBLY_DELEGATION)
    assert DN.level_for_kind(AgencyKind.NATIONAL_ASSEMBLY_DELEGATION) == "province"
    meeting = _meeting_of(delegation, kh_world.operator)
    meeting.status = MeetingStatus.SUBMITTED
    meeting.save()
    assert is_announced(meeting)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.refuse_meeting(meeting, reason="Bận", actor=kh_world.operator)
    assert refused.value.article == "Điều 10.1 Quy chế ĐN"


# ---------------------------------------------------------------- rulebook sections read (item 9)


def test_kh_an_answer_also_goes_to_the_support_group_webhook(
    kh_world, settings, django_capture_on_commit_callbacks
) -> None:
    # KH Đ13.2b: the reply is given publicly, in the support group as well (the acceptance's
    # recipients are written by the worker once the decision commits).
    settings.WEBHOOK_URL = "http://127.0.0.1:9/support-group"
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(4, 9)),
        actor=kh_world.district_office,
    )
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(meeting, actor=kh_world.operator)
    posted = Notification.objects.filter(kind="meeting.accepted", channel=Channel.WEBHOOK)
    assert posted.count() == 1


def test_dn_an_answer_is_not_posted_to_the_webhook_unasked(kh_world, use_rulebook,
                                                           settings) -> None:
    use_rulebook("dong-nai-2025")
    settings.WEBHOOK_URL = "http://127.0.0.1:9/support-group"
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(4, 9)),
        actor=kh_world.district_office,
    )
    lifecycle.refuse_meeting(meeting, reason="Bận", actor=kh_world.operator)
    assert not Notification.objects.filter(kind="meeting.refused",
                                           channel=Channel.WEBHOOK).exists()


def test_the_registration_form_shows_where_registrations_are_sent(client, kh_world,
                                                                  use_rulebook) -> None:
    client.force_login(kh_world.district_office)
    page = client.get(reverse("scheduling:meeting_create")).content.decode()
    assert 'href="mailto:hoptructuyen@khanhhoa.gov.vn"' in page
    assert "Điều 13.2a Quy chế KH" in page and 'data-channel="official_email"' in page
    use_rulebook("dong-nai-2025")
    page = client.get(reverse("scheduling:meeting_create")).content.decode()
    assert 'href="https://byvn.net/nd57"' in page and 'data-channel="invitation_letter"' in page
    assert "Điều 11.2a Quy chế ĐN" in page


def test_the_queue_offers_no_refusal_of_an_announced_meeting(client, kh_world) -> None:
    announced = registration.create_meeting(
        meeting_input(kh_world.province, kh_world.ep_province, [], working_day_at(4, 9)),
        actor=kh_world.province_office,
    )
    client.force_login(kh_world.operator)
    page = client.get(reverse("scheduling:operator_queue")).content.decode()
    card = page.split(f'data-meeting="{announced.pk}"')[1]
    assert "data-announced" in card and "Điều 12.1 Quy chế KH" in card
    assert "refuse-box" not in card
    detail = client.get(reverse("scheduling:meeting_detail", args=[announced.pk])).content
    assert reverse("scheduling:meeting_refuse", args=[announced.pk]) not in detail.decode()


# ---------------------------------------------------------------- refusals in words (item 12)


def test_a_refused_page_names_the_action_in_words(client, kh_world) -> None:
    auditor = UserFactory(role=Role.AUDITOR, agency=kh_world.province)
    client.force_login(auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the switcher: pages ignore the header
    response = client.get(reverse("scheduling:meeting_create"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "register or change a meeting" in page and "register_meeting" not in page
