"""Calendar pages, the MCU load, calendar feeds and the public schedule (R11, R14)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from icalendar import Calendar
from playwright.sync_api import sync_playwright

from diemcau.core import calendar as work_calendar
from diemcau.core.audit import verify_chain
from diemcau.core.errors import PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling import feeds, planning
from diemcau.scheduling.calendar_views import load_steps, node_load
from diemcau.scheduling.capacity import Load, Window, peak
from diemcau.scheduling.choices import Classification, MeetingStatus
from diemcau.scheduling.models import CalendarFeed, Meeting
from diemcau.scheduling.planning import node_loads
from diemcau.scheduling.services import lifecycle, registration
from diemcau.scheduling.services.feeds import create_feed, revoke_feed
from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from diemcau.testing.factories import (
    ApprovedEndpointFactory,
    EndpointFactory,
    McuNodeFactory,
    UserFactory,
)

PHONE = "0912345678"


def working_day_at(days_ahead: int, hour: int) -> dt.datetime:
    """A local time `days_ahead` working days from now (safe for every lead time)."""
    work = work_calendar.WorkCalendar.for_rulebook(active_rulebook())
    day = work.add_working_days(timezone.now(), days_ahead)
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


def book(world, host, host_endpoint, participants, start, *, accept=True, hours=2, **extra):
    """Register through the service (as the host's office) and, by default, accept."""
    registrar = {
        world.district.pk: world.district_office,
        world.commune.pk: world.district_office,
        world.other_district.pk: world.other_office,
        world.other_commune.pk: world.other_office,
    }.get(host.pk, world.operator)
    data = registration.MeetingInput(
        **{
            "title": f"Họp {host.name} {start:%d/%m %H:%M}",
            "host_agency": host,
            "host_endpoint": host_endpoint,
            "participants": list(participants),
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=hours),
            "place": "Phòng họp trực tuyến tầng 2",
            "contact_name": "Nguyễn Văn A",
            "contact_phone": PHONE,
            **extra,
        }
    )
    meeting = registration.create_meeting(data, actor=registrar)
    if accept:
        meeting = lifecycle.accept_meeting(meeting, actor=world.operator)
    return meeting


@pytest.fixture
def world(kh_tree, use_rulebook) -> SimpleNamespace:
    use_rulebook("khanh-hoa-2023")
    t = kh_tree
    t.operator = UserFactory(role=Role.OPERATOR, agency=t.department, username="vanhanh")
    t.auditor = UserFactory(role=Role.AUDITOR, agency=t.province, username="kiemtra")
    t.district_office = UserFactory(role=Role.OFFICE, agency=t.district, username="vp.nt")
    t.other_office = UserFactory(role=Role.OFFICE, agency=t.other_district, username="vp.cr")
    t.technician = UserFactory(role=Role.TECHNICIAN, agency=t.district, username="kt.nt")
    t.ep_province = ApprovedEndpointFactory(agency=t.province, name="UBND.Khanh Hoa")
    t.ep_district = ApprovedEndpointFactory(agency=t.district, name="UBND.Nha Trang")
    t.ep_commune = ApprovedEndpointFactory(agency=t.commune, name="NT.XuongHuan")
    t.ep_other = ApprovedEndpointFactory(agency=t.other_district, name="UBND.Cam Ranh")
    t.ep_other_commune = ApprovedEndpointFactory(agency=t.other_commune, name="CR.CamNghia")
    t.node = McuNodeFactory(name="mcu-1", max_meetings=5, max_endpoints=100)
    return t


def client_for(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def anonymous() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def day_range(start: dt.datetime) -> dict[str, str]:
    day = timezone.localdate(start)
    return {"start": day.isoformat(), "end": (day + dt.timedelta(days=1)).isoformat()}


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def event_texts(calendar: Calendar) -> str:
    return "\n".join(
        str(event.get(name, ""))
        for event in calendar.walk("VEVENT")
        for name in ("SUMMARY", "LOCATION", "DESCRIPTION")
    )


def unfolded(body: bytes) -> str:
    return body.replace(b"\r\n ", b"").decode("utf-8")


# ---------------------------------------------------------------- the calendar (events JSON)


def test_events_are_scoped_to_what_the_user_may_see(world):
    start = working_day_at(5, 9)
    ours = book(world, world.district, world.ep_district, [world.ep_commune], start)
    theirs = book(world, world.other_district, world.ep_other, [world.ep_other_commune], start)

    response = client_for(world.district_office).get(reverse("calendar:events"), day_range(start))
    assert response.status_code == 200
    ids = {event["groupId"] for event in response.json()}
    assert ids == {str(ours.pk)}
    event = response.json()[0]
    assert event["url"] == reverse("scheduling:meeting_detail", args=[ours.pk])
    assert event["title"] == ours.title
    assert event["start"] == timezone.localtime(ours.starts_at).isoformat()
    assert event["extendedProps"]["status"] == MeetingStatus.ACCEPTED
    assert ours.code not in response.content.decode()

    # the operator sees the whole province
    response = client_for(world.operator).get(reverse("calendar:events"), day_range(start))
    assert {event["groupId"] for event in response.json()} == {str(ours.pk), str(theirs.pk)}


def test_events_status_filter_and_windows(world):
    start = working_day_at(5, 14)
    accepted = book(
        world,
        world.district,
        world.ep_district,
        [],
        start,
        rehearsal_starts_at=start - dt.timedelta(hours=4),
        rehearsal_ends_at=start - dt.timedelta(hours=3),
    )
    waiting = book(world, world.commune, world.ep_commune, [], start, accept=False)
    client = client_for(world.district_office)
    url = reverse("calendar:events")

    everything = client.get(url, day_range(start)).json()
    kinds = {(e["groupId"], e["extendedProps"]["kind"]) for e in everything}
    assert kinds == {
        (str(accepted.pk), "rehearsal"),
        (str(accepted.pk), "session"),
        (str(waiting.pk), "session"),
    }
    only_waiting = client.get(url, {**day_range(start), "status": "submitted"}).json()
    assert {e["groupId"] for e in only_waiting} == {str(waiting.pk)}
    assert client.get(url, {**day_range(start), "status": ""}).json() == []


def test_events_find_a_longest_rehearsal_that_began_before_the_range(world):
    """Each start is bounded below by the longest a window may last: a rehearsal of that
    length that began just before the day still reaches into it, and is shown (alone: its
    session is on a later day); one that ended as the day began is not."""
    day = working_day_at(5, 0)
    session = day + dt.timedelta(days=3, hours=9)
    longest, tick = planning.MAX_MEETING_LENGTH, dt.timedelta(minutes=1)
    reaching_in = book(world, world.district, world.ep_district, [], session, accept=False)
    ended = book(world, world.district, world.ep_district, [], session + dt.timedelta(hours=3),
                 accept=False)
    Meeting.objects.filter(pk=reaching_in.pk).update(
        rehearsal_starts_at=day - longest + tick, rehearsal_ends_at=day + tick)
    Meeting.objects.filter(pk=ended.pk).update(
        rehearsal_starts_at=day - longest, rehearsal_ends_at=day)

    events = client_for(world.district_office).get(reverse("calendar:events"),
                                                   day_range(day)).json()
    assert [(e["groupId"], e["extendedProps"]["kind"]) for e in events] == [
        (str(reaching_in.pk), "rehearsal")
    ]


def test_events_need_a_sane_range_and_a_login(world):
    client = client_for(world.district_office)
    url = reverse("calendar:events")
    assert client.get(url).status_code == 400
    assert client.get(url, {"start": "2026-01-10", "end": "2026-01-01"}).status_code == 400
    assert client.get(url, {"start": "2026-01-01", "end": "2027-01-01"}).status_code == 400
    # FullCalendar's own format, with an offset whose "+" arrives as a space
    ok = client.get(url, {"start": "2026-01-05T00:00:00+07:00", "end": "2026-01-12T00:00:00"})
    assert ok.status_code == 200
    assert anonymous().get(url, {"start": "2026-01-05", "end": "2026-01-06"}).status_code == 302


def test_calendar_page_renders_with_vendored_assets(world):
    response = client_for(world.technician).get(reverse("calendar:calendar"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "vendor/fullcalendar/index.global.min.js" in page
    assert "vendor/fullcalendar/locales/vi.global.min.js" in page
    assert "cdn" not in page.lower()
    assert 'id="status-filter"' in page
    config = response.context["config"]
    assert config["locale"] == "en" and config["timeZone"] == "Asia/Ho_Chi_Minh"
    odd = client_for(world.technician).get(reverse("calendar:calendar"), {"date": "2026-02-30"})
    assert odd.context["config"]["initialDate"] == timezone.localdate().isoformat()
    vendor = Path(settings.BASE_DIR) / "ui" / "static" / "vendor"
    assert (vendor / "fullcalendar" / "index.global.min.js").exists()
    assert (vendor / "chartjs" / "chart.umd.min.js").exists()


def test_meeting_ics_download_is_scoped(world):
    start = working_day_at(5, 9)
    theirs = book(world, world.other_district, world.ep_other, [], start)
    url = reverse("calendar:meeting_ics", args=[theirs.pk])
    assert client_for(world.district_office).get(url).status_code == 404
    calendar = parse(client_for(world.other_office).get(url))
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [theirs.title]


# ---------------------------------------------------------------- an endpoint's busy times


def test_endpoint_busy_times_hide_titles_of_meetings_one_may_not_see(world):
    start = working_day_at(5, 9)
    theirs = book(world, world.other_district, world.ep_other, [], start)
    later = start + dt.timedelta(hours=4)
    shared = book(world, world.other_district, world.ep_other, [world.ep_district], later)
    client = client_for(world.district_office)

    url = reverse("calendar:endpoint_busy", args=[world.ep_other.pk])
    response = client.get(url, day_range(start))
    assert response.status_code == 200
    events = sorted(response.json(), key=lambda e: e["start"])
    assert [e["title"] for e in events] == ["Busy", shared.title]
    assert "url" not in events[0]
    assert events[1]["url"] == reverse("scheduling:meeting_detail", args=[shared.pk])
    assert theirs.title not in response.content.decode()

    page = client.get(reverse("calendar:endpoint", args=[world.ep_other.pk]))
    assert page.status_code == 200
    assert theirs.title not in page.content.decode()

    # an endpoint not yet admitted, of another district, is not shown
    pending = EndpointFactory(agency=world.other_district, name="UBND.Cam Ranh.02")
    assert client.get(reverse("calendar:endpoint", args=[pending.pk])).status_code == 404
    picked = client.get(reverse("calendar:endpoint_pick"), {"endpoint": world.ep_other.pk})
    assert picked.url == reverse("calendar:endpoint", args=[world.ep_other.pk])


# ---------------------------------------------------------------- MCU node load (R11)


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, minute, tzinfo=dt.UTC)


def test_load_steps_sweep_is_half_open_and_clipped():
    within = Window(_at(6), _at(18))
    loads = [
        Load(1, Window(_at(8), _at(10)), 3),
        Load(2, Window(_at(10), _at(12)), 4),  # starts when 1 ends: never together
        Load(3, Window(_at(9), _at(11)), 5),
        Load(4, Window(_at(17), _at(20)), 2),  # runs past the end: clipped
        Load(5, Window(_at(1), _at(2)), 9),  # outside
    ]
    steps = [(s.at.hour, s.meetings, s.endpoints) for s in load_steps(loads, within)]
    assert steps == [
        (6, 0, 0),
        (8, 1, 3),
        (9, 2, 8),
        (10, 2, 9),
        (11, 1, 4),
        (12, 0, 0),
        (17, 1, 2),
        (18, 1, 2),
    ]
    assert max(m for _, m, _ in steps) == 2


_MINUTES = st.integers(min_value=0, max_value=24 * 60)


@st.composite
def _loads(draw: st.DrawFn) -> list[Load]:
    loads = []
    for number in range(draw(st.integers(min_value=0, max_value=8))):
        start = draw(_MINUTES)
        length = draw(st.integers(min_value=1, max_value=12 * 60))
        endpoints = draw(st.integers(min_value=1, max_value=40))
        loads.append(Load(number, Window(_at(0, 0) + dt.timedelta(minutes=start),
                                         _at(0, 0) + dt.timedelta(minutes=start + length)),
                          endpoints))
    return loads


@given(loads=_loads(), first=_MINUTES, length=st.integers(min_value=1, max_value=24 * 60))
@hypothesis_settings(max_examples=200, deadline=None)
def test_load_page_and_booking_see_the_same_peak(loads, first, length):
    """The chart's steps come from the sweep booking checks the cap with (KH Đ12.4a): their
    highest values are `capacity.peak`, and both are the brute-force count of the loads held
    at the busiest minute."""
    within = Window(_at(0) + dt.timedelta(minutes=first),
                    _at(0) + dt.timedelta(minutes=first + length))
    steps = load_steps(loads, within)
    top = peak(loads, [within])
    assert (max(s.meetings for s in steps), max(s.endpoints for s in steps)) == (
        top.meetings, top.endpoints)
    minutes = [within.starts_at + dt.timedelta(minutes=m) for m in range(length)]
    held = [[load for load in loads if load.window.starts_at <= at < load.window.ends_at]
            for at in minutes]
    assert top.meetings == max(len(h) for h in held)
    assert top.endpoints == max(sum(load.endpoints for load in h) for h in held)


def test_load_page_shows_the_peak_at_which_booking_refuses(world):
    """Four meetings fill the node to its cap (80 % of 5): the load page shows exactly that
    peak, and booking a fifth at the same time is refused for capacity."""
    start = working_day_at(5, 9)
    endpoints = [world.ep_province, world.ep_district, world.ep_commune, world.ep_other,
                 world.ep_other_commune]
    for number, host_endpoint in enumerate(endpoints[:4]):
        book(world, host_endpoint.agency, host_endpoint, [],
             start + dt.timedelta(minutes=15 * number))
    day = Window(start - dt.timedelta(hours=9), start + dt.timedelta(hours=15))
    load = node_load(world.node, day)
    booked = peak(node_loads(world.node, [day], exclude_meeting=0), [day])
    assert (load.peak_meetings, load.peak_endpoints) == (booked.meetings, booked.endpoints)
    assert load.peak_meetings == load.meeting_cap == 4 and not load.over_cap
    fifth = book(world, world.other_commune, world.ep_other_commune, [], start, accept=False)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(fifth, actor=world.operator)
    assert refused.value.code == "mcu_capacity_full"
    client = client_for(world.operator)
    data = client.get(reverse("calendar:load_json"),
                      {"node": world.node.pk, **day_range(start)}).json()
    assert data["peak"] == {"meetings": 4, "endpoints": 4}


def test_load_json_counts_two_overlapping_meetings(world):
    start = working_day_at(5, 9)
    first = book(world, world.district, world.ep_district, [world.ep_commune], start)
    second = book(
        world,
        world.other_district,
        world.ep_other,
        [world.ep_other_commune, world.ep_province],
        start + dt.timedelta(hours=1),
    )
    assert first.node == second.node == world.node

    client = client_for(world.operator)
    response = client.get(
        reverse("calendar:load_json"), {"node": world.node.pk, **day_range(start)}
    )
    assert response.status_code == 200
    data = response.json()
    assert max(p["meetings"] for p in data["points"]) == 2
    assert max(p["endpoints"] for p in data["points"]) == 2 + 3
    assert data["peak"] == {"meetings": 2, "endpoints": 5}
    # KH Đ12.4a: 80 % of 5 meetings and 100 endpoints
    assert (data["meeting_cap"], data["endpoint_cap"], data["cap_percent"]) == (4, 80, 80)
    assert data["points"][0]["meetings"] == 0 and data["points"][-1]["meetings"] == 0

    page = client.get(reverse("calendar:load"), {"day": timezone.localdate(start).isoformat()})
    assert page.status_code == 200
    assert "vendor/chartjs/chart.umd.min.js" in page.content.decode()
    assert page.context["loads"][0].peak_meetings == 2
    week = client.get(reverse("calendar:load"), {"span": "week", "day": "2026-03-04"})
    assert week.context["first"] == dt.date(2026, 3, 2)


def test_load_is_for_operators_admins_and_auditors(world):
    url = reverse("calendar:load")
    assert client_for(world.auditor).get(url).status_code == 200
    assert client_for(world.district_office).get(url).status_code == 403
    assert client_for(world.technician).get(url).status_code == 403
    json_url = reverse("calendar:load_json")
    params = {"node": world.node.pk, "start": "2026-03-02", "end": "2026-03-03"}
    assert client_for(world.district_office).get(json_url, params).status_code == 403
    assert client_for(world.auditor).get(json_url, {**params, "node": 0}).status_code == 404


# ---------------------------------------------------------------- calendar feeds (R14)


def test_feed_token_serves_the_agencys_schedule_until_revoked(world):
    start = working_day_at(5, 9)
    ours = book(world, world.other_district, world.ep_other, [world.ep_district], start)
    hosted = book(world, world.district, world.ep_district, [], start + dt.timedelta(hours=3))
    elsewhere = book(world, world.other_district, world.ep_other, [], start + dt.timedelta(days=1))
    waiting = book(
        world, world.district, world.ep_district, [], start + dt.timedelta(days=2), accept=False
    )

    feed, raw = create_feed(world.district, actor=world.district_office)
    assert feed.token_hash == feeds.hash_token(raw) and raw not in feed.token_hash
    url = reverse("calendar:feed", args=[raw])
    response = anonymous().get(url)
    calendar = parse(response)
    uids = {str(e["UID"]) for e in calendar.walk("VEVENT")}
    code = active_rulebook().province_code
    assert uids == {f"meeting-{m.pk}-session@diemcau.tinh-{code:02d}" for m in (ours, hosted)}
    body = unfolded(response.content)
    assert elsewhere.title not in body and waiting.title not in body
    for meeting in (ours, hosted):
        assert meeting.code not in body
    assert PHONE in body  # the agency's own feed has the contact

    revoke_feed(feed, actor=world.district_office)
    assert anonymous().get(url).status_code == 404


def test_unknown_or_malformed_feed_tokens_are_404(world):
    create_feed(world.district, actor=world.district_office)
    client = anonymous()
    assert client.get(reverse("calendar:feed", args=["x" * 43])).status_code == 404
    assert client.get("/feeds/short.ics").status_code == 404
    assert client.get("/feeds/" + "a" * 43 + "%2F.ics").status_code == 404


def test_feed_creation_is_audited_and_permissioned(world):
    feed, raw = create_feed(world.district, actor=world.district_office)
    event = AuditEvent.objects.get(action="calendar_feed.create")
    assert event.actor == world.district_office
    assert event.object_id == str(feed.pk)
    assert raw not in str(event.after) and feed.token_hash not in str(event.after)
    revoke_feed(feed, actor=world.operator)
    assert AuditEvent.objects.filter(action="calendar_feed.revoke").count() == 1
    assert verify_chain().ok

    with pytest.raises(PermissionDenied):
        create_feed(world.district, actor=world.technician)
    with pytest.raises(PermissionDenied):
        create_feed(world.district, actor=world.other_office)
    with pytest.raises(PermissionDenied):
        create_feed(world.district, actor=world.auditor)
    assert CalendarFeed.objects.count() == 1


def test_feed_page_shows_the_link_once(world):
    client = client_for(world.district_office)
    url = reverse("calendar:feeds")
    assert client.get(url).status_code == 200
    created = client.post(url)
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    feed_url = created.context["feed_url"]
    assert "/feeds/" in feed_url and feed_url.endswith(".ics")
    assert feed_url in created.content.decode()
    listed = client.get(url)
    assert feed_url not in listed.content.decode()
    feed = CalendarFeed.objects.get()
    revoked = client.post(reverse("calendar:feed_revoke", args=[feed.pk]))
    assert revoked.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    # another district's office can neither list nor revoke it
    assert client_for(world.technician).get(url).status_code == 403
    other = client_for(world.other_office).post(reverse("calendar:feed_revoke", args=[feed.pk]))
    assert other.status_code == 404


# ---------------------------------------------------------------- the public schedule (R14)


@pytest.fixture
def published_week(world):
    start = working_day_at(5, 9)
    normal = book(world, world.district, world.ep_district, [world.ep_commune], start)
    secret = book(
        world,
        world.other_district,
        world.ep_other,
        [],
        start + dt.timedelta(hours=3),
        title="Họp bàn phương án bảo vệ bí mật",
        place="Phòng họp mật số 1",
        classification=Classification.STATE_SECRET,
    )
    waiting = book(
        world,
        world.commune,
        world.ep_commune,
        [],
        start + dt.timedelta(hours=5),
        accept=False,
        title="Họp chưa được duyệt",
    )
    return SimpleNamespace(start=start, normal=normal, secret=secret, waiting=waiting)


def test_public_schedule_hides_secrets(world, published_week):
    w = published_week
    response = anonymous().get(
        reverse("calendar:public_schedule"), {"week": timezone.localdate(w.start).isoformat()}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert w.normal.title in page and w.normal.place in page
    assert world.district.name in page and world.other_district.name in page
    assert str(feeds.SECRET_TITLE) in page
    assert w.secret.title not in page and w.secret.place not in page
    assert w.waiting.title not in page
    assert PHONE not in page and "Nguyễn Văn A" not in page
    for meeting in (w.normal, w.secret):
        assert meeting.code and meeting.code not in page
    assert world.node.name not in page
    assert response.context["count"] == 2
    rows = [row for _, rows in response.context["days"] for row in rows]
    assert {row.endpoints for row in rows} == {2, 1}


def test_public_schedule_defaults_to_this_week(world):
    response = anonymous().get(reverse("calendar:public_schedule"), {"week": "not-a-date"})
    assert response.status_code == 200
    today = timezone.localdate()
    assert response.context["monday"] == today - dt.timedelta(days=today.weekday())


def test_public_ics_follows_the_same_rules(world, published_week):
    w = published_week
    response = anonymous().get(reverse("calendar:public_schedule_ics"))
    calendar = parse(response)
    summaries = sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))
    assert summaries == sorted([w.normal.title, str(feeds.SECRET_TITLE)])
    body = unfolded(response.content)
    texts = event_texts(calendar)
    for text in (w.secret.title, w.secret.place, w.waiting.title, PHONE, world.node.name):
        assert text not in body and text not in texts
    for meeting in (w.normal, w.secret):
        assert meeting.code not in body
    assert Meeting.objects.filter(status=MeetingStatus.ACCEPTED).count() == 2


# ---------------------------------------------------------------- real browser, screenshots

SCREENSHOTS = Path("/tmp")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_pages_in_a_real_browser(live_server, world, monkeypatch):
    """The calendar draws the events from the JSON, the load page draws its charts, and the
    public schedule reads well on a phone. Screenshots go to /tmp/diemcau-calendar-*.png."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    start = working_day_at(5, 8)
    book(
        world,
        world.district,
        world.ep_district,
        [world.ep_commune],
        start,
        rehearsal_starts_at=start - dt.timedelta(days=1),
        rehearsal_ends_at=start - dt.timedelta(days=1) + dt.timedelta(hours=1),
        title="Giao ban công tác tháng",
    )
    book(
        world,
        world.other_district,
        world.ep_other,
        [world.ep_other_commune, world.ep_province],
        start + dt.timedelta(hours=1),
        title="Hội nghị triển khai chuyển đổi số",
    )
    book(
        world,
        world.other_district,
        world.ep_other,
        [],
        start + dt.timedelta(hours=6),
        classification=Classification.STATE_SECRET,
        title="Họp mật",
    )
    book(
        world,
        world.commune,
        world.ep_commune,
        [],
        start + dt.timedelta(days=1, hours=2),
        accept=False,
        title="Tập huấn phần mềm một cửa",
    )
    day = timezone.localdate(start).isoformat()
    base = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in ((1366, 900), (390, 844)):
                context = browser.new_context(
                    locale="vi-VN", viewport={"width": width, "height": height}
                )
                context.add_cookies(
                    [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "vi", "url": base}]
                )
                page = context.new_page()
                page.set_default_timeout(15_000)
                sign_in(page, base, world.operator.username)

                page.goto(f"{base}{reverse('calendar:calendar')}?date={day}")
                page.locator(".fc-event", has_text="Giao ban").first.wait_for()
                page.screenshot(
                    path=str(SCREENSHOTS / f"diemcau-calendar-week-{width}.png"), full_page=True
                )

                endpoint = reverse("calendar:endpoint", args=[world.ep_other.pk])
                page.goto(f"{base}{endpoint}?date={day}")
                page.locator(".fc-event", has_text="Hội nghị").first.wait_for()
                page.screenshot(
                    path=str(SCREENSHOTS / f"diemcau-calendar-endpoint-{width}.png"),
                    full_page=True,
                )

                page.goto(f"{base}{reverse('calendar:load')}?day={day}")
                page.wait_for_function(
                    "() => window.Chart && Object.keys(Chart.instances).length >= 2"
                )
                page.screenshot(
                    path=str(SCREENSHOTS / f"diemcau-calendar-load-{width}.png"), full_page=True
                )

                page.goto(f"{base}{reverse('calendar:public_schedule')}?week={day}")
                page.get_by_text("Hội nghị triển khai chuyển đổi số").wait_for()
                assert page.get_by_text("Họp mật", exact=True).count() == 0
                page.screenshot(
                    path=str(SCREENSHOTS / f"diemcau-calendar-public-{width}.png"), full_page=True
                )

                page.goto(f"{base}{reverse('calendar:feeds')}")
                page.click("form:not([data-confirm]) button[type=submit] >> nth=-1")
                page.locator("#feed-url").wait_for()
                page.screenshot(
                    path=str(SCREENSHOTS / f"diemcau-calendar-feeds-{width}.png"), full_page=True
                )
                context.close()
        finally:
            browser.close()
