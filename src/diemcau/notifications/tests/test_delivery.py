"""The worker's side: e-mail with the meeting's calendar file, the signed webhook to a real
HTTP server, retries with backoff, giving up, and the sweep."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.utils import timezone

from diemcau.notifications import delivery, services, tasks
from diemcau.notifications.models import Channel, DeliveryStatus, Notification
from diemcau.notifications.services import Channels
from diemcau.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def outside_row(user, channel, **extra):
    """A pending e-mail or webhook row, as notify writes it (arranged directly, so that the
    test drives each delivery itself)."""
    values = dict(
        user=user,
        channel=channel,
        kind="meeting.accepted",
        subject="Meeting accepted: Giao ban",
        body="“Giao ban” on 01/12/2026 09:00 is accepted.",
        link="/meetings/7/",
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    values.update(extra)
    return Notification.objects.create(**values)


def make_due(row):
    """Let the time of the next attempt come."""
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())


def test_backoff_doubles_from_one_minute():
    assert [delivery.retry_delay(n).total_seconds() / 60 for n in range(1, 6)] == [1, 2, 4, 8, 16]
    assert delivery.retry_delay(30) == delivery.MAX_RETRY_DELAY


# ---------------------------------------------------------------- e-mail


def test_email_is_sent_with_absolute_link(settings):
    settings.PUBLIC_URL, settings.PUBLIC_URL_SET = "https://hop.example.gov.vn/", True
    user = UserFactory(email="lan@khanhhoa.gov.vn")
    row = outside_row(user, Channel.EMAIL)
    assert delivery.deliver(row.pk) == DeliveryStatus.SENT
    message = mail.outbox[0]
    assert message.to == ["lan@khanhhoa.gov.vn"]
    assert message.subject == "Meeting accepted: Giao ban"
    assert "https://hop.example.gov.vn/meetings/7/" in message.body
    assert "https://hop.example.gov.vn/notifications/preferences/" in message.body
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.sent_at and row.attempts == 1
    # a second task for the same row (the sweep's) sends nothing more
    assert delivery.deliver(row.pk) is None
    assert len(mail.outbox) == 1


def test_email_carries_the_calendar_file_handed_over_with_the_message(meeting):
    """The sender hands the ICS over with the message (this app builds none itself)."""
    from diemcau.scheduling.ics import meeting_ics

    user = UserFactory(email="lan@khanhhoa.gov.vn")
    ics = services.Attachment(f"meeting-{meeting.pk}.ics", "text/calendar", meeting_ics(meeting))
    rows = services.notify([user], kind="meeting.accepted", subject="s", body="b",
                           meeting_id=meeting.pk, attachments=[ics])
    (row,) = [r for r in rows if r.channel == Channel.EMAIL]
    assert delivery.deliver(row.pk) == DeliveryStatus.SENT
    (message,) = mail.outbox
    ((filename, content, mimetype),) = message.attachments
    assert filename == f"meeting-{meeting.pk}.ics" and mimetype == "text/calendar"
    text = content.decode() if isinstance(content, bytes) else content
    assert "BEGIN:VCALENDAR" in text and "BEGIN:VEVENT" in text
    assert meeting.code not in text  # R13: the code never leaves in a calendar file


def test_email_without_address_fails_at_once():
    user = UserFactory()
    row = outside_row(user, Channel.EMAIL)
    user.email = ""
    user.save()
    assert delivery.deliver(row.pk) == DeliveryStatus.FAILED
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "địa chỉ email" in row.last_error


def test_email_server_down_is_retried(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    settings.EMAIL_USE_TLS = False
    row = outside_row(UserFactory(), Channel.EMAIL)
    before = timezone.now()
    assert delivery.deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert row.attempts == 1 and row.last_error
    assert row.next_attempt_at > before + dt.timedelta(seconds=50)


# ---------------------------------------------------------------- webhook


def test_webhook_is_posted_signed_to_a_real_server(webhook):
    user = UserFactory(username="lan.tran", first_name="Lan", last_name="Trần")
    row = outside_row(user, Channel.WEBHOOK)
    assert delivery.deliver(row.pk) == DeliveryStatus.SENT
    (request,) = webhook.requests
    assert request.path == "/hook"
    expected = hmac.new(b"test-webhook-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Diemcau-Signature"] == f"sha256={expected}"
    assert request.headers["Content-Type"].startswith("application/json")
    payload = json.loads(request.body)
    assert payload["kind"] == "meeting.accepted"
    assert payload["subject"] == "Meeting accepted: Giao ban"
    assert payload["body"].startswith("“Giao ban”")
    assert payload["link"] == "https://hop.example.gov.vn/meetings/7/"
    assert payload["user"] == {
        "username": "lan.tran",
        "full_name": "Lan Trần",
        "agency": user.agency.name,
    }
    assert payload["id"] == row.pk
    assert dt.datetime.fromisoformat(payload["sent_at"]) <= timezone.now()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.last_error == ""


def test_webhook_answering_500_is_retried_until_it_works(webhook):
    webhook.status = 500
    row = outside_row(UserFactory(), Channel.WEBHOOK)
    before = timezone.now()
    assert delivery.deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert "HTTP 500" in row.last_error
    assert (
        before + dt.timedelta(seconds=55)
        < row.next_attempt_at
        <= timezone.now() + dt.timedelta(minutes=1)
    )
    # not due yet: a task that runs now leaves it alone
    assert delivery.deliver(row.pk) is None
    make_due(row)
    assert delivery.deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at > timezone.now() + dt.timedelta(seconds=110)

    webhook.status = 204
    make_due(row)
    assert delivery.deliver(row.pk) == DeliveryStatus.SENT
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 3 and row.last_error == ""
    assert len(webhook.requests) == 3


def test_webhook_refusing_connections_is_retried_after_it_comes_back(webhook):
    webhook.stop()
    row = outside_row(UserFactory(), Channel.WEBHOOK)
    assert delivery.deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert row.attempts == 1 and "cannot reach the webhook" in row.last_error
    assert row.next_attempt_at > timezone.now()

    webhook.start()  # same port
    make_due(row)
    assert delivery.deliver(row.pk) == DeliveryStatus.SENT
    assert len(webhook.requests) == 1


def test_webhook_redirect_counts_as_failure(webhook):
    webhook.status = 302
    row = outside_row(UserFactory(), Channel.WEBHOOK)
    assert delivery.deliver(row.pk) == DeliveryStatus.PENDING
    row.refresh_from_db()
    assert "HTTP 302" in row.last_error


def test_gives_up_after_max_attempts(webhook):
    webhook.status = 503
    row = outside_row(UserFactory(), Channel.WEBHOOK)
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        make_due(row)
        status = delivery.deliver(row.pk)
        assert status == (
            DeliveryStatus.FAILED if attempt == delivery.MAX_ATTEMPTS else DeliveryStatus.PENDING
        )
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == delivery.MAX_ATTEMPTS
    assert row.next_attempt_at is None and "HTTP 503" in row.last_error
    assert len(webhook.requests) == delivery.MAX_ATTEMPTS
    make_due(row)
    assert delivery.deliver(row.pk) is None  # failed for good: never again


def test_in_app_rows_and_missing_rows_are_not_the_worker_s():
    user = UserFactory()
    (in_app,) = services.notify([user], kind="meeting.submitted", subject="s", body="b")
    assert delivery.deliver(in_app.pk) is None
    assert delivery.deliver(999_999) is None


# ---------------------------------------------------------------- the sweep


def test_sweep_enqueues_due_rows_only(webhook, monkeypatch):
    now = timezone.now()
    user = UserFactory()
    due = outside_row(user, Channel.WEBHOOK, next_attempt_at=now - dt.timedelta(minutes=3))
    lost = outside_row(user, Channel.EMAIL, next_attempt_at=None)
    later = outside_row(user, Channel.WEBHOOK, next_attempt_at=now + dt.timedelta(minutes=3))
    done = outside_row(user, Channel.WEBHOOK, status=DeliveryStatus.SENT)
    gave_up = outside_row(user, Channel.WEBHOOK, status=DeliveryStatus.FAILED)
    assert set(delivery.due_ids()) == {due.pk, lost.pk}

    enqueued = []
    monkeypatch.setattr(tasks, "deliver_notification", enqueued.append)
    tasks.sweep_notifications.call_local()
    assert sorted(enqueued) == sorted([due.pk, lost.pk])
    monkeypatch.undo()

    # with the queue (immediate mode here) the sweep gets them delivered
    tasks.sweep_notifications.call_local()
    for row, status in [
        (due, DeliveryStatus.SENT),
        (lost, DeliveryStatus.SENT),
        (later, DeliveryStatus.PENDING),
        (done, DeliveryStatus.SENT),
        (gave_up, DeliveryStatus.FAILED),
    ]:
        row.refresh_from_db()
        assert row.status == status
    assert len(webhook.requests) == 1 and len(mail.outbox) == 1


def test_queue_down_loses_nothing(webhook, monkeypatch, django_capture_on_commit_callbacks):
    """The hand-over on commit fails (queue unreachable): the rows wait for the sweep."""
    user = UserFactory()
    services.set_preferences(user, {"decisions": Channels(email=True, webhook=True)}, actor=user)

    def queue_down(notification_id):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(tasks, "deliver_notification", queue_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([user], kind="meeting.accepted", subject="s", body="b")
    pending = Notification.objects.filter(user=user, status=DeliveryStatus.PENDING)
    assert pending.count() == 2 and not webhook.requests and not mail.outbox

    monkeypatch.undo()
    tasks.sweep_notifications.call_local()
    assert not Notification.objects.filter(user=user, status=DeliveryStatus.PENDING).exists()
    assert len(webhook.requests) == 1 and len(mail.outbox) == 1
