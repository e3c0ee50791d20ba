"""Dial-out to a hardware terminal (KH Đ11.7: the central MCU dials the endpoint's VCS
address), a baresip in its own namespace: it receives the room's composed picture, with
each endpoint's colour in its tile; the host's layout moves the colours; the terminal's own
colour and tone reach the browsers; remove hangs the call up."""

from __future__ import annotations

import time

import pytest

from diemcau.mixer.codecs import LegCodecs
from diemcau.mixer.layout import Layout
from diemcau.mixer.legs import LegSpec
from diemcau.mixer.testing import frames, scenes
from diemcau.mixer.testing.baresip import TerminalCodecs

pytestmark = pytest.mark.janus

CANVAS = (640, 360)


@pytest.mark.parametrize(("video", "audio"), [("H264", "G722"), ("VP8", "OPUS")])
def test_the_terminal_gets_the_composed_picture_and_is_seen_in_the_room(
        video, audio, plane, room, mixer_host, terminal, updates):
    red, red_feed = scenes.publish(plane, room, "red", frames.RED)
    green, green_feed = scenes.publish(plane, room, "green", frames.GREEN, tone_hz=600)
    vcs = terminal("vcs", colour=frames.BLUE, tone_hz=700,
                   codecs=TerminalCodecs(audio="opus" if audio == "OPUS" else audio,
                                         video=video))

    started = time.monotonic()
    leg = mixer_host.dial_out(room, LegSpec("leg-1", "UBND.Nha Trang",
                                            LegCodecs(video=video, audio=audio)), vcs.uri)
    scenes.wait_state(updates, "leg-1", "accepted")
    assert scenes.leg_states(updates, "leg-1")[:2] == ["calling", "ringing"]
    vcs.wait_event("CALL_ESTABLISHED")
    mixer = mixer_host.running(room.room)
    expected = {red_feed: frames.RED, green_feed: frames.GREEN, leg.feed: frames.BLUE}

    # The terminal decodes the composed picture: the three colours in a 2×2 grid, its own
    # included (it comes back from the room like any publisher).
    scenes.wait_for(lambda: len(mixer.mixer.video.tiles()) == 3, what="three inputs")
    tiles = mixer.mixer.video.tiles()
    scenes.wait_for(lambda: scenes.matches(vcs.snapshot(), tiles, CANVAS, expected),
                    timeout=30, what="the grid's colours at the terminal")
    took = time.monotonic() - started
    print(f"\n{video}/{audio}: dial → every colour at the terminal {took:.1f}s")

    # The host puts the terminal large (ĐN Đ12.2b): the colours move.
    mixer_host.set_layout(room.room, Layout.SPEAKER, main=leg.feed)
    tiles = mixer.mixer.video.tiles()
    assert tiles[leg.feed].width > tiles[red_feed].width
    scenes.wait_for(lambda: scenes.matches(vcs.snapshot(), tiles, CANVAS, expected),
                    what="the speaker layout's colours at the terminal")

    # A browser sees the terminal's colour; it entered muted (KH Đ11.6), then the host
    # gives it the floor and its tone is heard.
    scenes.watch(plane, room, red, [leg.feed])
    red.wait_frames(leg.feed, "video", more_than=5, timeout=20)
    scenes.wait_for(lambda: frames.distance(red.centre_colour(leg.feed) or (0, 0, 0),
                                            frames.BLUE) < 60, what="blue at the browser")
    assert red.sound(leg.feed, [700])[0] == 0  # nothing comes
    mixer_host.mute_leg("leg-1", False)
    scenes.wait_for(lambda: red.sound(leg.feed, [700])[1][700] > 0.1, what="the 700 Hz tone")

    # Remove: the call ends at the terminal, and the mixer stops with its last leg.
    mixer_host.hangup("leg-1")
    vcs.wait_event("CALL_CLOSED")
    scenes.wait_state(updates, "leg-1", "hangup")
    scenes.wait_for(lambda: mixer_host.running(room.room) is None, what="the mixer stopped")


def test_a_busy_or_failed_call_is_reported_and_leaves_no_mixer(room, mixer_host, terminal,
                                                                updates):
    vcs = terminal("vcs", answer=False, codecs=TerminalCodecs(video="VP8"))
    mixer_host.dial_out(room, LegSpec("busy", "A", LegCodecs("VP8", "PCMU")), vcs.uri)
    scenes.wait_state(updates, "busy", "ringing")
    vcs.wait_event("CALL_INCOMING")
    vcs.hangup()  # the room refuses the call while it rings
    scenes.wait_state(updates, "busy", "busy")
    busy = [u for u in updates if u.leg_id == "busy"][-1]
    assert busy.code == 486, busy

    # A user the terminal does not know: a SIP error, reported as failed with its code.
    wrong = vcs.uri.replace("sip:vcs@", "sip:nobody@")
    mixer_host.dial_out(room, LegSpec("failed", "B", LegCodecs("VP8", "PCMU")), wrong)
    scenes.wait_state(updates, "failed", "failed")
    failed = [u for u in updates if u.leg_id == "failed"][-1]
    assert failed.code is not None and failed.code >= 400, failed
    scenes.wait_for(lambda: mixer_host.running(room.room) is None, what="no mixer left")
