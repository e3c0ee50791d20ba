"""The link to the national MCU (R23), played by a second baresip: tested before the
session (KH Đ16.1 / ĐN Đ5.4), then called: it receives the room's composed picture and
mixed sound, and its own picture and sound enter the room like a participant's."""

from __future__ import annotations

import pytest

from diemcau.mixer.codecs import LegCodecs
from diemcau.mixer.testing import frames, scenes
from diemcau.mixer.testing.baresip import TerminalCodecs

pytestmark = pytest.mark.janus

CANVAS = (640, 360)


def test_the_upstream_link_is_tested_then_carries_the_meeting(plane, room, mixer_host,
                                                              terminal, updates):
    browser, browser_feed = scenes.publish(plane, room, "browser", frames.GREEN, tone_hz=500)
    national = terminal("national", colour=frames.ORANGE, tone_hz=900,
                        codecs=TerminalCodecs(audio="opus", video="H264"))
    codecs = LegCodecs(video="H264", audio="OPUS")

    # Before the session: a test call, media both ways, numbers, then hung up.
    report = mixer_host.check_link(room, national.uri, "Chính phủ", codecs, seconds=2)
    assert report.ok, report
    assert report.received == {"audio": True, "video": True}
    assert report.quality is not None and report.quality.packets_received > 0
    national.wait_event("CALL_CLOSED")
    scenes.wait_for(lambda: mixer_host.running(room.room) is None, what="the test ended")

    # The session: the upstream gets the composed picture with the room's endpoints…
    leg = mixer_host.link_upstream(room, national.uri, "Chính phủ", codecs)
    scenes.wait_state(updates, "upstream", "accepted")
    mixer = mixer_host.running(room.room)
    scenes.wait_for(lambda: len(mixer.mixer.video.tiles()) == 2, what="two inputs")
    expected = {browser_feed: frames.GREEN, leg.feed: frames.ORANGE}
    scenes.wait_for(lambda: scenes.matches(national.snapshot(), mixer.mixer.video.tiles(),
                                           CANVAS, expected),
                    timeout=30, what="the room's picture at the national MCU")
    # …and the room's sound (the browser's tone), not its own.
    def upstream_hears() -> dict[int, float]:
        samples, rate = national.received_sound(0.5)
        return {hz: frames.tone_power(samples, rate, hz) for hz in (500, 900)}

    scenes.wait_for(lambda: upstream_hears()[500] > 0.05 and upstream_hears()[900] < 0.01,
                    what="the room's sound at the national MCU")

    # The national MCU is seen and heard in the room (it chairs: not muted on entry).
    scenes.watch(plane, room, browser, [leg.feed])
    scenes.wait_for(lambda: frames.distance(browser.centre_colour(leg.feed) or (0, 0, 0),
                                            frames.ORANGE) < 60, what="orange at the browser")
    scenes.wait_for(lambda: browser.sound(leg.feed, [900])[1][900] > 0.1,
                    what="the national MCU's tone at the browser")
