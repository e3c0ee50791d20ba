"""The archive's pages and API, scoped like meetings: the console with the space used and
left, one meeting's archive, the status the page polls, the meeting page's panel, the
dashboard; a state-secret meeting does not exist for outsiders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from diemcau.archive.services import handover

pytestmark = pytest.mark.django_db


def test_operator_console_shows_space_and_handover(world, client):
    client.force_login(world.operator)
    page = client.get(reverse("archive:index"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-space-used" in body and "data-space-left" in body
    assert world.meeting.title in body
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "data-handover-pending" in dashboard


def test_meeting_archive_page_for_host_and_outsider(world, client):
    handover.hand_over(world.record, actor=world.operator)
    client.force_login(world.host)
    page = client.get(reverse("archive:meeting", args=[world.meeting.pk])).content.decode()
    assert "data-player" in page and "Acknowledge" in page or "Xác nhận" in page
    status = client.get(reverse("archive:status", args=[world.meeting.pk])).json()
    assert status["state"] == "handed_over" and status["progress"] == 0
    client.force_login(world.outsider)
    page = client.get(reverse("archive:meeting", args=[world.meeting.pk]))
    assert page.status_code == 200 and b"data-player" not in page.content
    assert b'name="reason"' in page.content  # may ask the host
    secret = world.secret_setup.meeting
    assert client.get(reverse("archive:meeting", args=[secret.pk])).status_code == 404


def test_meeting_page_has_the_archive_panel(world, client):
    client.force_login(world.host)
    page = client.get(reverse("scheduling:meeting_detail", args=[world.meeting.pk]))
    assert b'id="archive"' in page.content


def test_api_is_scoped_like_meetings(world, client):
    client.force_login(world.outsider)
    assert client.get(f"/api/v1/meetings/{world.meeting.pk}/recording").status_code == 404
    client.force_login(world.host)
    answer = client.get(f"/api/v1/meetings/{world.meeting.pk}/recording")
    assert answer.status_code == 200 and answer.json()["state"] == "ready"
    client.force_login(world.operator)
    handed = client.post(f"/api/v1/meetings/{world.meeting.pk}/recording/hand-over")
    assert handed.status_code == 200 and handed.json()["state"] == "handed_over"
    client.force_login(world.host)
    link = client.post(f"/api/v1/meetings/{world.meeting.pk}/links",
                       data={"kind": "recording"}, content_type="application/json")
    assert link.status_code == 201
    assert client.get(link.json()["url"], HTTP_RANGE="bytes=0-9").status_code == 206
    assert client.get("/api/v1/archive/storage").status_code == 403
