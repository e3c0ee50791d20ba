"""The mixed sound, decoded at the terminals: each hears everyone but itself (mix-minus),
a muted input is not mixed, and the active speaker (from audio levels) takes the single
picture when the host chose no main input."""

from __future__ import annotations

import pytest

from diemcau.mixer.codecs import LegCodecs
from diemcau.mixer.layout import Layout
from diemcau.mixer.legs import LegSpec
from diemcau.mixer.testing import frames, scenes
from diemcau.mixer.testing.baresip import TerminalCodecs

pytestmark = pytest.mark.janus

TONES = {"a": 700, "b": 1100, "browser": 500}
HEARD = 0.03  # relative power at a tone's frequency: ~0.1–0.5 when present, ~0 when absent


def heard(terminal) -> dict[str, float]:
    samples, rate = terminal.received_sound(0.5)
    return {name: frames.tone_power(samples, rate, hz) for name, hz in TONES.items()}


def test_every_terminal_hears_everyone_but_itself_and_muted_inputs_are_not_mixed(
        plane, room, mixer_host, terminal, updates):
    _browser, browser_feed = scenes.publish(plane, room, "browser", frames.GREEN,
                                            tone_hz=TONES["browser"])
    a = terminal("a", colour=frames.RED, tone_hz=TONES["a"],
                 codecs=TerminalCodecs(audio="PCMU", video="VP8"))
    b = terminal("b", colour=frames.BLUE, tone_hz=TONES["b"],
                 codecs=TerminalCodecs(audio="PCMA", video="VP8"))
    leg_a = mixer_host.dial_out(room, LegSpec("a", "A", LegCodecs("VP8", "PCMU"),
                                              muted_on_entry=False), a.uri)
    leg_b = mixer_host.dial_out(room, LegSpec("b", "B", LegCodecs("VP8", "PCMA"),
                                              muted_on_entry=False), b.uri)
    for leg in ("a", "b"):
        scenes.wait_state(updates, leg, "accepted")

    def hears(terminal, present: set[str], absent: set[str]) -> bool:
        power = heard(terminal)
        return (all(power[n] > HEARD for n in present)
                and all(power[n] < HEARD / 3 for n in absent))

    # a hears b and the browser, never itself; b hears a and the browser.
    scenes.wait_for(lambda: hears(a, {"b", "browser"}, {"a"}), timeout=30,
                    what=f"a's mix-minus ({heard(a)})")
    scenes.wait_for(lambda: hears(b, {"a", "browser"}, {"b"}), timeout=30,
                    what=f"b's mix-minus ({heard(b)})")

    print("\nheard at a", heard(a), "at b", heard(b))
    # The browser is muted (the host's mute): nobody hears it any more.
    mixer_host.set_muted(room.room, browser_feed, True)
    scenes.wait_for(lambda: hears(a, {"b"}, {"a", "browser"}), what="the browser muted at a")
    scenes.wait_for(lambda: hears(b, {"a"}, {"b", "browser"}), what="the browser muted at b")

    # Only a speaks: it becomes the active speaker, whose picture fills the single layout
    # (ĐN Đ12.2b: one picture following the speaker) that b receives.
    mixer = mixer_host.running(room.room)
    mixer_host.set_layout(room.room, Layout.SINGLE)
    mixer_host.mute_leg("b", True)
    scenes.wait_for(lambda: mixer.mixer.speaker.speaker == leg_a.feed, what="a speaking")
    scenes.wait_for(lambda: frames.distance(b.snapshot().at(160, 90), frames.RED) < 60,
                    what="a's picture at b")
    # Then b speaks and a is muted: the picture follows, after the hold time.
    mixer_host.mute_leg("b", False)
    mixer_host.mute_leg("a", True)
    scenes.wait_for(lambda: mixer.mixer.speaker.speaker == leg_b.feed, what="b speaking")
    scenes.wait_for(lambda: frames.distance(a.snapshot().at(160, 90), frames.BLUE) < 60,
                    what="b's picture at a")
