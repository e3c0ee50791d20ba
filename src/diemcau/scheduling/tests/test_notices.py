"""What people are told about meetings: the outbox is written with the change (a crash after
the commit loses nothing), the text is rendered in each recipient's language, and nothing
that leaves the system (e-mail, its ICS, the webhook) carries a state secret (R20)."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from diemcau.core.roles import Role
from diemcau.notifications import tasks
from diemcau.notifications.models import Channel, DeliveryStatus, Notification
from diemcau.notifications.services import Channels, set_preferences
from diemcau.scheduling import notices
from diemcau.scheduling.choices import Classification
from diemcau.scheduling.services import checks, lifecycle, registration
from diemcau.testing.factories import UserFactory
from diemcau.testing.webhook import WebhookServer

from .test_services import meeting_input, working_day_at

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Phương án bảo vệ mục tiêu Q-17"
SECRET_REASON = "Trùng lịch làm việc với đoàn kiểm tra mục tiêu Q-17"


@pytest.fixture
def webhook():
    server = WebhookServer()
    server.start()
    with override_settings(WEBHOOK_URL=server.url, WEBHOOK_SECRET="s",
                           PUBLIC_URL="https://hop.example.gov.vn", PUBLIC_URL_SET=True):
        yield server
    server.stop()


def _everything_outside(user) -> None:
    set_preferences(user, {g: Channels(email=True, webhook=True)
                           for g in ("decisions", "registrations", "incidents")}, actor=user)


def _secret_meeting(world, **extra):
    return registration.create_meeting(
        meeting_input(world.district, world.ep_district, [world.ep_commune],
                      working_day_at(5, 9), title=SECRET_TITLE,
                      place="Phòng họp số 3, khu A", classification=Classification.STATE_SECRET,
                      **extra),
        actor=world.district_office,
    )


def _outside_texts(webhook: WebhookServer) -> list[str]:
    texts = []
    for message in mail.outbox:
        texts += [message.subject, message.body]
        texts += [content.decode() if isinstance(content, bytes) else content
                  for _, content, _ in message.attachments]
    texts += [request.body.decode() for request in webhook.requests]
    return texts


def test_a_state_secret_meeting_leaves_the_system_without_its_secrets(
    kh_world, webhook, django_capture_on_commit_callbacks
):
    office = kh_world.district_office
    office.email = "vanphong@nhatrang.gov.vn"
    office.save()
    kh_world.operator.email = "vanhanh@stttt.gov.vn"
    kh_world.operator.save()
    for user in (office, kh_world.operator):
        _everything_outside(user)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = lifecycle.accept_meeting(_secret_meeting(kh_world), actor=kh_world.operator)
        checks.report_incident(accepted, description=f"Mất tín hiệu tại {SECRET_TITLE}",
                               actor=office)
        refused = _secret_meeting(kh_world)
        lifecycle.refuse_meeting(refused, reason=SECRET_REASON, actor=kh_world.operator)
        cancelled = _secret_meeting(kh_world)
        lifecycle.cancel_meeting(cancelled, reason=SECRET_REASON, actor=office)

    kinds_out = {m.subject for m in mail.outbox}
    assert len(mail.outbox) >= 5 and len(webhook.requests) >= 5, kinds_out
    texts = _outside_texts(webhook)
    assert accepted.code
    for secret in (SECRET_TITLE, SECRET_REASON, "Phòng họp số 3", accepted.code):
        assert not [t for t in texts if secret in t], secret
    # The recipient is pointed to the system instead, with the meeting's link.
    bodies = [json.loads(r.body) for r in webhook.requests]
    assert all(body["link"].startswith("https://hop.example.gov.vn/") for body in bodies)
    assert any("Phiên họp" in m.subject for m in mail.outbox)
    # Inside the system, the same messages say what they are about.
    inside = Notification.objects.filter(user=office, channel=Channel.IN_APP)
    assert any(SECRET_TITLE in n.text(outside=False).subject for n in inside)


def test_an_ordinary_meeting_is_named_in_the_email(kh_world, django_capture_on_commit_callbacks):
    office = kh_world.district_office
    office.email = "vanphong@nhatrang.gov.vn"
    office.save()
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(5, 9),
                      title="Giao ban tháng 12"),
        actor=office,
    )
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.accept_meeting(meeting, actor=kh_world.operator)
    (message,) = [m for m in mail.outbox if office.email in m.to]
    assert "Giao ban tháng 12" in message.subject
    ((filename, _content, mimetype),) = message.attachments
    assert filename == f"meeting-{meeting.pk}.ics" and mimetype == "text/calendar"


def test_each_recipient_reads_the_message_in_their_language(
    kh_world, django_capture_on_commit_callbacks
):
    english = UserFactory(role=Role.OFFICE, agency=kh_world.district,
                          email="en@nhatrang.gov.vn", language="en")
    vietnamese = UserFactory(role=Role.OFFICE, agency=kh_world.district,
                             email="vi@nhatrang.gov.vn", language="vi")
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(5, 9),
                      title="Giao ban"),
        actor=kh_world.district_office,
    )
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.refuse_meeting(meeting, reason="Trùng lịch", actor=kh_world.operator)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.email].subject == "Meeting refused: Giao ban"
    assert by_address[vietnamese.email].subject != "Meeting refused: Giao ban"
    assert "Giao ban" in by_address[vietnamese.email].subject
    # What was sent is kept as sent.
    row = Notification.objects.get(user=english, channel=Channel.EMAIL)
    assert row.status == DeliveryStatus.SENT and row.subject == "Meeting refused: Giao ban"


def test_a_notice_survives_a_crash_right_after_the_commit(
    kh_world, django_capture_on_commit_callbacks
):
    """The outbox rows are written in the service's transaction: if the process dies after
    the commit, before handing them to the worker, the sweep still sends them."""
    office = kh_world.district_office
    office.email = "vanphong@nhatrang.gov.vn"
    office.save()
    meeting = registration.create_meeting(
        meeting_input(kh_world.district, kh_world.ep_district, [], working_day_at(5, 9)),
        actor=office,
    )
    with django_capture_on_commit_callbacks(execute=False) as lost:
        lifecycle.refuse_meeting(meeting, reason="Trùng lịch", actor=kh_world.operator)
    assert lost, "the hand-over to the worker is an on-commit callback"
    pending = Notification.objects.get(user=office, channel=Channel.EMAIL)
    assert pending.status == DeliveryStatus.PENDING and not mail.outbox
    tasks.sweep_notifications.call_local()
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.SENT
    assert [m.to for m in mail.outbox] == [[office.email]]


# ---------------------------------------------------------------- the acceptance's fan-out


def _accepted_meeting_with_two_agencies(world):
    return registration.create_meeting(
        meeting_input(world.district, world.ep_district, [world.ep_other], working_day_at(5, 9),
                      title="Giao ban liên huyện"),
        actor=world.district_office,
    )


def test_the_worker_tells_the_acceptance_to_the_same_people_in_their_language(
    kh_world, django_capture_on_commit_callbacks
):
    """The decision writes one fan-out row; after the commit the worker writes a row for each
    person the notice always reached (registrant, host's and participants' offices and
    technicians), and each reads it in their own language, with the ICS."""
    english = UserFactory(role=Role.TECHNICIAN, agency=kh_world.other_district,
                          email="en@camranh.gov.vn", language="en")
    vietnamese = UserFactory(role=Role.OFFICE, agency=kh_world.district,
                             email="vi@nhatrang.gov.vn", language="vi")
    meeting = _accepted_meeting_with_two_agencies(kh_world)
    with django_capture_on_commit_callbacks(execute=False) as committed:
        lifecycle.accept_meeting(meeting, actor=kh_world.operator)
    (queued,) = Notification.objects.filter(kind="meeting.accepted")
    assert queued.channel == Channel.FAN_OUT and queued.user is None
    assert queued.status == DeliveryStatus.PENDING
    meeting.refresh_from_db()
    expected = {u.pk for u in [*notices._host_people(meeting),
                               *notices._participant_people(meeting)]}
    assert {english.pk, vietnamese.pk, kh_world.district_office.pk,
            kh_world.other_office.pk} <= expected
    with django_capture_on_commit_callbacks(execute=True):  # the worker, after the commit
        for callback in committed:
            callback()
    rows = Notification.objects.filter(kind="meeting.accepted", channel=Channel.IN_APP)
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(expected)
    queued.refresh_from_db()
    assert queued.status == DeliveryStatus.SENT
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.email].subject == "Meeting accepted: Giao ban liên huyện"
    assert by_address[vietnamese.email].subject != by_address[english.email].subject
    assert "Giao ban liên huyện" in by_address[vietnamese.email].subject
    ((filename, _content, _mimetype),) = by_address[english.email].attachments
    assert filename == f"meeting-{meeting.pk}.ics"
    first_check = meeting.checks.order_by("due_at").first()
    assert rows.first().params["check"] == first_check.due_at.isoformat()
    # Handed over twice (the sweep, a second worker): nobody is told twice.
    tasks.deliver_notification.call_local(queued.pk)
    tasks.sweep_notifications.call_local()
    assert rows.count() == len(expected)


def test_a_rolled_back_acceptance_tells_nobody(kh_world, django_capture_on_commit_callbacks):
    meeting = _accepted_meeting_with_two_agencies(kh_world)
    before = Notification.objects.count()

    class Abandon(Exception):
        pass

    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(Abandon),
          transaction.atomic()):
        lifecycle.accept_meeting(meeting, actor=kh_world.operator)
        raise Abandon
    tasks.sweep_notifications.call_local()
    assert Notification.objects.count() == before
    assert not Notification.objects.filter(kind="meeting.accepted").exists()
    assert not [m for m in mail.outbox if "Giao ban liên huyện" in m.subject]


def test_an_acceptance_whose_hand_over_was_lost_is_told_by_the_sweep(
    kh_world, django_capture_on_commit_callbacks
):
    """A crash right after the commit: the fan-out row is in the database, and the sweep
    expands it."""
    office = kh_world.district_office
    office.email = "vanphong@nhatrang.gov.vn"
    office.save()
    meeting = _accepted_meeting_with_two_agencies(kh_world)
    with django_capture_on_commit_callbacks(execute=False) as lost:
        lifecycle.accept_meeting(meeting, actor=kh_world.operator)
    assert lost and not Notification.objects.filter(kind="meeting.accepted", user=office)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_notifications.call_local()
    assert Notification.objects.filter(kind="meeting.accepted", user=office,
                                       channel=Channel.IN_APP).exists()
    assert [m.to for m in mail.outbox if "Giao ban" in m.subject].count([office.email]) == 1
