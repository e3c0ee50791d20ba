"""Dial-in (R24): a terminal calls `<meeting code>@<node address>`; the SIP front
(Kamailio on port 5060) hands the call to the mixer's listener, and the decision admits an
invited endpoint by its address or refuses the call with a clear SIP answer."""

from __future__ import annotations

import pytest

from diemcau.mixer.dialin import NOT_INVITED, UNKNOWN_MEETING, Admit, IncomingCall
from diemcau.mixer.legs import LegSpec
from diemcau.mixer.testing import frames, scenes
from diemcau.mixer.testing.baresip import TerminalCodecs

pytestmark = pytest.mark.janus

CANVAS = (640, 360)
CODE = "482913"


def decision_for(room, admitted_address: str, calls: list[IncomingCall]):
    def decide(call: IncomingCall):
        calls.append(call)
        if call.dialled != CODE:
            return UNKNOWN_MEETING
        if call.source != admitted_address:
            return NOT_INVITED
        return Admit(room, LegSpec(f"in-{len(calls)}", "UBND.Cam Ranh"))

    return decide


@pytest.mark.parametrize("video", ["H264", "VP8"])
def test_an_invited_terminal_dials_the_meeting_code_and_takes_part(
        video, plane, room, mixer_host, terminal, sip_front, updates):
    green, green_feed = scenes.publish(plane, room, "green", frames.GREEN)
    vcs = terminal("vcs", colour=frames.MAGENTA, tone_hz=700,
                   codecs=TerminalCodecs(audio="PCMU", video=video))
    calls: list[IncomingCall] = []
    mixer_host.listen(decision_for(room, vcs.address, calls), front=sip_front.settings)

    vcs.dial(sip_front.settings.dial_uri(CODE))
    scenes.wait_state(updates, "in-1", "accepted")
    vcs.wait_event("CALL_ESTABLISHED")
    assert (calls[0].dialled, calls[0].source) == (CODE, vcs.address)
    assert calls[0].caller.startswith(f"sip:vcs@{vcs.address}")

    mixer = mixer_host.running(room.room)
    leg = mixer.legs["in-1"]
    assert leg.spec.codecs.video == video  # chosen among what the terminal offered
    scenes.wait_for(lambda: len(mixer.mixer.video.tiles()) == 2, what="two inputs")
    tiles = mixer.mixer.video.tiles()
    expected = {green_feed: frames.GREEN, leg.feed: frames.MAGENTA}
    scenes.wait_for(lambda: scenes.matches(vcs.snapshot(), tiles, CANVAS, expected),
                    timeout=30, what="the composed picture at the terminal")

    scenes.watch(plane, room, green, [leg.feed])
    scenes.wait_for(lambda: frames.distance(green.centre_colour(leg.feed) or (0, 0, 0),
                                            frames.MAGENTA) < 60, what="magenta at a browser")

    # The terminal hangs up: the leg ends and the mixer stops.
    vcs.hangup()
    scenes.wait_state(updates, "in-1", "hangup")
    scenes.wait_for(lambda: mixer_host.running(room.room) is None, what="the mixer stopped")


def test_a_wrong_code_or_an_unknown_device_is_refused(room, mixer_host, terminal, sip_front,
                                                      updates):
    known = terminal("known", codecs=TerminalCodecs(video="VP8"))
    stranger = terminal("stranger", codecs=TerminalCodecs(video="VP8"))
    calls: list[IncomingCall] = []
    refused: list[tuple[IncomingCall, object]] = []
    mixer_host.listen(decision_for(room, known.address, calls), front=sip_front.settings,
                      on_refused=lambda call, refusal: refused.append((call, refusal)))

    known.dial(sip_front.settings.dial_uri("000000"))  # an invited device, a wrong code
    closed = known.wait_event("CALL_CLOSED")
    assert "404" in str(closed.get("param")), closed
    stranger.dial(sip_front.settings.dial_uri(CODE))  # the right code, an unknown device
    closed = stranger.wait_event("CALL_CLOSED")
    assert "403" in str(closed.get("param")), closed

    # The terminal hears the answer before the listener's thread reports the refusal.
    scenes.wait_for(lambda: len(refused) == 2, what="both refusals reported")
    assert [(c.dialled, c.source, r) for c, r in refused] == [
        ("000000", known.address, UNKNOWN_MEETING), (CODE, stranger.address, NOT_INVITED)]
    assert mixer_host.running(room.room) is None  # nobody joined: no mixer was started
    assert updates == []
