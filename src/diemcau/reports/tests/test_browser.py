"""The report page in a real browser (Debian's Chromium through Playwright): the charts are
drawn, a bar opens the meetings behind it, and the page reads at phone and laptop widths.
Screenshots go to /tmp (diemcau-reports-*.png). Needs /usr/bin/chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = "/tmp/diemcau-reports-{name}-{width}.png"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium (/usr/bin/chromium) is not installed"),
]


@pytest.fixture
def browser_page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="vi-VN", viewport=LAPTOP)
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            browser.close()


def signed_in(page, base: str, user) -> None:  # type: ignore[no-untyped-def]
    """A session made on the server (no sign-in form: the form's second factor is not what
    this test is about)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value,
                               "url": base}])


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    for size in (PHONE, LAPTOP):
        page.set_viewport_size(size)
        page.wait_for_timeout(200)
        page.screenshot(path=SCREENSHOTS.format(name=name, width=size["width"]), full_page=True)


def test_the_report_page_draws_its_charts(live_server, half_year, browser_page):
    page, base = browser_page, live_server.url
    signed_in(page, base, half_year.operator)
    page.goto(f"{base}/reports/?period=2025-H1")
    page.wait_for_selector("body[data-report-charts]")
    drawn = page.locator("canvas[data-chart-drawn=true]")
    expected = int(page.get_attribute("body", "data-report-charts") or 0)
    assert expected >= 6 and drawn.count() == expected
    # Chart.js drew on the canvas: it is not blank.
    painted = page.evaluate("""() => {
        const c = document.getElementById('chart-meetings-outcome');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")
    assert painted > 1000
    assert page.locator("[data-report-table=meetings-outcome] tbody tr").count() == 7
    assert page.locator("[data-nav=reports].active").count() == 1
    shoot(page, "page")
    assert not page.errors  # type: ignore[attr-defined]

    # A figure opens the meetings behind it.
    page.set_viewport_size(LAPTOP)
    link = page.locator("[data-report-table=meetings-outcome] a[data-figure]").first
    link.click()
    page.wait_for_selector("[data-behind=meetings]")
    assert page.locator("[data-behind-count]").inner_text() == "3"
    assert page.locator("[data-behind=meetings] tbody tr").count() == 3
    shoot(page, "behind")


def test_a_district_office_sees_its_own_scope(live_server, half_year, browser_page):
    page, base = browser_page, live_server.url
    signed_in(page, base, half_year.district_office)
    page.goto(f"{base}/reports/?period=2025-H1")
    page.wait_for_selector("body[data-report-charts]")
    assert "Nha Trang" in page.locator("[data-report-scope]").inner_text()
    options = page.locator("#report-agency option").all_inner_texts()
    assert options == ["UBND thành phố Nha Trang", "UBND phường Xương Huân"]
    page.goto(f"{base}/reports/?period=2025-H1&agency={half_year.other_district.pk}")
    assert "403" in page.title() or page.locator("body").inner_text().strip() != ""
