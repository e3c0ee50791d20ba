"""Every page works under the Content-Security-Policy (R22): a real browser (Debian's
Chromium through Playwright) signs in — with the two-factor code, as an MCU operator — opens
the pages that run scripts (calendar, load charts, htmx lists, the admin, the API docs, the
consoles) and reports no CSP violation. The live room is checked with Janus in
media/tests/test_browser_live.py. Never downloads a browser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from diemcau.core.roles import Role

# uvicorn serving the pages and the WebSockets, as in production.
from diemcau.media.tests.test_browser_live import asgi_server  # noqa: F401
from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from diemcau.testing.factories import McuNodeFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium (/usr/bin/chromium) is not installed"),
]


def watch_csp(page) -> list[str]:
    """The CSP violations the page reports (console errors and securitypolicyviolation)."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI); });"
    )
    return violations


@pytest.fixture
def browser_context(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
        try:
            yield context
        finally:
            context.close()
            browser.close()


def test_the_pages_run_under_the_policy(asgi_server, kh_world, browser_context):  # noqa: F811
    from diemcau.media.tests.live_fixtures import live_meeting

    t = kh_world
    UserFactory(role=Role.ADMIN, agency=t.province, username="quantri.csp", is_staff=True,
                is_superuser=True)
    node = McuNodeFactory(name="mcu-csp", ws_url="ws://127.0.0.1:9/")
    live = live_meeting(node, t.district, [t.commune], starts_in=dt.timedelta(minutes=-5))
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    violations = watch_csp(page)
    base = asgi_server
    sign_in(page, base, t.operator.username)  # the two-factor code typed too
    day = timezone.localdate().isoformat()
    checks = [
        ("/", "main"),
        (f"/calendar/?date={day}", ".fc-view-harness"),  # FullCalendar drew itself
        ("/calendar/load/", "canvas"),
        ("/agencies/?q=khanh hoa", "main"),
        ("/endpoints/", "main"),
        ("/meetings/", "main"),
        (f"/meetings/{live.meeting.pk}/", "main"),
        ("/live/", "#socket-dot.on"),  # the operator console's WebSocket opened
        (f"/live/meetings/{live.meeting.pk}/console/", "#socket-dot.on"),
        ("/account/two-factor/", "main"),
        ("/account/password/", "main"),
        ("/api/docs", "#swagger-ui .information-container"),
    ]
    for path, ready in checks:
        page.goto(base + path)
        page.wait_for_selector(ready)
        page.wait_for_timeout(300)
        assert not violations, f"{path}: {violations}"
    page.context.clear_cookies()
    sign_in(page, base, "quantri.csp")
    for path, ready in [("/admin/", "#content"), ("/admin/core/user/", "#result_list"),
                        ("/audit/", "main")]:
        page.goto(base + path)
        page.wait_for_selector(ready)
        page.wait_for_timeout(300)
        assert not violations, f"{path}: {violations}"
    # The watch itself works: an injected inline script is blocked and reported.
    page.evaluate("() => { const s = document.createElement('script');"
                  " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }")
    page.wait_for_timeout(300)
    assert violations and page.evaluate("() => window.injected") is None
