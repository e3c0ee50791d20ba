"""notify and the preferences: who gets which rows, in the caller's transaction."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.notifications import services
from diemcau.notifications.models import (
    Channel,
    DeliveryStatus,
    KindGroup,
    Notification,
    NotificationPreference,
    group_of,
)
from diemcau.notifications.services import Channels
from diemcau.testing.factories import UserFactory


def channels_of(user, kind):
    return sorted(
        Notification.objects.filter(user=user, kind=kind).values_list("channel", flat=True)
    )


def send(users, kind="meeting.accepted", **extra):
    return services.notify(
        users, kind=kind, subject="Họp đã được chấp nhận", body="Nội dung", link="/m/1/", **extra
    )


def test_kinds_fall_into_groups():
    assert group_of("meeting.accepted") == KindGroup.DECISIONS
    assert group_of("meeting.revoked") == KindGroup.DECISIONS
    assert group_of("meeting.submitted") == KindGroup.REGISTRATIONS
    assert group_of("meeting.reply_overdue") == KindGroup.DEADLINES
    assert group_of("incident.opened") == KindGroup.INCIDENTS
    assert group_of("incident.closed") == KindGroup.INCIDENTS
    assert group_of("something.new") == KindGroup.OTHER


@pytest.mark.django_db
def test_defaults_email_for_decisions_only_and_no_webhook(
    settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_URL = "http://127.0.0.1:9/never-called"
    user = UserFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        send([user], kind="meeting.accepted")
        send([user], kind="meeting.submitted")
    assert channels_of(user, "meeting.accepted") == [Channel.EMAIL, Channel.IN_APP]
    assert channels_of(user, "meeting.submitted") == [Channel.IN_APP]
    in_app = Notification.objects.get(user=user, kind="meeting.accepted", channel=Channel.IN_APP)
    assert in_app.status == DeliveryStatus.SENT and in_app.sent_at is not None
    email = Notification.objects.get(user=user, kind="meeting.accepted", channel=Channel.EMAIL)
    assert email.status == DeliveryStatus.PENDING and email.next_attempt_at is not None
    # one hand-over to the worker, for the call that wrote a pending row
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_preferences_decide_the_channels(settings):
    settings.WEBHOOK_URL = "http://127.0.0.1:9/never-called"
    chooser, default_user = UserFactory(), UserFactory()
    services.set_preferences(
        chooser,
        {
            KindGroup.DECISIONS: Channels(email=False, webhook=True),
            KindGroup.INCIDENTS: Channels(email=True, webhook=True),
        },
        actor=chooser,
    )
    send([chooser, default_user], kind="meeting.refused")
    send([chooser, default_user], kind="incident.opened")
    assert channels_of(chooser, "meeting.refused") == [Channel.IN_APP, Channel.WEBHOOK]
    assert channels_of(default_user, "meeting.refused") == [Channel.EMAIL, Channel.IN_APP]
    assert channels_of(chooser, "incident.opened") == [
        Channel.EMAIL,
        Channel.IN_APP,
        Channel.WEBHOOK,
    ]
    assert channels_of(default_user, "incident.opened") == [Channel.IN_APP]


@pytest.mark.django_db
def test_no_email_row_without_address_and_no_webhook_row_without_url(settings):
    settings.WEBHOOK_URL = ""
    user = UserFactory(email="")
    services.set_preferences(
        user, {KindGroup.DECISIONS: Channels(email=True, webhook=True)}, actor=user
    )
    send([user])
    assert channels_of(user, "meeting.accepted") == [Channel.IN_APP]


@pytest.mark.django_db
def test_each_person_once_and_inactive_people_only_in_app():
    user, gone = UserFactory(), UserFactory(is_active=False)
    send([user, user, None, gone])
    assert channels_of(user, "meeting.accepted") == [Channel.EMAIL, Channel.IN_APP]
    assert channels_of(gone, "meeting.accepted") == [Channel.IN_APP]


@pytest.mark.django_db
def test_set_preferences_is_audited_and_only_for_oneself():
    user, other = UserFactory(), UserFactory()
    after = services.set_preferences(
        user, {"deadlines": Channels(email=True, webhook=False)}, actor=user
    )
    assert after[KindGroup.DEADLINES] == Channels(email=True, webhook=False)
    assert after[KindGroup.DECISIONS] == Channels(email=True, webhook=False)  # default kept
    event = AuditEvent.objects.get(action="notification_preferences.update")
    assert event.actor == user and event.object_id == str(user.pk)
    assert event.before["deadlines"] == {"email": False, "webhook": False}
    assert event.after["deadlines"] == {"email": True, "webhook": False}
    # saving the same choice again changes nothing and writes nothing
    services.set_preferences(user, {"deadlines": Channels(email=True, webhook=False)}, actor=user)
    assert AuditEvent.objects.filter(action="notification_preferences.update").count() == 1
    assert verify_chain().ok

    with pytest.raises(PermissionDenied):
        services.set_preferences(user, {"deadlines": Channels(False, False)}, actor=other)
    with pytest.raises(InvalidInput):
        services.set_preferences(user, {"gossip": Channels(False, False)}, actor=user)
    assert NotificationPreference.objects.get(user=user, group="deadlines").email is True


@pytest.mark.django_db
def test_committed_messages_are_delivered_by_the_worker(webhook,
                                                        django_capture_on_commit_callbacks):
    user = UserFactory(first_name="Lan", last_name="Trần")
    services.set_preferences(user, {"decisions": Channels(email=True, webhook=True)}, actor=user)
    # The end of the block stands for the commit: what waits for it runs there.
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            send([user])
        assert not mail.outbox and not webhook.requests  # not before the commit
    assert len(mail.outbox) == 1 and len(webhook.requests) == 1
    assert set(Notification.objects.filter(user=user).values_list("channel", "status")) == {
        (Channel.IN_APP, DeliveryStatus.SENT),
        (Channel.EMAIL, DeliveryStatus.SENT),
        (Channel.WEBHOOK, DeliveryStatus.SENT),
    }


@pytest.mark.django_db
def test_nothing_is_sent_when_the_transaction_rolls_back(webhook,
                                                         django_capture_on_commit_callbacks):
    user = UserFactory()
    services.set_preferences(user, {"decisions": Channels(email=True, webhook=True)}, actor=user)

    class Refused(Exception):
        pass

    with (django_capture_on_commit_callbacks(execute=True) as handed_over,
          pytest.raises(Refused), transaction.atomic()):
        send([user])
        raise Refused
    assert handed_over == []
    assert not Notification.objects.filter(user=user).exists()
    assert mail.outbox == [] and webhook.requests == []
