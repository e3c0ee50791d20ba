"""The node's mixer agent against real parts (R24): a real Janus with its SIP plugin on the
node's address, a hardware terminal simulated by baresip in a network namespace of its own,
and an aiortc browser in the room.

The host asks the MCU to call the terminal (KH Đ11.7) through the service; the agent dials
it, it answers and becomes a participation (muted on entry, KH Đ11.6, in the attendance);
the host's floor and mute act on its sound at the browser; removing it ends the call at the
terminal. A dial-in from an unknown device or with a wrong code is refused and audited.

Skips unless Janus, baresip, GStreamer (PyGObject) and root with iproute2 are here; CI
installs them all (.ci/run).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.mcu.services import register_node
from diemcau.media import selectors
from diemcau.media.models import CallState, LeaveReason, Participation, SipCall, Transport
from diemcau.media.services import control, rooms, sip
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True)]

BLUE = (30, 60, 220)
TONE_HZ = 700


def _require_real_parts() -> None:
    import os

    from django.conf import settings

    from diemcau.mcu.testing.janus import NOT_INSTALLED
    from diemcau.mixer.gst import unavailable_reason
    from diemcau.mixer.testing import baresip

    reason = unavailable_reason()
    if reason:
        pytest.skip(f"mixer agent: {reason}")
    if not os.access(settings.JANUS_BINARY, os.X_OK):
        pytest.skip(f"mixer agent: {NOT_INSTALLED}")
    reason = baresip.unavailable_reason()
    if reason:
        pytest.skip(f"mixer agent: {reason}")


@pytest.fixture(scope="module")
def sip_network() -> Iterator[Any]:
    _require_real_parts()
    from diemcau.media.testing.netns import MediaNetwork

    network = MediaNetwork.create()
    try:
        yield network
    finally:
        network.delete()


@pytest.fixture(scope="module")
def sip_node_janus(sip_network: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Janus whose ICE uses the namespace's veth and whose SIP plugin binds its address."""
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.mixer import sipconfig

    janus = JanusProcess(tmp_path_factory.mktemp("janus-agent"), interface=sip_network.root_link)
    low = janus.config.rtp_port_range[0] + 20000 if janus.config.rtp_port_range[0] < 45000 \
        else janus.config.rtp_port_range[0] - 20000
    sipconfig.enable_sip(janus.config, sipconfig.SipSettings(
        sip_network.root_address, rtp_port_range=(low, low + 199)))
    try:
        janus.start()
        yield janus
    finally:
        janus.stop(kill=True)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Any]:
    from diemcau.mixer.testing.baresip import BaresipTerminal, TerminalCodecs, terminal_network

    network = terminal_network()
    vcs = BaresipTerminal(network, tmp_path / "baresip", user="vcs", colour=BLUE,
                          tone_hz=TONE_HZ, codecs=TerminalCodecs(audio="PCMU", video="H264"))
    try:
        yield vcs.start()
    finally:
        vcs.stop()
        network.delete()


@pytest.fixture
def plane(sip_network: Any, sip_node_janus: Any, tmp_path: Path) -> Iterator[Any]:
    from diemcau.media.testing.plane import MediaPlane

    media_plane = MediaPlane(sip_network, sip_node_janus.access, tmp_path)
    try:
        yield media_plane
    finally:
        media_plane.close()


@pytest.fixture
def agent(sip_network: Any, sip_node_janus: Any, kh_tree: Any, settings: Any,
          tmp_path: Path) -> Iterator[Any]:
    """The agent of a node registered for that Janus, running in a thread with a small,
    low-rate picture (the machine is shared)."""
    from diemcau.media.agent import MixerAgent
    from diemcau.mixer.host import MixerHost
    from diemcau.mixer.room import MixerSettings
    from diemcau.mixer.video import Canvas, EncoderSettings

    node = register_node(sip_node_janus.node_input(
        "mcu-sip", sip_address=f"{sip_network.root_address}:5060"),
        actor=UserFactory(role=Role.OPERATOR, agency=kh_tree.department))
    host = MixerHost(node.access(), MixerSettings(
        node_address=sip_network.root_address, canvas=Canvas(320, 180, 10),
        encoding=EncoderSettings(h264_kbps=300, vp8_kbps=300, keyframe_seconds=2)))
    settings.VAR_DIR = tmp_path  # the SIP front's folder
    runner = MixerAgent(node, host=host, poll_seconds=0.3)
    thread = threading.Thread(target=_run_agent, args=(runner,), daemon=True,
                              name="mixer-agent")
    thread.start()
    assert runner.started.wait(60), "the mixer agent did not start"
    try:
        yield runner
    finally:
        runner.stop()
        thread.join(30)


def _run_agent(runner: Any) -> None:
    try:
        runner.run()
    finally:
        connection.close()


def wait_for(check: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


def call_state(call: SipCall) -> str:
    return SipCall.objects.get(pk=call.pk).state


def test_a_called_terminal_takes_part_and_the_host_controls_it(agent, terminal, plane, kh_tree):
    from diemcau.mixer.roomapi import RoomAccess
    from diemcau.mixer.testing import scenes

    setup = live_meeting(_node(), kh_tree.district, [kh_tree.commune], code="5550001234")
    commune = setup.participants[0]
    # Its VCS address, and its SIP account: baresip answers only calls to its user (a real
    # terminal also takes a call to sip:<its IP>; the service dials that without an account).
    commune.vcs_ip, commune.sip_uri = terminal.address, terminal.uri
    commune.save()
    host_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    room = rooms.ensure_room(setup.meeting)
    access = RoomAccess(room.janus_room_id, room.room_pin, room.room_secret)
    browser, _feed = scenes.publish(plane, access, "browser", (200, 30, 30), tone_hz=400,
                                    video=False)

    started = time.monotonic()
    call = sip.request_call(setup.meeting, commune, actor=host_tech)
    assert call.remote_uri == terminal.uri
    wait_for(lambda: call_state(call) == CallState.ANSWERED, 40, what="the call answered")
    terminal.wait_event("CALL_ESTABLISHED")
    print(f"\nrequest → answered: {time.monotonic() - started:.1f}s")
    steps = [a.split(".")[1] for a in AuditEvent.objects.filter(
        object_type="media.sipcall", object_id=str(call.pk)).order_by("seq")
        .values_list("action", flat=True)]
    assert steps[:2] == ["call", "calling"] and "answered" in steps

    # A participation like any other: attendance, muted on entry (KH Đ11.6).
    part = Participation.objects.get(meeting=setup.meeting, endpoint=commune,
                                     left_at__isnull=True)
    assert part.transport == Transport.SIP and part.audio_muted and part.joined_at
    state = selectors.live_state(setup.meeting, user=host_tech)
    assert [(r["endpoint"], r["transport"]) for r in state["participants"]] == [
        (commune.name, "sip")]
    row = next(t for t in state["sip"]["terminals"] if t["endpoint_id"] == commune.pk)
    assert row["connected"] and row["call"]["state"] == "answered"

    # The browser sees and (once it has the floor) hears the terminal.
    scenes.watch(plane, access, browser, [part.janus_id])
    browser.wait_frames(part.janus_id, "video", more_than=3, timeout=30)
    assert browser.sound(part.janus_id, [TONE_HZ])[1].get(TONE_HZ, 0) < 0.05
    control.give_floor(part, actor=host_tech)
    wait_for(lambda: browser.sound(part.janus_id, [TONE_HZ])[1].get(TONE_HZ, 0) > 0.1,
             what="the terminal's tone at the browser")
    control.set_audio(Participation.objects.get(pk=part.pk), muted=True, actor=host_tech)
    wait_for(lambda: browser.sound(part.janus_id, [TONE_HZ])[1].get(TONE_HZ, 0) < 0.05,
             what="silence once the host mutes it")
    # Its line quality reaches the consoles (RTCP through the mixer's leg).
    wait_for(lambda: Participation.objects.get(pk=part.pk).quality_at is not None, 20,
             what="a line quality report")

    # Remove: the terminal's call ends.
    since = terminal.mark()
    control.kick(Participation.objects.get(pk=part.pk), actor=host_tech)
    terminal.wait_event("CALL_CLOSED", since=since)
    wait_for(lambda: call_state(call) == CallState.ENDED, 20, what="the call ended")
    part.refresh_from_db()
    assert part.left_reason == LeaveReason.KICKED
    wait_for(lambda: agent.host.running(room.janus_room_id) is None, 20,
             what="the mixer stopped with its last leg")


def _node() -> Any:
    from diemcau.mcu.models import McuNode

    return McuNode.objects.get(name="mcu-sip")


def _terminal(tmp_path: Path, user: str, **options: Any) -> tuple[Any, Any]:
    from diemcau.mixer.testing.baresip import BaresipTerminal, TerminalCodecs, terminal_network

    network = terminal_network()
    options.setdefault("codecs", TerminalCodecs(audio="PCMU", video="VP8"))
    vcs = BaresipTerminal(network, tmp_path / user, user=user, **options)
    try:
        vcs.start()
    except BaseException:
        network.delete()
        raise
    return vcs, network


def test_a_terminal_dials_in_and_strangers_or_wrong_codes_are_refused(agent, kh_tree,
                                                                       tmp_path):
    if agent.dial_in is None:
        from diemcau.mixer import sipfront

        reason = sipfront.unavailable_reason() or "the SIP front did not start: see the log"
        pytest.skip(f"mixer agent: no dial-in here ({reason})")
    setup = live_meeting(_node(), kh_tree.district, [kh_tree.commune], code="5550009876")
    rooms.ensure_room(setup.meeting)
    node = _node()
    invited, invited_net = _terminal(tmp_path, "invited")
    stranger, stranger_net = _terminal(tmp_path, "stranger")
    commune = setup.participants[0]
    commune.vcs_ip = invited.address  # known by the address it calls from
    commune.save()
    dial = f"sip:{{code}}@{node.sip_host}:{node.sip_port}"
    try:
        for code in ("0000000000", "5550009876"):  # a wrong code; then not invited
            since = stranger.mark()
            stranger.dial(dial.format(code=code))
            stranger.wait_event("CALL_CLOSED", since=since, timeout=30)
        since = invited.mark()
        invited.dial(dial.format(code="5550009876"))
        invited.wait_event("CALL_ESTABLISHED", since=since, timeout=40)
        call = wait_for(lambda: SipCall.objects.filter(
            meeting=setup.meeting, endpoint=commune, state=CallState.ANSWERED).first(), 30,
            what="the dial-in answered")
        part = call.participation
        assert call.direction == "in" and str(call.source_address) == invited.address
        assert part.transport == Transport.SIP and part.audio_muted  # KH Đ11.6
        invited.hangup()  # the terminal leaves
        wait_for(lambda: call_state(call) == CallState.ENDED, 20, what="the call ended")
        assert Participation.objects.get(pk=part.pk).left_reason == LeaveReason.LEFT
    finally:
        for terminal, network in ((invited, invited_net), (stranger, stranger_net)):
            terminal.stop()
            network.delete()
    refusals = AuditEvent.objects.filter(action="sip.refuse").order_by("seq")
    assert refusals.count() == 2
    assert refusals[0].object_type == "mcu.mcunode"  # no meeting has that code
    refused = SipCall.objects.get(meeting=setup.meeting, state=CallState.REFUSED)
    assert refused.endpoint is None and str(refused.source_address) == stranger.address
    assert refused.sip_code == 403


def test_the_upstream_link_is_tested_then_carries_the_session(agent, kh_tree, tmp_path):
    """A second terminal plays the national MCU (R23): the operator tests the link before
    the session (KH Đ16.1), then the node calls it and its picture enters the room under
    the rulebook's name."""
    from diemcau.mixer.testing.baresip import TerminalCodecs

    # It speaks what the node offers by default: H.264 and G.711.
    upstream, network = _terminal(tmp_path, "quochoi", colour=(30, 200, 60), tone_hz=500,
                                  codecs=TerminalCodecs(audio="PCMU", video="H264"))
    try:
        setup = live_meeting(_node(), kh_tree.province, [kh_tree.district],
                             code="5550002468", upstream_uri=upstream.uri)
        room = rooms.ensure_room(setup.meeting)
        operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
        test = sip.test_upstream_link(setup.meeting, actor=operator)
        wait_for(lambda: SipCall.objects.get(pk=test.pk).state in ("ended", "failed"), 60,
                 what="the link test done")
        test.refresh_from_db()
        assert test.state == CallState.ENDED and test.answered_at is not None, test.reason
        print(f"\nlink test: {test.reason}")

        call = sip.call_upstream(setup.meeting, actor=operator)
        wait_for(lambda: call_state(call) == CallState.ANSWERED, 40,
                 what="the upstream answered")
        names = wait_for(lambda: _displays(agent, room), 20,
                         what="the upstream's picture in the room")
        assert "Điểm cầu Trung ương" in names
        sip.request_hangup(SipCall.objects.get(pk=call.pk), actor=operator)
        wait_for(lambda: call_state(call) == CallState.ENDED, 20, what="the link hung up")
    finally:
        upstream.stop()
        network.delete()


def _displays(agent: Any, room: Any) -> set[str]:
    from diemcau.mcu.janus_client import JanusClient

    with JanusClient(_node().access()).videoroom() as handle:
        found = {str(p.get("display")) for p in handle.listparticipants(room.janus_room_id)
                 if p.get("publisher")}
    return found if "Điểm cầu Trung ương" in found else set()
