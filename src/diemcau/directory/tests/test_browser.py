"""One real-browser flow (Debian's Chromium through Playwright): a district office registers
an endpoint, is told the KH naming rule with its article, takes the suggested name, and finds
the endpoint in the list. Needs /usr/bin/chromium; never downloads a browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from diemcau.core.roles import Role
from diemcau.directory.models import Endpoint
from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS
from diemcau.testing.factories import TEST_PASSWORD, UserFactory

SCREENSHOT = "/tmp/diemcau-browser.png"

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
        context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_register_endpoint_with_naming_rule(live_server, kh_tree, use_rulebook, browser_page):
    use_rulebook("khanh-hoa-2023")
    office = UserFactory(role=Role.OFFICE, agency=kh_tree.district, username="vanphong.nt")
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/login/")
    page.fill("#id_username", office.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/endpoints/new/")
    # Choosing the ward fetches its suggested name (htmx).
    page.select_option("#id_agency", str(kh_tree.commune.pk))
    suggestion = page.locator("#name-suggestion [data-suggested-name]")
    suggestion.wait_for()
    assert suggestion.inner_text() == "NT.XuongHuan"

    page.fill("#id_name", "NT.Xuong Huan")  # a space: not the KH Đ6.4 form
    page.fill("#id_bandwidth_mbps", "8")
    page.fill("#id_vcs_ip", "10.56.3.21")
    page.check("#id_dedicated_line")
    page.fill("#id_location", "Phòng họp UBND phường")
    page.click("#endpoint-form button[type=submit]")

    error = page.locator("#id_name_errors")
    error.wait_for()
    assert "Điều 6.4" in error.inner_text()
    assert "Quy chế KH" in error.inner_text()
    assert not Endpoint.objects.exists()

    # Fix the name with the suggestion shown next to the field, and submit again.
    page.click("#name-suggestion [data-fill-target]")
    assert page.input_value("#id_name") == "NT.XuongHuan"
    page.click("#endpoint-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/endpoints/\d+/$"))
    endpoint = Endpoint.objects.get()
    assert endpoint.name == "NT.XuongHuan" and endpoint.agency == kh_tree.commune

    page.goto(f"{base}/endpoints/")
    row = page.locator("table tbody tr", has_text="NT.XuongHuan")
    row.wait_for()
    assert "Chờ thẩm định" in row.inner_text()  # the UI speaks Vietnamese first
    page.screenshot(path=SCREENSHOT, full_page=True)
