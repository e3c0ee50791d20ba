"""ICS files (R14), parsed back with icalendar: windows, times, status, and no secrets."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from diemcau.scheduling import feeds, ics
from diemcau.scheduling.choices import Classification, MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services import lifecycle

from .test_calendar_views import PHONE, book, working_day_at, world  # noqa: F401 (fixture)


def events_of(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    return list(calendar.walk("VEVENT"))


def all_text(body: bytes, events: list) -> str:
    """Raw (unfolded) file and every parsed text property: a secret must be in neither."""
    parsed = "\n".join(str(value) for event in events for value in event.values())
    return body.replace(b"\r\n ", b"").decode("utf-8") + "\n" + parsed


@pytest.fixture
def rehearsed(world):  # noqa: F811
    start = working_day_at(5, 14)
    return book(
        world,
        world.district,
        world.ep_district,
        [world.ep_commune],
        start,
        rehearsal_starts_at=start - dt.timedelta(hours=5),
        rehearsal_ends_at=start - dt.timedelta(hours=4),
        support_notes="Ghi hình",
    )


def test_one_event_per_window_with_times_and_no_code(rehearsed):
    meeting = rehearsed
    assert meeting.code
    body = ics.meeting_ics(meeting)
    events = events_of(body)
    by_uid = {str(e["UID"]): e for e in events}
    assert set(by_uid) == {ics.uid(meeting, "rehearsal"), ics.uid(meeting, "session")}
    session = by_uid[ics.uid(meeting, "session")]
    rehearsal = by_uid[ics.uid(meeting, "rehearsal")]
    assert session["DTSTART"].dt == meeting.starts_at
    assert session["DTEND"].dt == meeting.ends_at
    assert rehearsal["DTSTART"].dt == meeting.rehearsal_starts_at
    assert rehearsal["DTEND"].dt == meeting.rehearsal_ends_at
    assert session["DTSTART"].dt.utcoffset() == dt.timedelta(0)  # written in UTC
    assert str(session["SUMMARY"]) == meeting.title
    assert meeting.title in str(rehearsal["SUMMARY"])
    assert str(session["LOCATION"]) == meeting.place
    description = str(session["DESCRIPTION"])
    assert meeting.host_agency.name in description
    assert meeting.contact_name in description and PHONE in description
    assert str(session["STATUS"]) == "CONFIRMED"
    assert meeting.code not in all_text(body, events)
    assert meeting.node.name not in all_text(body, events)


def test_uid_is_stable_and_sequence_grows_with_changes(rehearsed, world):  # noqa: F811
    meeting = rehearsed
    first = {str(e["UID"]): int(e["SEQUENCE"]) for e in events_of(ics.meeting_ics(meeting))}
    # a later change of the meeting (its updated_at moves on)
    later = meeting.updated_at + dt.timedelta(minutes=3)
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=later)
    meeting.refresh_from_db()
    second = {str(e["UID"]): int(e["SEQUENCE"]) for e in events_of(ics.meeting_ics(meeting))}
    assert first.keys() == second.keys()
    assert all(second[uid] > first[uid] for uid in first)
    assert all(0 < value < 2**31 for value in second.values())


def test_cancelled_meeting_is_cancelled_in_the_file(rehearsed, world):  # noqa: F811
    code = rehearsed.code
    meeting = lifecycle.cancel_meeting(
        rehearsed, reason="Lãnh đạo đi công tác", actor=world.district_office
    )
    assert meeting.status == MeetingStatus.CANCELLED
    body = ics.meeting_ics(meeting)
    events = events_of(body)
    assert len(events) == 2
    assert {str(e["STATUS"]) for e in events} == {"CANCELLED"}
    assert code not in all_text(body, events)


def test_state_secret_meeting_is_only_phien_hop(world):  # noqa: F811
    start = working_day_at(5, 9)
    secret = book(
        world,
        world.other_district,
        world.ep_other,
        [world.ep_other_commune],
        start,
        title="Họp bàn phương án tác chiến",
        place="Phòng họp mật",
        classification=Classification.STATE_SECRET,
    )
    normal = book(world, world.district, world.ep_district, [], start)
    for body in (
        ics.schedule_ics([secret, normal], "Lịch", contacts=True),
        ics.meeting_ics(secret),
    ):
        events = events_of(body)
        hidden = [e for e in events if str(e["UID"]) == ics.uid(secret, "session")]
        assert len(hidden) == 1
        event = hidden[0]
        assert str(event["SUMMARY"]) == str(feeds.SECRET_TITLE)
        assert "LOCATION" not in event
        assert str(event["CLASS"]) == "CONFIDENTIAL"
        assert secret.host_agency.name in str(event["DESCRIPTION"])
        text = all_text(body, events)
        for leaked in (secret.title, secret.place, secret.code):
            assert leaked not in text
        assert PHONE not in str(event["DESCRIPTION"])
        assert secret.contact_name not in str(event["DESCRIPTION"])
        assert event["DTSTART"].dt == secret.starts_at


def test_schedule_without_contacts_has_no_phone(world):  # noqa: F811
    start = working_day_at(5, 9)
    meeting = book(world, world.district, world.ep_district, [world.ep_commune], start)
    public = ics.schedule_ics(feeds.published(), "Lịch công khai")
    events = events_of(public)
    assert [str(e["SUMMARY"]) for e in events] == [meeting.title]
    assert PHONE not in all_text(public, events)
    assert meeting.contact_name not in all_text(public, events)
    calendar = Calendar.from_ical(public)
    assert str(calendar["X-WR-CALNAME"]) == "Lịch công khai"
    assert str(calendar["METHOD"]) == "PUBLISH"
    own = ics.schedule_ics(feeds.published(), "Lịch", contacts=True)
    assert PHONE in all_text(own, events_of(own))
