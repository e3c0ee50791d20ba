"""The periodic jobs of scheduling: the reply warning is marked, audited and sent once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from diemcau.core import calendar
from diemcau.core.audit import verify_chain
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.notifications.models import Channel, Notification
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling import tasks
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services import approval
from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    rulebook = active_rulebook()
    received = timezone.now() - dt.timedelta(days=30)  # long before, whatever the weekday
    start = timezone.now() + dt.timedelta(days=10)
    return Meeting.objects.create(
        title="Hội nghị sơ kết quý IV",
        host_agency=kh_tree.district,
        host_endpoint=ApprovedEndpointFactory(agency=kh_tree.district),
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        place="Hội trường",
        contact_name="Nguyễn Văn A",
        contact_phone="0912345678",
        status=MeetingStatus.SUBMITTED,
        registered_at=received,
        counted_from=calendar.registration_received_at(rulebook, received),
        reply_due_at=calendar.reply_deadline(rulebook, received),
        created_by=UserFactory(agency=kh_tree.district, role=Role.OFFICE),
    )


def test_reply_warning_marks_audits_and_notifies_once(
    submitted, kh_tree, django_capture_on_commit_callbacks
):
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    warn_at = calendar.reply_warning_time(active_rulebook(), submitted.registered_at)
    assert warn_at < submitted.reply_due_at

    with django_capture_on_commit_callbacks(execute=True):
        assert approval.warn_replies_due_soon(now=warn_at - dt.timedelta(seconds=1)) == 0
    submitted.refresh_from_db()
    assert submitted.reply_warned_at is None

    with django_capture_on_commit_callbacks(execute=True):
        assert approval.warn_replies_due_soon(now=warn_at) == 1
    submitted.refresh_from_db()
    assert submitted.reply_warned_at == warn_at
    event = AuditEvent.objects.get(action="meeting.reply_warning")
    assert event.object_id == str(submitted.pk) and event.actor is None
    notes = Notification.objects.filter(
        user=operator, kind="meeting.reply_due_soon", channel=Channel.IN_APP
    )
    assert notes.count() == 1 and notes.get().link.endswith(f"/meetings/{submitted.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        assert approval.warn_replies_due_soon(now=warn_at + dt.timedelta(minutes=5)) == 0
    assert notes.count() == 1
    assert verify_chain().ok


def test_no_warning_once_the_deadline_passed_or_answered(submitted):
    assert approval.warn_replies_due_soon(now=submitted.reply_due_at + dt.timedelta(minutes=1)) == 0
    Meeting.objects.filter(pk=submitted.pk).update(status=MeetingStatus.ACCEPTED)
    assert approval.warn_replies_due_soon(now=submitted.reply_due_at - dt.timedelta(minutes=1)) == 0
    assert not AuditEvent.objects.filter(action="meeting.reply_warning").exists()


def test_periodic_tasks_run(submitted, kh_tree, django_capture_on_commit_callbacks):
    """The Huey tasks call the two functions: the meeting registered a month ago is overdue."""
    UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.warn_replies_due_soon_task.call_local()
        tasks.record_reply_breaches_task.call_local()
    submitted.refresh_from_db()
    assert submitted.reply_warned_at is None and submitted.sla_breached_at is not None
    assert Notification.objects.filter(kind="meeting.reply_overdue").exists()
