"""One real-browser flow (Debian's Chromium through Playwright): a district office registers a
meeting while the rules panel tells it what is allowed, the operator sees it in the queue with
a live countdown and accepts it in one click, and the host then sees the secret meeting code.
Screenshots of the form, the queue and the meeting page at phone and laptop widths go to /tmp.
Needs /usr/bin/chromium; never downloads a browser."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from diemcau.core import calendar
from diemcau.core.roles import Role
from diemcau.rulebooks import active_rulebook
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from diemcau.testing.factories import (
    ApprovedEndpointFactory,
    McuNodeFactory,
    UserFactory,
)

SCREENSHOTS = "/tmp/diemcau-scheduling-{name}-{width}.png"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium (/usr/bin/chromium) is not installed",
    ),
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test still calls the ORM.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport=LAPTOP)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def shoot(page, name: str) -> None:
    """The page at phone and laptop widths, whole length."""
    for size in (PHONE, LAPTOP):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=SCREENSHOTS.format(name=name, width=size["width"]), full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base, username)  # with the two-factor code for the operator


def test_register_accept_and_see_the_code(live_server, kh_tree, use_rulebook, browser_page):
    use_rulebook("khanh-hoa-2023")
    office = UserFactory(
        role=Role.OFFICE,
        agency=kh_tree.district,
        username="vanphong.nt",
        first_name="Lan",
        last_name="Trần",
        phone="0905123456",
    )
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department, username="dieuhanh")
    ApprovedEndpointFactory(agency=kh_tree.district, name="UBND.Nha Trang")
    ApprovedEndpointFactory(agency=kh_tree.commune, name="NT.XuongHuan")
    ApprovedEndpointFactory(agency=kh_tree.other_district, name="UBND.Cam Ranh")
    McuNodeFactory(name="mcu-1")
    work = calendar.WorkCalendar.for_rulebook(active_rulebook())
    start = timezone.localtime(work.add_working_days(timezone.now(), 5)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    page = browser_page
    base = live_server.url

    # -- the office registers
    log_in(page, base, office.username)
    page.goto(f"{base}/meetings/new/")
    page.fill("#id_title", "Giao ban trực tuyến tháng 12")
    # Its own agency and its only admitted endpoint are chosen already.
    assert page.input_value("#id_host_agency") == str(kh_tree.district.pk)
    assert page.locator("#id_host_endpoint option:checked").inner_text() == "UBND.Nha Trang"
    # The panel tells the earliest start allowed now, with the article.
    earliest = page.locator("#rules-panel [data-rule=earliest]")
    assert "Điều 13.2a Quy chế KH" in earliest.inner_text()
    # Pick the ward by searching without accents.
    page.fill("[data-endpoint-filter]", "xuong huan")
    page.locator("[data-option]:visible label").first.click()
    assert page.locator("[data-selected-count]").inner_text() == "1"
    # Typed day first on 24 hours whatever the browser's locale (en-US here).
    page.fill("#id_starts_at", start.strftime("%d/%m/%Y %H:%M"))
    page.locator("#id_starts_at").dispatch_event("change")
    # The end follows the start, and the panel says the start is in time.
    page.wait_for_selector("#rules-panel [data-rule=timing][data-in-time=yes]")
    assert page.input_value("#id_ends_at") == (start + dt.timedelta(hours=2)).strftime(
        "%d/%m/%Y %H:%M"
    )
    page.wait_for_selector("#rules-panel [data-rule=busy] .text-success")
    page.fill("#id_place", "Hội trường UBND thành phố")
    assert page.input_value("#id_contact_phone") == "0905123456"
    shoot(page, "form")
    page.click("#meeting-form button[name=action][value=submit]")
    page.wait_for_url(re.compile(r".*/meetings/\d+/$"))
    meeting = Meeting.objects.get()
    assert meeting.status == MeetingStatus.SUBMITTED and meeting.starts_at == start

    # -- the operator sees it in the queue, with a live countdown, and accepts it
    log_in(page, base, operator.username)
    badge = page.locator("#nav-queue-count [data-queue-count]")
    badge.wait_for()
    assert badge.get_attribute("data-queue-count") == "1"
    page.goto(f"{base}/operator/queue/")
    item = page.locator(f"[data-queue-item][data-meeting='{meeting.pk}']")
    countdown = item.locator("[data-countdown] [data-countdown-text]")
    first = countdown.inner_text()
    page.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[countdown.element_handle(), first]
    )
    assert re.fullmatch(r"\d+:\d\d:\d\d", countdown.inner_text())
    assert item.locator("[data-plan=fits]").count() == 1
    shoot(page, "queue")
    item.locator("[data-accept]").click()
    page.wait_for_url(f"{base}/operator/queue/")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.ACCEPTED and meeting.code

    # -- the host sees the code
    log_in(page, base, office.username)
    page.goto(f"{base}/meetings/{meeting.pk}/")
    assert page.locator("[data-meeting-code]").inner_text() == meeting.code
    assert page.locator("[data-check-status]").count() == 2  # host and ward, before the session
    shoot(page, "detail")
