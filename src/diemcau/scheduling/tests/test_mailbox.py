"""Registrations by official e-mail (KH Đ13.2a), through a real IMAP server (a private
Dovecot) and a real SMTP server (aiosmtpd) on 127.0.0.1: the worker reads the mailbox, a
message from an agency's official address becomes its draft registration with the signed
letter and the endpoints it names, the sender is answered with the link to complete it, and
the registration counts from the message's arrival in office hours — 16:55 on a Friday is in
time for a meeting two working days later, 17:05 is not."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.urls import reverse

from diemcau.core import calendar
from diemcau.core.errors import PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.notifications.models import Notification
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling import mailbox
from diemcau.scheduling.choices import MailOutcome, MeetingStatus
from diemcau.scheduling.models import MailedRegistration, OfficialAddress
from diemcau.scheduling.services import lifecycle, mail_intake, official_addresses
from diemcau.testing.factories import UserFactory
from diemcau.testing.mail_servers import imap_server, smtp_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SENDER = "vanphong@nhatrang.khanhhoa.gov.vn"


def friday(rulebook, weeks_ago: int = 3) -> dt.date:
    """A Friday a few weeks back whose next Monday and Tuesday are working days too. In the
    past: a mail server records when a message arrived, and Dovecot takes no arrival time
    from the future."""
    work = calendar.WorkCalendar.for_rulebook(rulebook)
    day = dt.date.today() - dt.timedelta(weeks=weeks_ago)
    while True:
        day -= dt.timedelta(days=(day.weekday() - 4) % 7 or 7)
        if all(work.is_working_day(day + dt.timedelta(days=n)) for n in (0, 3, 4)):
            return day


def at(rulebook, day: dt.date, hour: int, minute: int) -> dt.datetime:
    return calendar.WorkCalendar.for_rulebook(rulebook).at(day, dt.time(hour, minute))


def registration_mail(*, sender: str, start: dt.datetime, arrived: dt.datetime,
                      subject: str = "Đăng ký họp trực tuyến: Giao ban công tác tuần",
                      with_letter: bool = True) -> bytes:
    message = EmailMessage()
    message["From"] = f"Văn phòng UBND thành phố Nha Trang <{sender}>"
    message["To"] = "hoptructuyen@khanhhoa.gov.vn"
    message["Subject"] = subject
    message["Date"] = format_datetime(arrived)
    message["Message-ID"] = make_msgid(domain="nhatrang.khanhhoa.gov.vn")
    message.set_content(
        "Kính gửi Đơn vị vận hành kỹ thuật,\n\n"
        "- Tên cơ quan chủ trì: UBND thành phố Nha Trang (điểm cầu UBND.Nha Trang)\n"
        "- Danh sách điểm cầu thành phần: NT.XuongHuan, UBND.Cam Ranh\n"
        f"- Thời gian họp chính thức: {start:%H:%M} ngày {start:%d/%m/%Y}\n"
        f"- Thời gian dự kiến kết thúc: {start + dt.timedelta(hours=2):%H:%M}\n"
        "- Địa điểm: Phòng họp trực tuyến UBND thành phố\n"
        "- Đầu mối liên hệ: Nguyễn Thị Lan, 0905 123 456\n"
        "- Hỗ trợ kỹ thuật khác: không\n"
    )
    if with_letter:
        message.add_attachment(PDF, maintype="application", subtype="pdf",
                               filename="giay-moi-ky-so.pdf")
    return message.as_bytes()


@pytest.fixture
def mailbox_world(kh_world, imap_server, smtp_server, settings, tmp_path):  # noqa: F811
    settings.IMAP_URL = imap_server.url
    settings.MEDIA_ROOT = str(tmp_path)
    OfficialAddress.objects.create(agency=kh_world.district, address=SENDER,
                                   created_by=kh_world.operator)
    return kh_world


def test_a_friday_1655_message_counts_in_time_and_its_sender_is_answered(
        mailbox_world, imap_server, smtp_server, django_capture_on_commit_callbacks):  # noqa: F811
    world = mailbox_world
    rulebook = active_rulebook()
    day = friday(rulebook)
    arrived = at(rulebook, day, 16, 55)
    tuesday_five = at(rulebook, day + dt.timedelta(days=4), 17, 0)
    imap_server.deliver(registration_mail(sender=SENDER, start=tuesday_five, arrived=arrived),
                        arrived=arrived.timestamp())

    with django_capture_on_commit_callbacks(execute=True):
        records = mailbox.read_mailbox()

    # Read once, and marked read on the server.
    assert [r.outcome for r in records] == [MailOutcome.DRAFT]
    assert imap_server.unseen() == 0
    record = records[0]
    assert record.received_at == arrived
    meeting = record.meeting
    assert meeting is not None and meeting.status == MeetingStatus.DRAFT
    assert meeting.host_agency == world.district and meeting.host_endpoint == world.ep_district
    assert set(meeting.participants.all()) == {world.ep_commune, world.ep_other}
    assert meeting.starts_at == tuesday_five
    assert meeting.ends_at == tuesday_five + dt.timedelta(hours=2)
    assert (meeting.contact_name, meeting.contact_phone) == ("Nguyễn Thị Lan", "0905123456")
    assert meeting.invitation.read() == PDF
    assert meeting.received_by_email_at == arrived
    assert AuditEvent.objects.filter(action="meeting.mailed", object_id=str(meeting.pk)).exists()

    # The answer went out by SMTP to the sender, with the link to complete the draft.
    assert len(smtp_server.messages) == 1
    recipients, answer = smtp_server.messages[0]
    assert recipients == [SENDER]
    text = answer.get_content()
    assert reverse("scheduling:meeting_edit", args=[meeting.pk]) in text
    assert f"{arrived:%d/%m/%Y} 16:55" in text
    assert Notification.objects.get(address=SENDER).status == "sent"

    # Completed and submitted on Monday, it still counts from Friday 16:55 (in office hours):
    # two working days before Tuesday 17:00 is Friday 17:00 — in time.
    submitted = lifecycle.submit_meeting(meeting, actor=world.district_office)
    assert submitted.status == MeetingStatus.SUBMITTED
    assert submitted.registered_at == arrived and submitted.counted_from == arrived

    # A second reading of the same mailbox registers nothing again.
    assert mailbox.read_mailbox() == []
    assert MailedRegistration.objects.count() == 1


def test_a_friday_1705_message_counts_from_monday_and_is_too_late(
        mailbox_world, imap_server, smtp_server, django_capture_on_commit_callbacks):  # noqa: F811
    world = mailbox_world
    rulebook = active_rulebook()
    day = friday(rulebook)
    arrived = at(rulebook, day, 17, 5)
    tuesday_five = at(rulebook, day + dt.timedelta(days=4), 17, 0)
    imap_server.deliver(registration_mail(sender=SENDER, start=tuesday_five, arrived=arrived,
                                          with_letter=False), arrived=arrived.timestamp())
    with django_capture_on_commit_callbacks(execute=True):
        record, = mailbox.read_mailbox()
    assert record.meeting is not None and not record.meeting.invitation
    with pytest.raises(RuleViolation) as refused:
        lifecycle.submit_meeting(record.meeting, actor=world.district_office)
    assert refused.value.code == "lead_time_too_short"
    assert refused.value.article == "Điều 13.2a Quy chế KH"
    monday = at(rulebook, day + dt.timedelta(days=3), 7, 30)
    assert f"{monday:%d/%m/%Y} 07:30" in refused.value.message
    # The answer says so too: received at 17:05, counted from Monday 07:30.
    _to, answer = smtp_server.messages[0]
    assert f"{monday:%d/%m/%Y} 07:30" in answer.get_content()


def test_a_message_from_an_unknown_address_makes_nothing_and_gets_no_answer(
        mailbox_world, imap_server, smtp_server, django_capture_on_commit_callbacks):  # noqa: F811
    rulebook = active_rulebook()
    arrived = at(rulebook, friday(rulebook), 9, 0)
    imap_server.deliver(registration_mail(sender="someone@example.com", start=arrived
                                          + dt.timedelta(days=7), arrived=arrived),
                        arrived=arrived.timestamp())
    with django_capture_on_commit_callbacks(execute=True):
        record, = mailbox.read_mailbox()
    assert record.outcome == MailOutcome.UNKNOWN_SENDER and record.meeting is None
    assert smtp_server.messages == []
    assert AuditEvent.objects.filter(action="meeting.mail_ignored").exists()


def test_parsing_reads_the_regulations_fields():
    from diemcau.rulebooks import get_rulebook

    rulebook = get_rulebook("khanh-hoa-2023")
    parsed = mail_intake.parse(
        "Thời gian tổng duyệt: 14h00 ngày 08/12/2026\n"
        "Thời gian họp chính thức: 8h30 ngày 09/12/2026\n"
        "Thời gian dự kiến kết thúc: 11:00\n"
        "Đầu mối liên hệ: Trần Văn B - 0912.345.678\n"
        "Cuộc họp đột xuất.\n", rulebook)
    assert parsed.rehearsal_starts_at is not None and parsed.rehearsal_starts_at.hour == 14
    assert parsed.starts_at is not None
    assert (parsed.starts_at.day, parsed.starts_at.hour, parsed.starts_at.minute) == (9, 8, 30)
    assert parsed.ends_at is not None and parsed.ends_at.hour == 11
    assert (parsed.contact_name, parsed.contact_phone) == ("Trần Văn B", "0912345678")
    assert parsed.urgency == "urgent"


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.OPERATOR, True), (Role.ADMIN, True), (Role.OFFICE, False),
    (Role.TECHNICIAN, False), (Role.AUDITOR, False),
])
def test_who_keeps_the_official_addresses(kh_world, role, allowed):
    actor = UserFactory(role=role, agency=kh_world.district)
    if allowed:
        official = official_addresses.add_official_address(
            kh_world.district, "VanPhong@NhaTrang.gov.vn", actor=actor)
        assert official.address == "vanphong@nhatrang.gov.vn"
        official_addresses.remove_official_address(official, actor=actor)
        assert list(AuditEvent.objects.filter(action__startswith="official_address.")
                    .order_by("pk").values_list("action", flat=True)) == [
            "official_address.add", "official_address.remove"]
    else:
        with pytest.raises(PermissionDenied):
            official_addresses.add_official_address(kh_world.district, "a@b.gov.vn",
                                                    actor=actor)


def test_the_mailbox_page_and_api_show_what_each_office_may_see(client, kh_world, settings):
    settings.IMAP_URL = ""
    rulebook = active_rulebook()
    arrived = at(rulebook, friday(rulebook), 16, 55)
    OfficialAddress.objects.create(agency=kh_world.district, address=SENDER,
                                   created_by=kh_world.operator)
    record = mail_intake.intake(registration_mail(
        sender=SENDER, start=arrived + dt.timedelta(days=4), arrived=arrived,
        with_letter=False), received_at=arrived)
    client.force_login(kh_world.district_office)
    page = client.get(reverse("scheduling:mailbox")).content.decode()
    assert f'data-mailed="{record.pk}"' in page
    assert 'id="addresses-heading"' not in page  # only the operators keep the addresses
    assert client.get("/api/v1/mailbox/messages").json()[0]["meeting_id"] == record.meeting_id
    assert client.post("/api/v1/mailbox/addresses", {"agency": kh_world.district.pk,
                                                     "address": "x@y.gov.vn"},
                       content_type="application/json").status_code == 403
    client.force_login(kh_world.other_office)
    assert f'data-mailed="{record.pk}"' not in client.get(reverse("scheduling:mailbox")
                                                          ).content.decode()
    assert client.get("/api/v1/mailbox/messages").json() == []
    client.force_login(kh_world.operator)
    answer = client.post(reverse("scheduling:mailbox"), {"agency": kh_world.other_district.pk,
                                                         "address": "vp@camranh.gov.vn"})
    assert answer.status_code == 302
    assert OfficialAddress.objects.filter(address="vp@camranh.gov.vn").exists()
    detail = client.get(reverse("scheduling:meeting_detail", args=[record.meeting_id]))
    assert 'id="received-by-email"' in detail.content.decode()
