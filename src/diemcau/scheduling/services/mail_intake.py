"""Registrations sent by official e-mail (KH Đ13.2a): the host's office writes from its
agency's official address to the system's mailbox, during office hours, with the host, the
participant endpoints, the rehearsal, the official start, the expected end, the contact and the
signed invitation letter.

`intake(raw, received_at=…)` turns one message into a draft registration of the sender's
agency, matched to the endpoints the message names, with its PDF letter, and answers the sender
with a link to complete it. The registration counts from the message's arrival in the mailbox
(`Meeting.received_by_email_at`; `lifecycle.stamp_submission` counts the lead time from it,
in office hours), however late the office completes it. A message from an address that is no
agency's official one is recorded and left alone. Each message is read once: its Message-ID
is kept.

The mailbox itself is read by `scheduling.mailbox` (IMAP), for the worker."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from diemcau.core import audit, calendar
from diemcau.core.models import User
from diemcau.core.roles import Role
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.notifications.services import notify_address
from diemcau.rulebooks import Rulebook, active_rulebook

from ..choices import MailOutcome, MeetingStatus, Urgency
from ..models import MailedRegistration, Meeting, OfficialAddress
from .registration import MAX_INVITATION_BYTES
from .snapshots import meeting_snapshot

# The account named as the drafts' author when the sender has none of its own.
MAILBOX_USERNAME = "hop-thu-cong-vu"
MAX_BODY_CHARS = 20_000
DEFAULT_LENGTH = dt.timedelta(hours=2)

# "08:30 ngày 09/12/2026", "8h30, 09/12/2026", "14h00 ngày 9-12-2026".
_DATE = (r"(\d{1,2})\s*[:hgH]\s*(\d{2})?(?:\s*(?:phút|p))?[^\d\n]{0,20}?"
         r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_TIME_ONLY = r"(\d{1,2})\s*[:hgH]\s*(\d{2})?"
_PHONE = re.compile(r"(?<!\d)(?:\+84|0)(?:[\s.]?\d){9,10}(?!\d)")


@dataclass(frozen=True)
class Parsed:
    """What the message says, field by field (KH Đ13.2a's list); None where it says nothing."""

    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    rehearsal_starts_at: dt.datetime | None
    place: str
    contact_name: str
    contact_phone: str
    urgency: str


def _plain(text: str) -> str:
    """Lower case, without diacritics: "Thời gian họp chính thức" → "thoi gian hop chinh thuc"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _visible(text: str) -> str:
    """Drop control and format characters (text direction marks…) but line breaks."""
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf"))


def _line(lines: list[str], *labels: str) -> str:
    """The value after the first line starting with one of `labels` (compared plainly)."""
    for line in lines:
        head, sep, value = line.partition(":")
        if sep and any(_plain(head).strip(" -*•").startswith(label) for label in labels):
            return value.strip()
    return ""


def _moment(text: str, rulebook: Rulebook, day: dt.date | None = None) -> dt.datetime | None:
    tz = calendar.WorkCalendar.for_rulebook(rulebook).tz
    found = re.search(_DATE, text)
    try:
        if found:
            hour, minute, d, m, y = found.groups()
            return dt.datetime(int(y), int(m), int(d), int(hour), int(minute or 0), tzinfo=tz)
        only = re.search(_TIME_ONLY, text)
        if only and day is not None:
            return dt.datetime.combine(day, dt.time(int(only[1]), int(only[2] or 0)), tzinfo=tz)
    except ValueError:
        return None
    return None


def parse(text: str, rulebook: Rulebook) -> Parsed:
    """Read KH Đ13.2a's fields from the message's lines ("Thời gian họp chính thức: 08:00 ngày
    09/12/2026", "Đầu mối liên hệ: Nguyễn Văn A, 0912345678", …)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    starts_at = _moment(_line(lines, "thoi gian hop chinh thuc", "thoi gian hop",
                              "thoi gian to chuc", "bat dau"), rulebook)
    ends_at = _moment(_line(lines, "thoi gian du kien ket thuc", "ket thuc"), rulebook,
                      starts_at.date() if starts_at else None)
    rehearsal = _moment(_line(lines, "thoi gian tong duyet", "tong duyet"), rulebook)
    contact = _line(lines, "dau moi lien he", "nguoi lien he", "lien he")
    in_contact = _PHONE.search(contact)
    phone_found = in_contact or _PHONE.search(text)
    phone = re.sub(r"[\s.]", "", phone_found.group(0)) if phone_found else ""
    name = contact[: in_contact.start()].strip(" ,;-–(") if in_contact else contact
    plain = _plain(text)
    urgency = (Urgency.EMERGENCY if "khan cap" in plain
               else Urgency.URGENT if "dot xuat" in plain else Urgency.NORMAL)
    return Parsed(starts_at, ends_at, rehearsal, _line(lines, "dia diem"), name[:120], phone,
                  urgency)


def named_endpoints(text: str) -> list[Endpoint]:
    """The endpoints in use whose device names the message writes ("UBND.Cam Ranh")."""
    plain = _plain(text)
    found = []
    for endpoint in Endpoint.objects.filter(status=EndpointStatus.APPROVED).select_related(
            "agency"):
        name = _plain(endpoint.name)
        if re.search(r"(?<![\w.])" + re.escape(name) + r"(?![\w]|\.\d)", plain):
            found.append(endpoint)
    return found


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return _visible(str(text))[:MAX_BODY_CHARS]


def _pdfs(message: EmailMessage) -> tuple[list[tuple[str, bytes]], list[dict[str, object]]]:
    """The signed letters (PDF files), and a note of every attachment."""
    letters: list[tuple[str, bytes]] = []
    notes: list[dict[str, object]] = []
    for part in message.iter_attachments():
        name = part.get_filename() or "tep-dinh-kem"
        content = part.get_payload(decode=True)
        data = content if isinstance(content, bytes) else b""
        is_pdf = data.startswith(b"%PDF-") and len(data) <= MAX_INVITATION_BYTES
        notes.append({"name": name[:200], "size": len(data), "pdf": is_pdf})
        if is_pdf:
            letters.append((name, data))
    return letters, notes


def _sender(message: EmailMessage) -> tuple[str, str]:
    pairs = getaddresses([str(message.get("From", ""))])
    name, address = pairs[0] if pairs else ("", "")
    return name.strip(), address.strip().lower()


def _author(agency: Agency, address: str) -> User:
    own = User.objects.filter(agency=agency, email__iexact=address, is_active=True).first()
    if own is not None:
        return own
    user, created = User.objects.get_or_create(
        username=MAILBOX_USERNAME,
        defaults={"role": Role.OFFICE, "is_active": False,
                  "first_name": "Hộp thư công vụ"})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _host_endpoint(agency: Agency, named: list[Endpoint]) -> Endpoint | None:
    own = [e for e in named if e.agency_id == agency.pk]
    if own:
        return own[0]
    return (Endpoint.objects.filter(agency=agency, status=EndpointStatus.APPROVED)
            .order_by("name").first())


def _times(parsed: Parsed, rulebook: Rulebook, received_at: dt.datetime
           ) -> tuple[dt.datetime, dt.datetime]:
    """The times the message gives, or — for the office to correct — the earliest start the
    lead time allows from its arrival, on the hour."""
    start = parsed.starts_at
    if start is None:
        earliest = calendar.earliest_start(rulebook, parsed.urgency, received_at)
        start = (earliest + dt.timedelta(minutes=59)).replace(minute=0, second=0,
                                                               microsecond=0)
    end = parsed.ends_at if parsed.ends_at and parsed.ends_at > start else start + DEFAULT_LENGTH
    return start, end


def _message_id(message: EmailMessage, raw: bytes) -> str:
    given = str(message.get("Message-ID", "")).strip()
    return given[:250] if given else "sha256:" + hashlib.sha256(raw).hexdigest()


def _dated(message: EmailMessage) -> dt.datetime | None:
    try:
        moment = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def intake(raw: bytes, *, received_at: dt.datetime) -> MailedRegistration:
    """Read one message of the official mailbox (see the module's docstring). A message read
    before (same Message-ID) is not read again: its first record is returned."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    message_id = _message_id(message, raw)
    seen = MailedRegistration.objects.filter(message_id=message_id).first()
    if seen is not None:
        return seen
    try:
        with transaction.atomic():
            return _intake(message, message_id, received_at)
    except IntegrityError:  # read at the same time by another worker
        return MailedRegistration.objects.get(message_id=message_id)


def _intake(message: EmailMessage, message_id: str, received_at: dt.datetime
            ) -> MailedRegistration:
    rulebook = active_rulebook()
    name, address = _sender(message)
    subject = " ".join(_visible(str(message.get("Subject", ""))).split())[:250]
    body = _body_text(message)
    letters, notes = _pdfs(message)
    official = OfficialAddress.objects.select_related("agency").filter(
        address__iexact=address).first()
    record = MailedRegistration(
        message_id=message_id, sender=address[:254], subject=subject, body=body,
        received_at=received_at, dated=_dated(message), attachments=notes,
        agency=official.agency if official else None, outcome=MailOutcome.UNKNOWN_SENDER,
    )
    if official is None:
        record.save()
        audit.record("meeting.mail_ignored", record, actor=None,
                     after={"sender": record.sender, "subject": subject})
        return record
    agency = official.agency
    named = named_endpoints(subject + "\n" + body)
    host_endpoint = _host_endpoint(agency, named)
    if host_endpoint is None:
        record.outcome = MailOutcome.NO_ENDPOINT
        record.save()
        audit.record("meeting.mail_ignored", record, actor=None,
                     after={"sender": record.sender, "outcome": record.outcome})
        _answer(record, rulebook)
        return record
    parsed = parse(body, rulebook)
    starts_at, ends_at = _times(parsed, rulebook, received_at)
    rehearsal_end = starts_at if parsed.rehearsal_starts_at and (
        parsed.rehearsal_starts_at < starts_at) else None
    meeting = Meeting(
        title=subject or _("Meeting registered by e-mail"),
        host_agency=agency, host_endpoint=host_endpoint,
        starts_at=starts_at, ends_at=ends_at,
        rehearsal_starts_at=parsed.rehearsal_starts_at if rehearsal_end else None,
        rehearsal_ends_at=rehearsal_end,
        place=(parsed.place or host_endpoint.location or agency.name)[:250],
        contact_name=(parsed.contact_name or name or agency.name)[:120],
        contact_phone=parsed.contact_phone[:20],
        urgency=parsed.urgency,
        emergency_reason=subject[:250] if parsed.urgency == Urgency.EMERGENCY else "",
        status=MeetingStatus.DRAFT,
        received_by_email_at=received_at,
        created_by=_author(agency, address),
    )
    if letters:
        filename, data = letters[0]
        meeting.invitation.save(_safe_name(filename), ContentFile(data), save=False)
    meeting.save()
    meeting.participants.set([e for e in named if e.pk != host_endpoint.pk])
    record.meeting = meeting
    record.outcome = MailOutcome.DRAFT
    record.save()
    audit.record("meeting.mailed", meeting, actor=None,
                 after=meeting_snapshot(meeting) | {"sender": address,
                                                    "message": record.pk})
    _answer(record, rulebook)
    return record


def _safe_name(filename: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", _plain(filename)).strip("-.") or "giay-moi"
    return stem if stem.endswith(".pdf") else stem + ".pdf"


def _answer(record: MailedRegistration, rulebook: Rulebook) -> None:
    """Tell the sender what became of the message, with the link to complete the draft."""
    counted = calendar.registration_received_at(rulebook, record.received_at)
    params: dict[str, object] = {
        "subject": record.subject,
        "received": record.received_at.isoformat(),
        "counted_from": counted.isoformat(),
        "article": rulebook.cite(rulebook.office_hours.article),
        "outcome": record.outcome,
    }
    link = ""
    if record.meeting is not None:
        params["meeting"] = record.meeting.pk
        params["endpoints"] = record.meeting.participants.count()
        params["letter"] = bool(record.meeting.invitation)
        link = reverse("scheduling:meeting_edit", args=[record.meeting.pk])
    notify_address(record.sender, kind="meeting.mailed", params=params, link=link,
                   meeting_id=record.meeting.pk if record.meeting else None)
