"""The host console follows the script in a real browser (Debian's Chromium): the panel shows
the technician who runs the session and the next item; one click begins it and gives its
speaker the floor, and the console shows the item under way from the live state."""

from __future__ import annotations

from pathlib import Path

import pytest

from diemcau.media.models import Participation
from diemcau.media.tests.test_browser_live import (  # noqa: F401 (fixtures)
    CSP_VIOLATIONS,
    asgi_server,
    browser,
    new_page,
    wait_db,
    wait_page,
)
from diemcau.proceedings.models import AgendaItem
from diemcau.scheduling.choices import MeetingStatus
from diemcau.testing.browser import CHROMIUM
from diemcau.testing.factories import ContactFactory

from .conftest import enter

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
    pytest.mark.django_db(transaction=True),
]


def test_one_click_begins_the_next_item_and_gives_the_floor(world, asgi_server,  # noqa: F811
                                                            browser):  # noqa: F811
    world.meeting.status = MeetingStatus.LIVE
    world.meeting.save()
    ContactFactory(endpoint=world.district_endpoint, full_name="Trần Thị Huyện")
    # Arranged directly: the browser's event loop runs in this thread, where the services'
    # live broadcast cannot be sent (the click below goes through them in the server).
    AgendaItem.objects.create(meeting=world.meeting, position=1, title="Báo cáo tình hình",
                              speaker=world.participant, speaker_name="Chủ tịch UBND phường")
    speaker = enter(world.meeting, world.participant)
    CSP_VIOLATIONS.clear()

    page = new_page(browser, asgi_server, world.district_tech.username)
    page.goto(f"{asgi_server}/live/meetings/{world.meeting.pk}/console/")
    wait_page(page, "document.getElementById('script-technician').textContent"
                    ".includes('Trần Thị Huyện')")
    wait_page(page, "document.getElementById('script-next-title').textContent"
                    ".includes('Báo cáo tình hình') && "
                    "!document.getElementById('script-next-button').disabled")
    # The console's socket is open: the click goes over it.
    page.wait_for_selector("#socket-dot.on")
    page.click("#script-next-button")
    wait_db(lambda: Participation.objects.get(pk=speaker.pk).has_floor)
    assert AgendaItem.objects.get().state == "current"
    wait_page(page, "document.getElementById('script-current').textContent"
                    ".includes('Báo cáo tình hình')")
    assert CSP_VIOLATIONS == []
