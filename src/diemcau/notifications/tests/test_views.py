"""The pages: the user's own notifications, read markers, the settings, the bell."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from diemcau.core.models import AuditEvent
from diemcau.notifications import services
from diemcau.notifications.models import Channel, KindGroup, Notification
from diemcau.notifications.services import Channels
from diemcau.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def note(user, subject, link="/meetings/1/"):
    (row,) = [
        r
        for r in services.notify(
            [user], kind="meeting.submitted", subject=subject, body="b", link=link
        )
        if r.channel == Channel.IN_APP
    ]
    return row


@pytest.fixture
def user(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_list_shows_own_notifications_unread_first(client, user):
    old = note(user, "Old unread")
    read = note(user, "Read one")
    services.mark_read(read, actor=user)
    newest = note(user, "Newest unread")
    note(UserFactory(), "Someone else's")
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    shown = [n.subject for n in response.context["page_obj"]]
    assert shown == [newest.subject, old.subject, read.subject]
    assert response.context["unread"] == 2


def test_mark_one_read_and_open_its_link(client, user):
    row = note(user, "Họp mới", link="/meetings/5/")
    response = client.post(reverse("notifications:read", args=[row.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/meetings/5/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_open_never_leaves_the_site(client, user):
    row = note(user, "Lạ", link="https://evil.example.com/")
    response = client.post(reverse("notifications:read", args=[row.pk]), {"open": "1"})
    assert response["Location"] == reverse("notifications:list")


def test_others_notifications_are_not_found(client, user):
    row = note(UserFactory(), "Không phải của bạn")
    response = client.post(reverse("notifications:read", args=[row.pk]))
    assert response.status_code == 404
    assert client.get(reverse("notifications:read", args=[row.pk])).status_code == 405


def test_mark_all_read(client, user):
    note(user, "1")
    note(user, "2")
    other = note(UserFactory(), "3")
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_preferences_page_saves_choices(client, user, settings):
    settings.WEBHOOK_URL = "http://127.0.0.1:9/hook"
    url = reverse("notifications:preferences")
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["email_decisions"].initial is True and form["webhook_decisions"].initial is False

    response = client.post(url, {"email_deadlines": "on", "webhook_incidents": "on"})
    assert response.status_code == 302
    prefs = services.preferences_of(user)
    assert prefs[KindGroup.DEADLINES] == Channels(email=True, webhook=False)
    assert prefs[KindGroup.INCIDENTS] == Channels(email=False, webhook=True)
    assert prefs[KindGroup.DECISIONS] == Channels(email=False, webhook=False)  # unticked
    assert AuditEvent.objects.filter(action="notification_preferences.update").count() == 1


def test_webhook_choice_cannot_change_without_a_webhook(client, user, settings):
    settings.WEBHOOK_URL = ""
    response = client.post(
        reverse("notifications:preferences"), {"email_decisions": "on", "webhook_decisions": "on"}
    )
    assert response.status_code == 302
    assert services.preferences_of(user)[KindGroup.DECISIONS] == Channels(True, False)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "chưa được cấu hình" in page  # the pages speak Vietnamese first


def test_pages_need_login(client):
    for name in ("notifications:list", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_bell_shows_unread_count():
    user = UserFactory()
    request = RequestFactory().get("/")
    request.user = user
    html = render_to_string("notifications/_bell.html", request=request)
    assert "bi-bell" in html and "badge" not in html
    for i in range(3):
        note(user, f"n{i}")
    html = render_to_string("notifications/_bell.html", request=request)
    assert reverse("notifications:list") in html
    assert ">3</span>" in html
    for i in range(100):
        note(user, f"m{i}")
    assert "99+" in render_to_string("notifications/_bell.html", request=request)


def test_preferences_page_sets_the_language_of_messages(client):
    user = UserFactory(email="lan@khanhhoa.gov.vn")
    client.force_login(user)
    response = client.post(reverse("notifications:preferences"), {"language": "en"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    assert AuditEvent.objects.filter(action="user.language", object_id=str(user.pk)).exists()
    refused = client.post(reverse("notifications:preferences"), {"language": "fr"})
    assert refused.status_code == 200 and refused.context["form"].errors["language"]
    user.refresh_from_db()
    assert user.language == "en"
