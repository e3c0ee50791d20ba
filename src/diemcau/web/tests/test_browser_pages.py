"""Pages that fit (Debian's Chromium through Playwright): the main pages at a 390 px phone and
a 1366 px laptop. No page scrolls sideways; long meeting titles wrap; the administrator's
menu — the longest — keeps the notifications, the language and the account menu on the
screen, on one row; the join button waits for the room; the 404 page is in Vietnamese.
Screenshots go to /tmp/diemcau-pages-<page>-<width>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from diemcau.core.roles import Role
from diemcau.media.tests.live_fixtures import live_meeting
from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from diemcau.testing.factories import McuNodeFactory, UserFactory

SCREENSHOTS = "/tmp/diemcau-pages-{name}-{width}.png"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
# A 1366 px screen shows a page 1349 px wide beside a classic (Windows) scroll bar.
LAPTOP_BESIDE_SCROLLBAR = {"width": 1349, "height": 768}
LONG_TITLE = ("Hội nghị trực tuyến toàn tỉnh triển khai công tác phòng, chống thiên tai, tìm "
              "kiếm cứu nạn và khắc phục hậu quả mưa lũ năm 2026 tại các huyện, thị xã")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium (/usr/bin/chromium) is not installed"),
]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test still calls the ORM.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def site(kh_tree, use_rulebook):
    use_rulebook("khanh-hoa-2023")
    node = McuNodeFactory(name="mcu-1")
    now_on = live_meeting(node, kh_tree.district, [kh_tree.commune, kh_tree.other_commune],
                          title=LONG_TITLE)
    later = live_meeting(node, kh_tree.district, [kh_tree.commune],
                         starts_in=dt.timedelta(days=3))
    users = {
        "quantri": UserFactory(role=Role.ADMIN, agency=kh_tree.department, username="quantri"),
        "kythuat": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district,
                               username="kythuat"),
    }
    return {"now": now_on.meeting, "later": later.meeting, "users": users}


def new_page(browser: Any, base: str, username: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(locale="vi-VN", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, base, username)
    return page


def fits(page: Any) -> bool:
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"))


def visit(page: Any, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    width = page.viewport_size["width"]
    page.screenshot(path=SCREENSHOTS.format(name=name, width=width), full_page=True)
    assert fits(page), f"{name} scrolls sideways at {width} px"


MENU_CONTROLS = ("nav.navbar a[href='/notifications/'], "
                 "form[action='/i18n/setlang/'] button, [data-nav=account]")


def menu_boxes(page: Any) -> list[dict[str, float]]:
    """The boxes of the menu's links and of the controls at its end."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(
            'nav.navbar .navbar-nav > .nav-item > .nav-link, ' + selector))
          .filter(e => e.offsetParent !== null)
          .map(e => { const r = e.getBoundingClientRect();
                      return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })""",
        MENU_CONTROLS)


def test_the_administrators_menu_fits_a_laptop(live_server, site, browser):
    base = live_server.url
    for viewport in (LAPTOP, LAPTOP_BESIDE_SCROLLBAR):
        page = new_page(browser, base, "quantri", viewport)
        for path, name in (("/", "dashboard"), ("/audit/", "audit")):
            visit(page, base + path, f"admin-{name}")
            boxes = menu_boxes(page)
            assert len(boxes) >= 10  # the links, the bell, VI, EN and the account menu
            assert max(b["right"] for b in boxes) <= viewport["width"]
            # One row: every link and control shares the first one's line.
            assert max(b["top"] for b in boxes) < min(b["bottom"] for b in boxes)
        account = page.locator("[data-nav=account]")
        account.click()
        logout = page.locator("form[action='/logout/'] button")
        assert logout.is_visible()
        box = logout.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport["width"]
        page.context.close()


def test_the_main_pages_fit_a_phone_and_a_laptop(live_server, site, browser):
    base = live_server.url
    now, later = site["now"], site["later"]
    pages = [
        ("/", "dashboard"),
        ("/meetings/", "meetings"),
        (f"/meetings/{now.pk}/", "meeting"),
        (f"/live/meetings/{now.pk}/console/", "console"),
        (f"/live/meetings/{later.pk}/join/", "join-before"),
        ("/calendar/", "calendar"),
        ("/schedule/", "public-schedule"),
    ]
    for viewport in (PHONE, LAPTOP):
        page = new_page(browser, base, "kythuat", viewport)
        for path, name in pages:
            visit(page, base + path, name)
        # A long title wraps on the phone rather than running off the screen.
        page.goto(f"{base}/meetings/{now.pk}/")
        title = page.locator("h1").first
        box = title.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport["width"]
        if viewport is PHONE:
            line = float(page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('h1')).lineHeight)"))
            assert box["height"] > 2 * line  # several lines
        # The meeting on now offers its way in; the later one's join button waits.
        page.goto(f"{base}/")
        assert page.locator(f"a[data-live-entry=join][href='/live/meetings/{now.pk}/join/']"
                            ).first.inner_text().strip() == "Vào họp"
        page.goto(f"{base}/live/meetings/{later.pk}/join/")
        assert page.locator("#join-button").is_disabled()
        opens = timezone.localtime(later.starts_at - dt.timedelta(minutes=30))
        assert (f"Phòng họp mở lúc {opens:%H:%M} ngày {opens:%d/%m/%Y}"
                in page.inner_text("#room-opens"))
        page.goto(f"{base}/live/meetings/{now.pk}/join/")
        assert page.locator("#join-button").is_enabled()
        page.context.close()


def test_the_404_page_in_vietnamese(live_server, site, browser):
    context = browser.new_context(locale="en-US", viewport=PHONE)
    page = context.new_page()
    response = page.goto(f"{live_server.url}/khong-co-trang-nay/")
    assert response is not None and response.status == 404
    assert "Không tìm thấy trang" in page.inner_text("h1")
    assert fits(page)
    page.screenshot(path=SCREENSHOTS.format(name="404", width=PHONE["width"]))
    context.close()
