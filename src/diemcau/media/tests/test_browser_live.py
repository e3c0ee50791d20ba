"""One live meeting in real browsers (Debian's Chromium through Playwright, with its fake
camera and microphone) against a real Janus and the real ASGI server (uvicorn, WebSockets):

* the host district's technician opens the host console;
* a commune's technician passes the device check (camera, microphone level, live channel,
  media server) and joins: the room shows its own picture, it enters muted (KH Đ11.6) and
  the console shows it connected;
* the commune asks to speak: the console's queue shows it; the host gives the floor: the room
  says so and its microphone track is enabled; the host mutes it again: disabled again;
* the commune reports its attendee count (R18) and its connection quality reaches the console;
* the host opens the session and escalates a problem: the operator's console shows it;
* the host removes it: the room says so; the meeting page shows the attendance.

Screenshots of the room, the host console and the operator console at 1366 and 390 px go to
/tmp/shots/. Never downloads a browser.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from django.conf import settings
from django.db import connection
from playwright.sync_api import sync_playwright

from diemcau.core.roles import Role
from diemcau.mcu.services import poll_health, register_node
from diemcau.media import selectors
from diemcau.media.models import LeaveReason, Participation
from diemcau.media.watch import NodeWatch
from diemcau.scheduling.choices import Classification
from diemcau.testing.browser import CHROMIUM, FAKE_MEDIA_ARGS, sign_in
from diemcau.testing.browser import CHROMIUM_ARGS as BASE_ARGS
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

CHROMIUM_ARGS = [*BASE_ARGS, *FAKE_MEDIA_ARGS]
SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.janus,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium (/usr/bin/chromium) is not installed"),
    pytest.mark.skipif(not os.access(settings.JANUS_BINARY, os.X_OK),
                       reason="the janus Debian package is not installed (apt-get install janus)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[str]:
    """uvicorn serving diemcau.asgi (pages and WebSockets) in a thread of this process, on
    the test database; the in-memory channel layer is shared with it."""
    port = _free_port()
    config = uvicorn.Config("diemcau.asgi:application", host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the test still reads the ORM.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# Content-Security-Policy violations any page of the test reported (R22: the live pages work
# under the policy — janus.js reaching the node's WebSocket, media from MediaStreams).
CSP_VIOLATIONS: list[str] = []


def watch_csp(context: Any) -> Any:
    context.on("console", lambda message: CSP_VIOLATIONS.append(message.text)
               if "Content Security Policy" in message.text else None)
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI); });"
    )
    return context


def new_page(browser: Any, base: str, username: str, *, locale: str = "vi-VN") -> Any:
    context = watch_csp(browser.new_context(locale=locale, viewport=LAPTOP))
    context.grant_permissions(["camera", "microphone"], origin=base)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, base, username)
    return page


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in (LAPTOP, PHONE):
        page.set_viewport_size(size)
        page.wait_for_timeout(400)
        page.screenshot(path=str(SHOTS / f"{name}-{size['width']}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def wait_answered(page: Any, check: str) -> None:
    """The device check's `check` (server, janus) was answered: "success", or "warning" when
    the answer took over 500 ms, as on a busy machine."""
    page.wait_for_selector(f"[data-check={check}][data-state=success], "
                           f"[data-check={check}][data-state=warning]")


def wait_page(page: Any, expression: str, timeout: float = 20.0) -> None:
    """Until `expression` is true in the page. Not Playwright's wait_for_function: while it
    polls, it compiles the expression with eval, which the page's Content-Security-Policy
    forbids (a slow machine, where the first check fails, then sees a CSP error)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true in the page: {expression}")
        time.sleep(0.2)


def wait_db(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the database never showed the expected state")
        time.sleep(0.2)


def test_join_through_the_device_check_and_host_controls(janus_server, kh_tree, use_rulebook,
                                                         asgi_server, browser):
    use_rulebook("khanh-hoa-2023")
    CSP_VIOLATIONS.clear()
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department, username="dieuhanh")
    node = register_node(janus_server.node_input("mcu-browser"), actor=operator)
    live = live_meeting(node, kh_tree.district, [kh_tree.commune],
                        classification=Classification.INTERNAL)
    meeting = live.meeting
    commune_endpoint = live.participants[0]
    UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district, username="kythuat.nt")
    UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune, username="kythuat.xh")
    base = asgi_server

    # -- the host's technician opens the console: nobody connected yet
    console = new_page(browser, base, "kythuat.nt")
    console.goto(f"{base}/live/meetings/{meeting.pk}/console/")
    console.wait_for_selector("#socket-dot.on")
    assert console.locator("#participants [data-participation]").count() == 0
    # Who has not come: every invited endpoint, with a join link for the absent (R18).
    invited = f"#invited-list [data-invited='{commune_endpoint.pk}']"
    console.wait_for_selector(f"{invited}[data-presence=absent] [data-do=link]")
    assert "Chưa vào" in console.inner_text(invited)

    # -- the host's own endpoint joins too (from a second tab), so the room has a main picture
    host_room = console.context.new_page()
    host_room.set_default_timeout(20_000)
    host_room.goto(f"{base}/live/meetings/{meeting.pk}/join/")
    wait_answered(host_room, "janus")
    # The host's endpoint is told the truth: it enters speaking (KH Đ11.6).
    assert host_room.is_visible("[data-mic-note=host]")
    assert not host_room.is_visible("[data-mic-note=participant]")
    host_room.click("#join-button")
    host_room.wait_for_selector("#live-room[data-state=connected]")
    assert host_room.inner_text("#connection-badge") == "Đã kết nối"
    host_room.wait_for_selector("#mic-state[data-muted=false]")
    assert not host_room.is_visible("#hand-button")
    # It closes its microphone and opens it again itself.
    host_room.click("#mic-button[data-do=mute_self]")
    host_room.wait_for_selector("#mic-state[data-muted=true]")
    host_room.click("#mic-button[data-do=unmute_self]")
    host_room.wait_for_selector("#mic-state[data-muted=false]")

    # -- the commune's technician: device check, then the room
    room = new_page(browser, base, "kythuat.xh")
    room.goto(f"{base}/live/meetings/{meeting.pk}/join/")
    room.wait_for_selector("[data-check=camera][data-state=success]")
    for check in ("server", "janus"):
        wait_answered(room, check)
    # The fake microphone beeps: the level meter moves.
    room.wait_for_selector("[data-check=mic][data-state=success]")
    assert "Kiểm tra thiết bị" in room.title()
    shoot(room, "device-check")
    room.click("#join-button")
    room.wait_for_url(f"**/live/meetings/{meeting.pk}/room/**")
    room.wait_for_selector("#live-room[data-state=connected]")
    # Own picture and the host's as the main picture.
    wait_page(room, "document.getElementById('self-video').videoWidth > 0")
    room.wait_for_selector("#stage figure.is-main video")
    wait_page(room,
              "Array.from(document.querySelectorAll('#stage video')).some(v => v.videoWidth > 0)")
    # KH Đ11.6: it enters muted, and its microphone track sends nothing.
    assert room.get_attribute("#mic-state", "data-muted") == "true"
    assert not room.is_visible("#mic-button") and not room.is_visible("#yield-button")
    assert room.evaluate(
        "document.getElementById('self-video').srcObject.getAudioTracks()"
        ".every(t => !t.enabled)"
    )

    mine = Participation.objects.get(meeting=meeting, endpoint=commune_endpoint,
                                     left_at__isnull=True)
    wait_db(lambda: Participation.objects.filter(pk=mine.pk).exclude(audio_mid="").exists())
    row = f"#participants [data-participation='{mine.pk}']"
    console.wait_for_selector(row)
    console.wait_for_selector(f"{row} [data-muted=true]")

    # -- it asks to speak; the console's queue shows it; the host gives the floor
    room.click("#hand-button")
    console.wait_for_selector(f"#queue li[data-participation='{mine.pk}']")
    room.wait_for_selector("#hand-button[data-raised=true]")
    console.click(f"#queue li[data-participation='{mine.pk}'] [data-do=give_floor]")
    room.wait_for_selector("#floor-banner:not(.d-none)")
    assert "Đến lượt bạn phát biểu" in room.inner_text("#floor-banner")
    room.wait_for_selector("#mic-state[data-muted=false]")
    console.wait_for_selector(f"{invited}[data-presence=in_room]")
    assert room.evaluate(
        "document.getElementById('self-video').srcObject.getAudioTracks()"
        ".every(t => t.enabled)"
    )
    console.wait_for_selector(f"{row}.has-floor [data-muted=false]")
    assert console.locator("#queue li[data-participation]").count() == 0

    # -- attendees and connection quality reach the console (R18)
    room.fill("#attendees-input", "23")
    room.click("#attendees-form button[type=submit]")
    console.wait_for_selector(f"{row} [data-attendees='23']")
    console.wait_for_selector(f"{row} [data-quality]:not([data-quality=unknown])", timeout=30_000)

    shoot(room, "room")
    shoot(console, "host-console")

    # -- with the floor it closes its own microphone and opens it again, then gives the
    #    floor back ("Kết thúc phát biểu"): the microphone closes with it
    room.click("#mic-button[data-do=mute_self]")
    room.wait_for_selector("#mic-state[data-muted=true]")
    console.wait_for_selector(f"{row}.has-floor [data-muted=true]")
    room.click("#mic-button[data-do=unmute_self]")
    room.wait_for_selector("#mic-state[data-muted=false]")
    assert room.inner_text("#yield-button").strip() == "Kết thúc phát biểu"
    room.click("#yield-button")
    room.wait_for_selector("#floor-banner.d-none", state="attached")
    room.wait_for_selector("#mic-state[data-muted=true]")
    console.wait_for_selector(f"{row}:not(.has-floor) [data-muted=true]")
    assert not room.is_visible("#mic-button")

    # -- the host gives the floor again, then mutes it
    console.click(f"{row} [data-do=give_floor]")
    room.wait_for_selector("#mic-state[data-muted=false]")
    console.click(f"{row} [data-do=mute]")
    room.wait_for_selector("#mic-state[data-muted=true]")
    room.wait_for_selector("#floor-banner.d-none", state="attached")
    assert room.evaluate(
        "document.getElementById('self-video').srcObject.getAudioTracks()"
        ".every(t => !t.enabled)"
    )

    # -- the operator's console shows the meeting with its two connections
    overview = new_page(browser, base, "dieuhanh")
    overview.goto(f"{base}/live/")
    overview.wait_for_selector(f"#meetings tr[data-meeting='{meeting.pk}'] [data-connected='2']")
    assert "mcu-browser" in overview.inner_text("#nodes")
    shoot(overview, "operator-console")

    # -- the host opens the official session, and asks the operator for help: the operator's
    #    console shows the incident at once
    console.click("[data-action=start]")
    console.wait_for_selector("#meeting-status[data-status=live]")
    console.fill("#escalate-text", "Điểm cầu Xương Huân mất tiếng")
    console.click("#escalate-form button[type=submit]")
    overview.wait_for_selector("#incidents li:has-text('Điểm cầu Xương Huân mất tiếng')")

    # -- the host removes the commune's endpoint: the room says so
    console.once("dialog", lambda dialog: dialog.accept())
    console.click(f"{row} [data-do=kick]")
    room.wait_for_selector("#live-room[data-state=closed][data-closed-reason=kicked]")
    assert room.is_visible("#room-ended")
    console.wait_for_selector(row, state="detached")  # told once the removal is committed
    assert Participation.objects.get(pk=mine.pk).left_reason == LeaveReason.KICKED
    console.wait_for_selector(f"{invited}[data-presence=removed] [data-do=link]")
    overview.wait_for_selector(f"#meetings tr[data-meeting='{meeting.pk}'] [data-connected='1']")
    overview.wait_for_selector(f"#meetings tr[data-meeting='{meeting.pk}'] "
                               f"[data-absent='{commune_endpoint.pk}']", state="attached")

    # -- the host issues a join link for the commune's room computer, which joins without an
    #    account: the link is shown once, the device check and the room work the same
    console.click(f"{invited} [data-do=link]")  # one click from the list of the invited
    link_url = console.inner_text("[data-new-link]").strip()
    assert "/j/" in link_url
    anonymous = watch_csp(browser.new_context(locale="vi-VN", viewport=LAPTOP))
    anonymous.grant_permissions(["camera", "microphone"], origin=base)
    room_pc = anonymous.new_page()
    room_pc.set_default_timeout(20_000)
    room_pc.goto(link_url)
    wait_answered(room_pc, "janus")
    room_pc.click("#join-button")
    room_pc.wait_for_url("**/room/**")
    room_pc.wait_for_selector("#live-room[data-state=connected]")
    console.goto(f"{base}/live/meetings/{meeting.pk}/console/")
    again = Participation.objects.get(meeting=meeting, endpoint=commune_endpoint,
                                      left_at__isnull=True)
    assert again.user_id is None and again.join_link_id is not None
    console.wait_for_selector(f"#participants [data-participation='{again.pk}']")

    # -- the meeting page: the live buttons and the attendance (R18)
    console.goto(f"{base}/meetings/{meeting.pk}/")
    assert console.is_visible("[data-live=console]") and console.is_visible("[data-live=join]")
    assert console.is_visible(f"#attendance [data-attendance='{commune_endpoint.pk}']")
    shoot(console, "meeting-detail")
    assert not CSP_VIOLATIONS, CSP_VIOLATIONS


def test_a_room_page_comes_back_by_itself_after_janus_restarts(janus_factory, kh_tree,
                                                                use_rulebook, asgi_server,
                                                                browser):
    use_rulebook("khanh-hoa-2023")
    janus = janus_factory()
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    node = register_node(janus.node_input("mcu-restart"), actor=operator)
    live = live_meeting(node, kh_tree.district, [kh_tree.commune],
                        classification=Classification.INTERNAL)
    UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district, username="kythuat.nt")
    UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune, username="kythuat.cr")
    # The host's console hears of every change once it is committed.
    console = new_page(browser, asgi_server, "kythuat.nt")
    console.goto(f"{asgi_server}/live/meetings/{live.meeting.pk}/console/")
    console.wait_for_selector("#socket-dot.on")
    room = new_page(browser, asgi_server, "kythuat.cr")
    room.goto(f"{asgi_server}/live/meetings/{live.meeting.pk}/join/")
    wait_answered(room, "janus")
    room.click("#join-button")
    room.wait_for_selector("#live-room[data-state=connected]")
    first = Participation.objects.get(meeting=live.meeting, left_at__isnull=True)
    row = f"#participants [data-participation='{first.pk}']"
    console.wait_for_selector(row)

    watch = NodeWatch()  # what the worker runs every second, in a thread of its own

    def tick() -> list[str]:
        # Not on this thread: Playwright's event loop runs here.
        def run() -> list[str]:
            try:
                return [event.kind for event in watch.tick()]
            finally:
                connection.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(run).result()

    assert poll_health(node)
    assert tick() == []
    janus.stop(kill=True)  # the media server dies mid-meeting
    room.wait_for_selector("#live-room[data-state=closed][data-closed-reason=lost]")
    # The page tells the server it lost its media server; the console shows the line as
    # reconnecting instead of dropping it.
    console.wait_for_selector(f"{row}[data-reconnecting=true]")
    assert console.locator(f"{row} [data-do]").count() == 0  # nothing to act on meanwhile
    assert Participation.objects.get(pk=first.pk).left_reason == LeaveReason.LOST
    assert tick() == ["down"]
    # Its first backoff runs out while the node is down: it keeps waiting on its socket
    # rather than reloading into a media server that does not answer.
    room.wait_for_selector("#live-room[data-waiting=media]", timeout=30_000)
    assert room.get_attribute("#live-room", "data-state") == "closed"
    # No English words of Janus on the page.
    assert "Janus" not in room.inner_text("#live-room") and "Lost connection" not in \
        room.inner_text("#live-room")
    janus.start()
    # The watch sees the node back, recreates the room and tells the page: it joins again
    # at once, without waiting for the rest of its backoff.
    assert tick() == ["back"]
    room.wait_for_selector("#live-room[data-state=connected]", timeout=60_000)
    again = Participation.objects.get(meeting=live.meeting, left_at__isnull=True)
    assert again.pk != first.pk and again.joined_at is not None
    console.wait_for_selector(f"#participants [data-participation='{again.pk}']")
    console.wait_for_selector(f"{row}[data-reconnecting=true]", state="detached")
    assert [line.connections for line in selectors.attendance(live.meeting)
            if line.endpoint_id == live.participants[0].pk] == [2]
