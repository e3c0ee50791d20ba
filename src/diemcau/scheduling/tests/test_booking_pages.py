# ruff: noqa: F811  (the fixtures of test_views, imported by name)
"""A booking is never a dead end (issue: everyday use): a submitted registration edited
before the decision (the reply clock restarts, the operator sees it), a refusal with a usual
reason and another time, a refused meeting copied into a new registration, a series decided
as a whole with its exceptions, the ICS at every state, the printable invitation; and the
notices that close the loop (an incident resolved, an ended meeting's code)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from diemcau.core.models import AuditEvent
from diemcau.notifications.models import Notification
from diemcau.scheduling.choices import IncidentStatus, MeetingStatus, WindowKind
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services import checks, lifecycle, registration

from .test_views import (  # noqa: F401  (fixtures)
    _khanh_hoa,
    accepted,
    client,
    district_meeting,
    form_data,
    local_input,
    login,
    register,
    t,
    working_day_at,
)


def _page(client, meeting) -> str:
    return client.get(reverse("scheduling:meeting_detail", args=[meeting.pk])).content.decode()


def test_a_submitted_registration_is_edited_and_its_reply_clock_restarts(
        client, t, district_meeting):
    old_due = timezone.now() - dt.timedelta(hours=1)
    Meeting.objects.filter(pk=district_meeting.pk).update(
        reply_due_at=old_due, registered_at=old_due - dt.timedelta(hours=3))
    login(client, t.district_office)
    assert "data-edit" in _page(client, district_meeting)
    edit_url = reverse("scheduling:meeting_edit", args=[district_meeting.pk])
    form = client.get(edit_url).content.decode()
    assert "data-reply-restarts" in form and "data-draft-button" not in form
    start = district_meeting.starts_at
    response = client.post(edit_url, form_data(t, start, title="Giao ban (sửa địa điểm)",
                                               place="Phòng họp số 2"))
    assert response.status_code == 302
    district_meeting.refresh_from_db()
    assert district_meeting.status == MeetingStatus.SUBMITTED
    assert district_meeting.place == "Phòng họp số 2"
    assert district_meeting.reply_due_at > timezone.now()
    assert district_meeting.registered_at > old_due
    event = AuditEvent.objects.filter(action="meeting.amend").get()
    assert event.before["place"] != event.after["place"]
    told = Notification.objects.filter(user=t.operator, kind="meeting.amended").first()
    assert told is not None and "place" in told.params["changed"]
    # The operator sees the edit in the queue and in the history.
    login(client, t.operator)
    queue = client.get(reverse("scheduling:operator_queue")).content.decode()
    assert "data-amended" in queue
    assert "Edited after submission; the reply deadline" in _page(client, district_meeting)


def test_once_decided_a_meeting_is_no_longer_edited(client, t, accepted):
    login(client, t.district_office)
    assert "data-edit" not in _page(client, accepted)
    response = client.get(reverse("scheduling:meeting_edit", args=[accepted.pk]))
    assert response.status_code == 302


def test_refusal_with_a_usual_reason_and_another_time_then_copied(client, t, district_meeting):
    login(client, t.operator)
    refuse_url = reverse("scheduling:meeting_refuse", args=[district_meeting.pk])
    page = client.get(refuse_url).content.decode()
    assert "capacity" in page and "proposed_starts_at" in page
    later = working_day_at(7, 14)
    response = client.post(refuse_url, {
        "canned": "capacity", "reason": "Mời đăng ký lại buổi chiều.",
        "proposed_starts_at": local_input(later),
        "proposed_ends_at": local_input(later + dt.timedelta(hours=2)),
    })
    assert response.status_code == 302
    district_meeting.refresh_from_db()
    assert district_meeting.status == MeetingStatus.REFUSED
    assert district_meeting.decision_reason.startswith("The MCU has no free capacity")
    assert district_meeting.proposed_starts_at == later
    told = Notification.objects.filter(user=t.district_office, kind="meeting.refused").first()
    assert told is not None and told.params["proposed_start"]
    # The host sees the proposal and copies the meeting in one click.
    login(client, t.district_office)
    page = _page(client, district_meeting)
    assert "data-proposed-time" in page and "data-copy" in page
    copy_url = reverse("scheduling:meeting_create") + f"?copy={district_meeting.pk}"
    form = client.get(copy_url)
    assert f'value="{local_input(later)}"' in form.content.decode()
    assert form.context["form"]["title"].value() == district_meeting.title
    assert f'data-copy-of="{district_meeting.pk}"' in form.content.decode()
    response = client.post(copy_url, form_data(t, later, title=district_meeting.title))
    assert response.status_code == 302
    copy = Meeting.objects.exclude(pk=district_meeting.pk).get()
    assert copy.status == MeetingStatus.SUBMITTED and copy.starts_at == later
    # Another office cannot copy what it cannot see.
    login(client, t.other_office)
    assert client.get(copy_url).status_code == 404


def test_a_refusal_needs_a_reason_and_a_whole_proposal(client, t, district_meeting):
    login(client, t.operator)
    refuse_url = reverse("scheduling:meeting_refuse", args=[district_meeting.pk])
    response = client.post(refuse_url, {"canned": "", "reason": ""})
    assert "reason" in response.context["form"].errors
    response = client.post(refuse_url, {"canned": "too_late",
                                        "proposed_starts_at": local_input(working_day_at(6, 9))})
    assert "proposed_ends_at" in response.context["form"].errors
    district_meeting.refresh_from_db()
    assert district_meeting.status == MeetingStatus.SUBMITTED


def test_a_series_is_decided_as_a_whole_with_its_exceptions(client, t):
    start = working_day_at(5, 8)
    data = registration.MeetingInput(
        title="Giao ban tuần", host_agency=t.district, host_endpoint=t.ep_district,
        participants=[t.ep_commune], starts_at=start, ends_at=start + dt.timedelta(hours=1),
        place="Hội trường", contact_name="Trần Thị B", contact_phone="0905123456")
    series = registration.create_series(data, recurrence="weekly",
                                        until=(start + dt.timedelta(weeks=2)).date(),
                                        actor=t.district_office)
    meetings = list(series.meetings.order_by("starts_at"))
    login(client, t.operator)
    queue = client.get(reverse("scheduling:operator_queue")).content.decode()
    decide_url = reverse("scheduling:series_decide", args=[series.pk])
    assert decide_url in queue
    page = client.get(decide_url).content.decode()
    assert page.count("data-meeting=") == 3
    # An exception needs a reason.
    response = client.post(decide_url, {"exceptions": [meetings[1].pk]})
    assert "reason" in response.context["form"].errors
    response = client.post(decide_url, {"exceptions": [meetings[1].pk], "canned": "maintenance"})
    assert response.status_code == 302
    statuses = [m.status for m in Meeting.objects.filter(series=series).order_by("starts_at")]
    assert statuses == [MeetingStatus.ACCEPTED, MeetingStatus.REFUSED, MeetingStatus.ACCEPTED]
    assert AuditEvent.objects.filter(action="meeting.series_decide").count() == 1
    # Offices do not decide.
    login(client, t.district_office)
    assert client.get(decide_url).status_code == 403


def test_ics_and_printable_invitation_at_every_state(client, t, district_meeting):
    login(client, t.district_office)
    page = _page(client, district_meeting)
    assert reverse("calendar:meeting_ics", args=[district_meeting.pk]) in page
    ics = client.get(reverse("calendar:meeting_ics", args=[district_meeting.pk]))
    assert ics.status_code == 200 and b"STATUS:TENTATIVE" in ics.content
    url = reverse("scheduling:meeting_invitation_pdf", args=[district_meeting.pk])
    assert url in page
    html = client.get(url, {"format": "html"}).content.decode()
    for words in ("GIẤY MỜI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Kính gửi",
                  t.commune.name, district_meeting.title, "Nơi nhận"):
        assert words in html, words
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    login(client, t.other_office)
    assert client.get(url).status_code == 404


def test_the_reporter_is_told_when_the_incident_is_resolved(t, accepted):
    incident = checks.report_incident(accepted, description="Mất tiếng", actor=t.commune_tech,
                                       endpoint_id=t.ep_commune.pk)
    checks.update_incident(incident, status=IncidentStatus.IN_PROGRESS, resolution="",
                           actor=t.operator)
    assert not Notification.objects.filter(user=t.commune_tech, kind="incident.closed").exists()
    checks.update_incident(incident, status=IncidentStatus.CLOSED,
                           resolution="Thay cáp micro", actor=t.operator)
    told = Notification.objects.filter(user=t.commune_tech, kind="incident.closed").get()
    assert "Thay cáp micro" in told.text(outside=False).body


def test_an_ended_meeting_no_longer_shows_its_code_to_the_office(client, t, accepted):
    login(client, t.district_office)
    assert "data-meeting-code" in _page(client, accepted)
    lifecycle.end_meeting(accepted, actor=t.operator)
    assert "data-meeting-code" not in _page(client, accepted)
    login(client, t.operator)
    assert "data-meeting-code" in _page(client, accepted)


def test_a_check_past_its_deadline_reads_overdue_in_red(client, t, accepted):
    check = accepted.checks.get(endpoint=t.ep_commune, kind=WindowKind.SESSION)
    type(check).objects.filter(pk=check.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    login(client, t.district_office)
    page = _page(client, accepted)
    assert "text-bg-danger readiness-cell" in page and "Overdue" in page
    assert "Due now" not in page


@pytest.mark.parametrize("status", [MeetingStatus.CANCELLED, MeetingStatus.REFUSED])
def test_refused_and_cancelled_meetings_offer_a_copy(client, t, district_meeting, status):
    if status == MeetingStatus.CANCELLED:
        lifecycle.cancel_meeting(district_meeting, reason="Đổi lịch", actor=t.district_office)
    else:
        lifecycle.refuse_meeting(district_meeting, reason="Trùng lịch", actor=t.operator)
    login(client, t.district_office)
    assert "data-copy" in _page(client, district_meeting)
