"""Meetings as iCalendar files (RFC 5545), built with the `icalendar` package (R14).

One VEVENT per window a meeting uses: the rehearsal (KH) and the official session. Each keeps
the same UID for the life of the meeting, so a calendar that subscribed to a feed updates the
event in place, and its SEQUENCE grows with every change of the meeting.

Calendar files leave the system — they are synced to phones and web calendars — so they never
carry the meeting code (R13) or the MCU node, and a state-secret meeting is only "Phiên họp"
with its time and host: no title, place or contact (ĐN Đ5.2, KH Đ7.4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from diemcau.rulebooks import active_rulebook

from .choices import MeetingStatus, WindowKind
from .feeds import SECRET_TITLE, endpoint_count, is_state_secret
from .models import Meeting
from .windows import meeting_windows

PRODID = "-//diemcau//Hoi nghi truc tuyen//VI"
# SEQUENCE counts seconds of `updated_at` from here: it only grows, and stays far below 2^31.
SEQUENCE_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
REFRESH = dt.timedelta(hours=1)  # how often subscribed calendars re-read a feed

CANCELLED_STATUSES = (MeetingStatus.CANCELLED, MeetingStatus.REVOKED, MeetingStatus.REFUSED)
TENTATIVE_STATUSES = (MeetingStatus.DRAFT, MeetingStatus.SUBMITTED)


def meeting_ics(meeting: Meeting) -> bytes:
    """One meeting as a file to download, with its contact person."""
    calendar = _calendar(meeting.title if not is_state_secret(meeting) else str(SECRET_TITLE))
    for event in _events(meeting, contacts=True):
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def schedule_ics(meetings: Iterable[Meeting], name: str, *, contacts: bool = False) -> bytes:
    """A schedule (an agency's feed, the province's public schedule) as one calendar.

    `contacts`: add each meeting's contact person and phone — for an agency's own feed, not
    for the public schedule.
    """
    calendar = _calendar(name)
    for meeting in meetings:
        for event in _events(meeting, contacts=contacts):
            calendar.add_component(event)
    return bytes(calendar.to_ical())


def uid(meeting: Meeting, kind: str) -> str:
    """Stable per meeting and window, and distinct between provinces' deployments."""
    return f"meeting-{meeting.pk}-{kind}@diemcau.tinh-{active_rulebook().province_code:02d}"


def sequence(meeting: Meeting) -> int:
    changed = meeting.updated_at or meeting.created_at or SEQUENCE_EPOCH
    return max(0, int((changed - SEQUENCE_EPOCH).total_seconds()))


def status(meeting: Meeting) -> str:
    if meeting.status in CANCELLED_STATUSES:
        return "CANCELLED"
    if meeting.status in TENTATIVE_STATUSES:
        return "TENTATIVE"
    return "CONFIRMED"


def _calendar(name: str) -> Calendar:
    rulebook = active_rulebook()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", rulebook.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # the same, for Outlook
    return calendar


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _summary(meeting: Meeting, kind: str) -> str:
    title = str(SECRET_TITLE) if is_state_secret(meeting) else meeting.title
    if kind == WindowKind.REHEARSAL:
        return _("Rehearsal: %(title)s") % {"title": title}
    return title


def _description(meeting: Meeting, *, contacts: bool) -> str:
    secret = is_state_secret(meeting)
    lines = [_("Host: %(agency)s") % {"agency": meeting.host_agency.name}]
    if not secret:
        lines.append(_("Host endpoint: %(endpoint)s") % {"endpoint": meeting.host_endpoint.name})
        lines.append(_("Endpoints connected: %(count)s") % {"count": endpoint_count(meeting)})
        if contacts:
            lines.append(
                _("Contact: %(name)s, %(phone)s")
                % {"name": meeting.contact_name, "phone": meeting.contact_phone}
            )
    if meeting.status in CANCELLED_STATUSES:
        lines.append(_("Status: %(status)s") % {"status": meeting.get_status_display()})
    return "\n".join(lines)


def _events(meeting: Meeting, *, contacts: bool) -> list[Event]:
    secret = is_state_secret(meeting)
    changed = _utc(meeting.updated_at or meeting.created_at or SEQUENCE_EPOCH)
    description = _description(meeting, contacts=contacts and not secret)
    events = []
    for kind, window in meeting_windows(meeting):
        event = Event()
        event.add("uid", uid(meeting, kind))
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        if meeting.created_at:
            event.add("created", _utc(meeting.created_at))
        event.add("sequence", sequence(meeting))
        event.add("dtstart", _utc(window.starts_at))
        event.add("dtend", _utc(window.ends_at))
        event.add("summary", _summary(meeting, kind))
        if not secret and meeting.place:
            event.add("location", meeting.place)
        event.add("description", description)
        event.add("status", status(meeting))
        event.add("class", "CONFIDENTIAL" if secret else "PUBLIC")
        event.add("transp", "OPAQUE")
        events.append(event)
    return events
