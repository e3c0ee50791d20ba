"""The meeting pages through Django's test client: what each role sees and may do (R22
scoping, R13 secret code), the registration form with its rules panel (R7, R8), the
operator's queue, decisions and revocations (R9, R11, R12), checks and incidents (R15)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from diemcau.core import calendar
from diemcau.core.roles import Role
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import (
    CheckStatus,
    IncidentStatus,
    MeetingStatus,
    Urgency,
    WindowKind,
)
from diemcau.scheduling.models import Incident, Meeting
from diemcau.scheduling.services import lifecycle, registration
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _khanh_hoa(use_rulebook):
    use_rulebook("khanh-hoa-2023")


@pytest.fixture
def client():
    """Pages in English, so that assertions on page text do not depend on the Vietnamese
    catalogue; the rulebook's articles and messages are Vietnamese in every language."""
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.fixture
def t(kh_tree):
    t = kh_tree
    t.admin = UserFactory(role=Role.ADMIN, agency=t.department)
    t.operator = UserFactory(role=Role.OPERATOR, agency=t.department)
    t.auditor = UserFactory(role=Role.AUDITOR, agency=t.province)
    t.province_office = UserFactory(role=Role.OFFICE, agency=t.province)
    t.district_office = UserFactory(role=Role.OFFICE, agency=t.district)
    t.other_office = UserFactory(role=Role.OFFICE, agency=t.other_district)
    t.district_tech = UserFactory(role=Role.TECHNICIAN, agency=t.district)
    t.commune_tech = UserFactory(role=Role.TECHNICIAN, agency=t.commune)
    t.other_tech = UserFactory(role=Role.TECHNICIAN, agency=t.other_commune)
    t.ep_province = ApprovedEndpointFactory(agency=t.province, name="UBND.Khanh Hoa")
    t.ep_district = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang")
    t.ep_commune = ApprovedEndpointFactory(agency=t.commune, name="NT.XuongHuan")
    t.ep_other = ApprovedEndpointFactory(agency=t.other_district, name="UBND.Cam Ranh")
    t.ep_other_commune = ApprovedEndpointFactory(agency=t.other_commune, name="CR.CamNghia")
    t.node = McuNodeFactory(name="mcu-1", max_meetings=5, max_endpoints=100)
    return t


def login(client, user):
    client.force_login(user)
    return client


def working_day_at(days_ahead: int, hour: int) -> dt.datetime:
    work = calendar.WorkCalendar.for_rulebook(active_rulebook())
    day = work.add_working_days(timezone.now(), days_ahead)
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


def register(host_agency, host_endpoint, participants, start, actor, hours=2, **extra):
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
    submit = extra.pop("submit", True)
    data.update(extra)
    return registration.create_meeting(
        registration.MeetingInput(**data), actor=actor, submit=submit
    )


@pytest.fixture
def district_meeting(t):
    """Submitted by the Nha Trang office, with its ward as participant."""
    return register(
        t.district, t.ep_district, [t.ep_commune], working_day_at(5, 9), t.district_office
    )


@pytest.fixture
def accepted(t, district_meeting):
    return lifecycle.accept_meeting(district_meeting, actor=t.operator)


def local_input(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def form_data(t, start, **overrides):
    data = {
        "title": "Giao ban trực tuyến tháng",
        "meeting_type": "briefing",
        "classification": "normal",
        "host_agency": t.district.pk,
        "host_endpoint": t.ep_district.pk,
        "participants": [t.ep_commune.pk],
        "urgency": "normal",
        "emergency_reason": "",
        "rehearsal_starts_at": "",
        "rehearsal_ends_at": "",
        "starts_at": local_input(start),
        "ends_at": local_input(start + dt.timedelta(hours=2)),
        "recurrence": "",
        "until": "",
        "place": "Hội trường UBND thành phố",
        "contact_name": "Trần Thị B",
        "contact_phone": "0905123456",
        "support_notes": "",
        "action": "submit",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- pages per role


def test_pages_load_for_each_role(client, t, accepted):
    check = accepted.checks.get(endpoint=t.ep_commune, kind=WindowKind.SESSION)
    for user in [t.admin, t.operator, t.auditor, t.district_office, t.commune_tech]:
        login(client, user)
        for url in [
            reverse("dashboard"),
            reverse("scheduling:meeting_list"),
            reverse("scheduling:meeting_list") + "?period=all&status=accepted&urgency=normal",
            reverse("scheduling:meeting_detail", args=[accepted.pk]),
        ]:
            assert client.get(url).status_code == 200, (user.role, url)
        may_register = user.role in (Role.ADMIN, Role.OPERATOR, Role.OFFICE)
        new = client.get(reverse("scheduling:meeting_create"))
        assert new.status_code == (200 if may_register else 403), user.role
        decides = user.role in (Role.ADMIN, Role.OPERATOR)
        queue = client.get(reverse("scheduling:operator_queue"))
        assert queue.status_code == (200 if decides else 403), user.role
        check_page = client.get(reverse("scheduling:check_record", args=[accepted.pk, check.pk]))
        records = user.role in (Role.ADMIN, Role.OPERATOR, Role.TECHNICIAN)
        assert check_page.status_code == (200 if records else 403), user.role


def test_anonymous_is_sent_to_login(client, district_meeting):
    for url in [
        reverse("scheduling:meeting_list"),
        reverse("scheduling:meeting_detail", args=[district_meeting.pk]),
        reverse("scheduling:meeting_create"),
        reverse("scheduling:operator_queue"),
        reverse("scheduling:meeting_invitation", args=[district_meeting.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_navbar_offers_what_the_role_may_use(client, t):
    page = login(client, t.district_office).get(reverse("dashboard")).content.decode()
    assert reverse("scheduling:meeting_list") in page
    assert reverse("scheduling:meeting_create") in page
    assert reverse("scheduling:operator_queue") not in page
    assert reverse("calendar:calendar") in page
    assert reverse("calendar:public_schedule") in page
    page = login(client, t.commune_tech).get(reverse("dashboard")).content.decode()
    assert reverse("scheduling:meeting_create") not in page
    page = login(client, t.operator).get(reverse("dashboard")).content.decode()
    assert reverse("scheduling:operator_queue") in page
    assert reverse("scheduling:queue_count") in page  # the badge loads by htmx


def test_queue_count_badge(client, t, district_meeting):
    response = login(client, t.operator).get(reverse("scheduling:queue_count"))
    assert 'data-queue-count="1"' in response.content.decode()
    Meeting.objects.filter(pk=district_meeting.pk).update(
        reply_due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    response = client.get(reverse("scheduling:queue_count"))
    assert "text-bg-danger" in response.content.decode()
    office = login(client, t.district_office).get(reverse("scheduling:queue_count"))
    assert office.content == b""


# ---------------------------------------------------------------- scoping and the code (R13, R22)


def test_other_districts_meeting_is_404_and_not_listed(client, t, district_meeting):
    other = register(
        t.other_district, t.ep_other, [t.ep_other_commune], working_day_at(5, 14), t.other_office
    )
    login(client, t.district_office)
    assert (
        client.get(reverse("scheduling:meeting_detail", args=[district_meeting.pk])).status_code
        == 200
    )
    for name in [
        "meeting_detail",
        "meeting_edit",
        "meeting_cancel",
        "meeting_invitation",
        "meeting_submit",
        "incident_report",
    ]:
        url = reverse(f"scheduling:{name}", args=[other.pk])
        assert client.get(url).status_code == 404, name
    listing = client.get(reverse("scheduling:meeting_list") + "?period=all").content.decode()
    assert district_meeting.title in listing and other.title not in listing
    # The ward's technician sees its own meeting, not the other district's.
    login(client, t.commune_tech)
    listing = client.get(reverse("scheduling:meeting_list")).content.decode()
    assert district_meeting.title in listing and other.title not in listing
    assert client.get(reverse("scheduling:meeting_detail", args=[other.pk])).status_code == 404


def test_meeting_code_only_for_host_participants_and_operators(client, t, accepted):
    url = reverse("scheduling:meeting_detail", args=[accepted.pk])
    code = accepted.code
    assert code
    for user in [t.district_office, t.district_tech, t.commune_tech, t.operator, t.admin]:
        response = login(client, user).get(url)
        assert code in response.content.decode(), user.role
        assert "no-store" in response["Cache-Control"]
    # Province-wide readers see the meeting, not its secret.
    response = login(client, t.auditor).get(url)
    assert response.status_code == 200 and code not in response.content.decode()
    # Never in lists or on the overview, not even for the operator.
    login(client, t.operator)
    for page in [
        reverse("scheduling:meeting_list"),
        reverse("scheduling:meeting_list") + "?period=all",
        reverse("dashboard"),
        reverse("scheduling:operator_queue"),
    ]:
        assert code not in client.get(page).content.decode(), page


def test_drafts_stay_with_the_registering_office(client, t):
    draft = register(
        t.district,
        t.ep_district,
        [t.ep_commune],
        working_day_at(5, 9),
        t.district_office,
        submit=False,
    )
    assert draft.status == MeetingStatus.DRAFT
    url = reverse("scheduling:meeting_detail", args=[draft.pk])
    assert login(client, t.district_office).get(url).status_code == 200
    assert login(client, t.commune_tech).get(url).status_code == 404


# ---------------------------------------------------------------- registration (R7, R8, R10)


def test_register_and_submit_a_meeting(client, t):
    login(client, t.district_office)
    page = client.get(reverse("scheduling:meeting_create"))
    assert page.status_code == 200
    form = page.context["form"]
    # The host agency is limited to where the office may register: itself and its wards.
    hosts = set(form.fields["host_agency"].queryset.values_list("pk", flat=True))
    assert hosts == {t.district.pk, t.commune.pk}
    assert 'data-picker="datetime"' in page.content.decode()
    start = working_day_at(5, 9)
    response = client.post(reverse("scheduling:meeting_create"), form_data(t, start))
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:meeting_detail", args=[meeting.pk])
    assert meeting.status == MeetingStatus.SUBMITTED and meeting.reply_due_at is not None
    assert meeting.starts_at == start
    assert list(meeting.participants.all()) == [t.ep_commune]
    detail = client.get(response["Location"]).content.decode()
    assert "Submitted to the operator" in detail  # the history, from the audit log


def test_lead_time_error_cites_the_article_on_the_start(client, t):
    login(client, t.district_office)
    too_soon = timezone.now() + dt.timedelta(hours=5)
    response = client.post(reverse("scheduling:meeting_create"), form_data(t, too_soon))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["starts_at"][0].startswith("Điều 13.2a Quy chế KH: ")
    assert "Điều 13.2a Quy chế KH" in response.content.decode()
    assert not Meeting.objects.exists()


def test_bad_input_goes_to_its_fields(client, t):
    login(client, t.district_office)
    start = working_day_at(5, 9)
    response = client.post(
        reverse("scheduling:meeting_create"),
        form_data(
            t,
            start,
            contact_phone="12",
            urgency="emergency",
            emergency_reason="",
            ends_at=local_input(start - dt.timedelta(hours=1)),
        ),
    )
    errors = response.context["form"].errors
    assert {"contact_phone", "emergency_reason", "ends_at"} <= set(errors)
    assert not Meeting.objects.exists()


def test_commune_office_is_told_the_district_registers(client, t):
    commune_office = UserFactory(role=Role.OFFICE, agency=t.commune)
    login(client, commune_office)
    response = client.post(
        reverse("scheduling:meeting_create"),
        form_data(
            t,
            working_day_at(5, 9),
            host_agency=t.commune.pk,
            host_endpoint=t.ep_commune.pk,
            participants=[],
        ),
    )
    assert response.context["form"].errors["host_agency"][0].startswith("Điều 12")


def test_draft_then_edit_then_submit(client, t):
    login(client, t.district_office)
    start = working_day_at(5, 9)
    client.post(reverse("scheduling:meeting_create"), form_data(t, start, action="draft"))
    draft = Meeting.objects.get()
    assert draft.status == MeetingStatus.DRAFT and draft.reply_due_at is None
    edit_url = reverse("scheduling:meeting_edit", args=[draft.pk])
    page = client.get(edit_url)
    assert page.status_code == 200 and "Giao ban trực tuyến tháng" in page.content.decode()
    response = client.post(edit_url, form_data(t, start, title="Giao ban quý", action="draft"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Giao ban quý" and draft.status == MeetingStatus.DRAFT
    # A submit that breaks the lead time saves nothing, not even the edit.
    soon = timezone.now() + dt.timedelta(hours=3)
    response = client.post(edit_url, form_data(t, soon, title="Đổi tên"))
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.title == "Giao ban quý" and draft.status == MeetingStatus.DRAFT
    response = client.post(edit_url, form_data(t, start, title="Giao ban quý"))
    draft.refresh_from_db()
    assert draft.status == MeetingStatus.SUBMITTED
    # Submitted meetings are still edited until the decision (test_booking_pages).
    assert client.get(edit_url).status_code == 200


def test_submit_a_draft_from_its_page(client, t):
    draft = register(
        t.district, t.ep_district, [], working_day_at(5, 9), t.district_office, submit=False
    )
    login(client, t.district_office)
    url = reverse("scheduling:meeting_submit", args=[draft.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Earliest start allowed now" in page.content.decode()
    assert client.post(url).status_code == 302
    draft.refresh_from_db()
    assert draft.status == MeetingStatus.SUBMITTED


def test_weekly_series(client, t):
    login(client, t.district_office)
    start = working_day_at(5, 8)
    until = (start + dt.timedelta(weeks=2)).date().isoformat()
    response = client.post(
        reverse("scheduling:meeting_create"), form_data(t, start, recurrence="weekly", until=until)
    )
    assert response.status_code == 302
    assert Meeting.objects.filter(status=MeetingStatus.SUBMITTED).count() == 3
    # A series cannot be kept as a draft.
    response = client.post(
        reverse("scheduling:meeting_create"),
        form_data(t, start, recurrence="weekly", until=until, action="draft"),
    )
    assert "recurrence" in response.context["form"].errors


def test_invitation_download_is_scoped(client, t, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    login(client, t.district_office)
    data = form_data(t, working_day_at(5, 9))
    data["invitation"] = SimpleUploadedFile("giay-moi.pdf", PDF, content_type="application/pdf")
    client.post(reverse("scheduling:meeting_create"), data)
    meeting = Meeting.objects.get()
    assert meeting.invitation
    url = reverse("scheduling:meeting_invitation", args=[meeting.pk])
    detail = client.get(reverse("scheduling:meeting_detail", args=[meeting.pk])).content.decode()
    assert url in detail and settings.MEDIA_URL not in detail
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert login(client, t.other_office).get(url).status_code == 404
    assert login(client, t.other_tech).get(url).status_code == 404
    # Not a PDF: refused on the field.
    login(client, t.district_office)
    data = form_data(t, working_day_at(5, 14))
    data["invitation"] = SimpleUploadedFile("x.pdf", b"hello", content_type="application/pdf")
    response = client.post(reverse("scheduling:meeting_create"), data)
    assert "invitation" in response.context["form"].errors


# ---------------------------------------------------------------- the rules panel (R8, R9)


def test_rules_panel_shows_earliest_start_and_reply_deadline(client, t):
    login(client, t.district_office)
    rulebook = active_rulebook()
    before = timezone.now()
    response = client.get(reverse("scheduling:rules_panel"), {"urgency": "normal"})
    after = timezone.now()
    page = response.content.decode()
    assert "Earliest start allowed now:" in page
    assert "Điều 13.2a Quy chế KH" in page and "Điều 13.2b Quy chế KH" in page
    shown = re.search(r'data-earliest="([^"]+)"', page)
    assert shown is not None
    expected = {
        local_input(calendar.earliest_start(rulebook, "normal", moment) + dt.timedelta(seconds=59))
        for moment in (before, after)
    }
    assert shown.group(1) in expected
    # The form page shows the same panel before any change.
    form_page = client.get(reverse("scheduling:meeting_create")).content.decode()
    assert "Earliest start allowed now:" in form_page
    # KH emergencies are exempt from the lead time; they go first in the queue (Đ12.3).
    emergency = client.get(reverse("scheduling:rules_panel"), {"urgency": "emergency"})
    text = emergency.content.decode()
    assert "No lead time" in text and "Điều 12.3 Quy chế KH" in text


def test_rules_panel_judges_the_chosen_start(client, t):
    login(client, t.district_office)
    late = client.get(
        reverse("scheduling:rules_panel"),
        {
            "urgency": "normal",
            "starts_at": local_input(timezone.now() + dt.timedelta(hours=5)),
        },
    ).content.decode()
    assert 'data-in-time="no"' in late and "Điều 13.2a Quy chế KH:" in late
    fine = client.get(
        reverse("scheduling:rules_panel"),
        {
            "urgency": "normal",
            "starts_at": local_input(working_day_at(5, 9)),
        },
    ).content.decode()
    assert 'data-in-time="yes"' in fine


def test_rules_panel_shows_busy_endpoints(client, t, accepted):
    login(client, t.other_office)
    start = accepted.starts_at + dt.timedelta(minutes=30)
    params = {
        "urgency": "normal",
        "starts_at": local_input(start),
        "ends_at": local_input(start + dt.timedelta(hours=1)),
        "host_endpoint": t.ep_other.pk,
        "participants": [t.ep_commune.pk, t.ep_other_commune.pk],
    }
    page = client.get(reverse("scheduling:rules_panel"), params).content.decode()
    assert "Already booked at these times" in page
    assert f'data-busy-endpoint="{t.ep_commune.pk}"' in page
    assert f'data-busy-endpoint="{t.ep_other_commune.pk}"' not in page
    # The other district may not see that meeting: its title stays hidden.
    assert accepted.title not in page
    params["starts_at"] = local_input(accepted.ends_at)
    params["ends_at"] = local_input(accepted.ends_at + dt.timedelta(hours=1))
    free = client.get(reverse("scheduling:rules_panel"), params).content.decode()
    assert "Already booked" not in free and "free at these times" in free


# ---------------------------------------------------------------- the operator (R9, R11, R12)


def test_queue_puts_emergencies_first_with_countdowns(client, t):
    normal = register(t.district, t.ep_district, [], working_day_at(5, 9), t.district_office)
    emergency = register(
        t.other_district,
        t.ep_other,
        [],
        timezone.now() + dt.timedelta(hours=6),
        t.other_office,
        urgency=Urgency.EMERGENCY,
        emergency_reason="Bão số 5",
    )
    login(client, t.operator)
    response = client.get(reverse("scheduling:operator_queue"))
    page = response.content.decode()
    order = [int(pk) for pk in re.findall(r'data-queue-item data-meeting="(\d+)"', page)]
    assert order == [emergency.pk, normal.pk]
    assert f'data-deadline="{normal.reply_due_at.isoformat(timespec="seconds")}"' in page
    assert "data-warn-at=" in page and "data-countdown" in page
    assert "scheduling.js" in page
    assert 'data-plan="fits"' in page
    # Past the warning time: amber; past the deadline: red and "overdue".
    now = timezone.now()
    Meeting.objects.filter(pk=normal.pk).update(reply_due_at=now + dt.timedelta(minutes=10))
    Meeting.objects.filter(pk=emergency.pk).update(reply_due_at=now - dt.timedelta(minutes=5))
    page = client.get(reverse("scheduling:operator_queue")).content.decode()
    states = dict(
        re.findall(r'data-meeting="(\d+)".*?data-countdown[^>]*data-state="(\w+)"', page, re.S)
    )
    # KH Đ12.3, Đ13.2a: the emergency's reply is due at once: it counts up from its receipt
    # ("due now +0:05:00") until the 03 giờ of Đ13.2b pass; then it is overdue.
    assert states == {str(emergency.pk): "now", str(normal.pk): "warn"}
    assert "due now +0:0" in page and "data-breach-at=" in page
    Meeting.objects.filter(pk=emergency.pk).update(reply_due_at=now - dt.timedelta(hours=4))
    page = client.get(reverse("scheduling:operator_queue")).content.decode()
    states = dict(
        re.findall(r'data-meeting="(\d+)".*?data-countdown[^>]*data-state="(\w+)"', page, re.S)
    )
    assert states[str(emergency.pk)] == "overdue" and "overdue 4:0" in page


def test_accept_in_one_click_then_the_host_sees_the_code(client, t, district_meeting):
    login(client, t.operator)
    queue_url = reverse("scheduling:operator_queue")
    response = client.post(
        reverse("scheduling:meeting_accept", args=[district_meeting.pk]), {"next": queue_url}
    )
    assert response.status_code == 302 and response["Location"] == queue_url
    district_meeting.refresh_from_db()
    assert district_meeting.status == MeetingStatus.ACCEPTED and district_meeting.code
    queue = client.get(queue_url).content.decode()
    assert district_meeting.pk not in [int(pk) for pk in re.findall(r'data-meeting="(\d+)"', queue)]
    page = (
        login(client, t.district_office)
        .get(reverse("scheduling:meeting_detail", args=[district_meeting.pk]))
        .content.decode()
    )
    assert district_meeting.code in page and "Accepted, code issued" in page
    # The readiness grid lists every endpoint × check (KH: before the session).
    assert page.count("data-check-status=") == 2


def test_accept_is_for_operators_only(client, t, district_meeting):
    login(client, t.district_office)
    url = reverse("scheduling:meeting_accept", args=[district_meeting.pk])
    assert client.post(url).status_code == 403
    district_meeting.refresh_from_db()
    assert district_meeting.status == MeetingStatus.SUBMITTED


def test_refuse_needs_a_reason(client, t, district_meeting):
    login(client, t.operator)
    url = reverse("scheduling:meeting_refuse", args=[district_meeting.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(url, {"reason": "Trùng lịch họp của tỉnh"})
    assert response.status_code == 302
    district_meeting.refresh_from_db()
    assert district_meeting.status == MeetingStatus.REFUSED
    page = (
        login(client, t.district_office)
        .get(reverse("scheduling:meeting_detail", args=[district_meeting.pk]))
        .content.decode()
    )
    assert "Trùng lịch họp của tỉnh" in page and 'data-status="refused"' in page


def test_revocation_needs_confirmation_latest_registered_first(client, t):
    start = working_day_at(5, 9)
    first = lifecycle.accept_meeting(
        register(t.district, t.ep_district, [], start, t.district_office), actor=t.operator
    )
    second = lifecycle.accept_meeting(
        register(t.other_district, t.ep_other, [], start, t.other_office), actor=t.operator
    )
    # The province needs both districts' rooms: they must give way (KH Đ12.4b).
    province = register(
        t.province, t.ep_province, [t.ep_district, t.ep_other], start, t.province_office
    )
    login(client, t.operator)
    queue = client.get(reverse("scheduling:operator_queue")).content.decode()
    assert 'data-plan="revocations"' in queue
    url = reverse("scheduling:meeting_accept", args=[province.pk])
    page = client.get(url)
    text = page.content.decode()
    assert "Điều 12.4b Quy chế KH" in text
    listed = [int(pk) for pk in re.findall(r'data-revocation="(\d+)"', text)]
    assert listed == [second.pk, first.pk]
    # Accepting without confirming them is refused with the article; nothing changes.
    refused = client.post(url)
    assert refused.status_code == 200
    assert "Điều 12.4b Quy chế KH" in str(refused.context["form"].non_field_errors())
    province.refresh_from_db()
    assert province.status == MeetingStatus.SUBMITTED
    response = client.post(url, {"confirm_revocations": [second.pk, first.pk]})
    assert response.status_code == 302
    province.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert province.status == MeetingStatus.ACCEPTED
    assert first.status == second.status == MeetingStatus.REVOKED and first.code is None
    victim = (
        login(client, t.district_office)
        .get(reverse("scheduling:meeting_detail", args=[first.pk]))
        .content.decode()
    )
    assert "Code revoked" in victim and "Điều 12.4b Quy chế KH" in victim


def test_cancel_releases(client, t, accepted):
    login(client, t.district_office)
    url = reverse("scheduling:meeting_cancel", args=[accepted.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Lãnh đạo bận"}).status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == MeetingStatus.CANCELLED
    assert login(client, t.other_office).post(url, {"reason": "x"}).status_code == 404


# ---------------------------------------------------------------- checks and incidents (R15)


def test_check_form_failure_opens_an_incident_the_operator_closes(client, t, accepted):
    check = accepted.checks.get(endpoint=t.ep_commune, kind=WindowKind.SESSION)
    url = reverse("scheduling:check_record", args=[accepted.pk, check.pk])
    login(client, t.commune_tech)
    detail = client.get(reverse("scheduling:meeting_detail", args=[accepted.pk])).content.decode()
    assert url in detail  # the technician's own endpoint links to its check
    page = client.get(url)
    text = page.content.decode()
    for label in ["Terminal", "Power", "Backup power", "Sound", "Light", "Picture", "Connection"]:
        assert label in text
    items = active_rulebook().technical_check.items
    answers = {f"item_{item}": "yes" for item in items}
    response = client.post(url, {**answers, "item_backup_power": "no", "remarks": ""})
    assert response.status_code == 200 and "remarks" in response.context["form"].errors
    response = client.post(url, {**answers, "item_backup_power": "no", "remarks": "UPS hỏng"})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.status == CheckStatus.FAILED and check.results["backup_power"] is False
    incident = Incident.objects.get()
    assert incident.endpoint == t.ep_commune
    # The ward's technician may not record the district's check.
    district_check = accepted.checks.get(endpoint=t.ep_district, kind=WindowKind.SESSION)
    assert (
        client.get(
            reverse("scheduling:check_record", args=[accepted.pk, district_check.pk])
        ).status_code
        == 403
    )
    # The host sees every endpoint's readiness at a glance.
    host_view = (
        login(client, t.district_office)
        .get(reverse("scheduling:meeting_detail", args=[accepted.pk]))
        .content.decode()
    )
    assert 'data-check-status="failed"' in host_view
    assert 'data-check-status="scheduled"' in host_view
    # The operator tracks it to closure from the queue page.
    login(client, t.operator)
    queue = client.get(reverse("scheduling:operator_queue")).content.decode()
    assert f'data-incident="{incident.pk}"' in queue and "UPS hỏng" in queue
    update = reverse("scheduling:incident_update", args=[incident.pk])
    response = client.post(update, {"status": IncidentStatus.CLOSED, "resolution": ""})
    assert response.status_code == 200 and "resolution" in response.context["form"].errors
    response = client.post(update, {"status": IncidentStatus.CLOSED, "resolution": "Thay UPS"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert login(client, t.commune_tech).post(update, {"status": "closed"}).status_code == 403


def test_participant_reports_an_incident(client, t, accepted):
    login(client, t.commune_tech)
    url = reverse("scheduling:incident_report", args=[accepted.pk])
    page = client.get(url)
    assert page.status_code == 200
    choices = [value for value, _ in page.context["form"].fields["endpoint"].choices]
    assert choices == [str(t.ep_commune.pk)]  # only its own endpoint
    response = client.post(url, {"endpoint": t.ep_commune.pk, "description": "Mất tiếng"})
    assert response.status_code == 302
    assert Incident.objects.get().description == "Mất tiếng"
    assert login(client, t.other_tech).get(url).status_code == 404


# ---------------------------------------------------------------- dashboard


def test_dashboard_shows_meetings_decisions_and_checks(client, t, accepted, district_meeting):
    pending = register(t.other_district, t.ep_other, [], working_day_at(6, 9), t.other_office)
    now = timezone.now()
    Meeting.objects.filter(pk=accepted.pk).update(
        starts_at=now + dt.timedelta(minutes=90), ends_at=now + dt.timedelta(minutes=150)
    )
    accepted.checks.update(due_at=now + dt.timedelta(minutes=30))
    login(client, t.operator)
    response = client.get(reverse("dashboard"))
    assert response.context["decisions_pending"] == 1
    assert pending.title in response.content.decode()
    login(client, t.commune_tech)
    response = client.get(reverse("dashboard"))
    today = [m.pk for m in response.context["meetings_today"]]
    upcoming = [m.pk for m in response.context["meetings_upcoming"]]
    assert accepted.pk in today + upcoming
    due = response.context["checks_due"]
    assert [c.endpoint for c in due] == [t.ep_commune]  # only its own endpoint's check
    assert reverse("scheduling:check_record", args=[accepted.pk, due[0].pk]) in (
        response.content.decode()
    )
