"""The mixer agent's rounds without media (test_sip_agent.py has the real parts): what it
asks of the engine for each state of the database, and what the engine's reports become.
The engine here only records what it is asked and plays back reports, as the real one
sends them from its threads."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from diemcau.core.roles import Role
from diemcau.media import agent as agent_module
from diemcau.media.agent import MixerAgent
from diemcau.media.models import CallState, LeaveReason, Participation, Room, SipCall
from diemcau.media.services import control, sip
from diemcau.testing.factories import McuNodeFactory, UserFactory

from .live_fixtures import live_meeting

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class RecordingEngine:
    """`MixerHost`'s surface as the agent uses it."""

    on_update: Any = None
    asked: list[tuple[str, Any]] = field(default_factory=list)
    legs: dict[str, Any] = field(default_factory=dict)
    rooms: dict[int, Any] = field(default_factory=dict)
    fail_dial: bool = False

    def dial_out(self, room: Any, spec: Any, uri: str) -> Any:
        self.asked.append(("dial", (spec.leg_id, spec.label, spec.muted_on_entry, uri)))
        if self.fail_dial:
            raise RuntimeError("Janus is not answering")
        leg = SimpleNamespace(feed=9000 + len(self.legs), leg_id=spec.leg_id)
        self.legs[spec.leg_id] = leg
        self.rooms[room.room] = SimpleNamespace(stopped=False)
        return leg

    def report(self, leg_id: str, state: str, code: int | None = None) -> None:
        self.on_update(SimpleNamespace(leg_id=leg_id, state=state, code=code, reason=""))

    def leg(self, leg_id: str) -> Any:
        leg = self.legs.get(leg_id)
        return (None, leg) if leg is not None else None

    def hangup(self, leg_id: str) -> None:
        self.asked.append(("hangup", leg_id))
        self.legs.pop(leg_id, None)
        self.report(leg_id, "hangup", 200)

    def running(self, room_id: int) -> Any:
        return self.rooms.get(room_id)

    def set_layout(self, room_id: int, layout: Any, main: int | None) -> None:
        self.asked.append(("layout", (str(layout), main)))

    def set_label(self, room_id: int, feed: int, label: str) -> None:
        self.asked.append(("label", (feed, label)))

    def set_muted(self, room_id: int, feed: int, muted: bool) -> None:
        self.asked.append(("muted", (feed, muted)))

    def quality(self, leg_id: str) -> Any:
        return SimpleNamespace(packets_received=100, packets_lost=0, fraction_lost=0.0,
                               jitter_ms=2.0, rtt_ms=30.0)

    def close(self) -> None:
        pass


@pytest.fixture
def world(kh_tree, monkeypatch):
    node = McuNodeFactory(name="mcu-rounds", sip_address="10.0.0.5")
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune])
    Room.objects.create(meeting=setup.meeting, node=node, janus_room_id=31, room_pin="p",
                        room_secret="s")
    monkeypatch.setattr(agent_module, "ensure_room",
                        lambda meeting: Room.objects.get(meeting=meeting))
    monkeypatch.setattr(agent_module, "open_dial_in", lambda agent, node: None)
    engine = RecordingEngine()
    runner = MixerAgent(node, host=engine)
    runner.start()
    setup.engine, setup.agent = engine, runner
    setup.tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    return setup


def settle(world: Any, rounds: int = 3) -> None:
    """A few rounds, letting the dial and hang-up threads finish between them."""
    for _ in range(rounds):
        world.agent.step()
        for thread in list(world.agent.busy.values()):
            thread.join(5)


def test_a_requested_call_is_dialled_once_and_its_reports_recorded(world):
    call = sip.request_call(world.meeting, world.participants[0], actor=world.tech)
    settle(world)
    dials = [a for a in world.engine.asked if a[0] == "dial"]
    assert dials == [("dial", (call.leg_id, world.participants[0].name, True,
                               call.remote_uri))]
    world.engine.report(call.leg_id, "calling")
    world.engine.report(call.leg_id, "ringing")
    world.engine.report(call.leg_id, "accepted")
    settle(world)
    call.refresh_from_db()
    assert call.state == CallState.ANSWERED
    feed = call.participation.janus_id
    # The room's mixer learns the layout, the label and that the terminal is muted.
    assert ("layout", ("grid", None)) in world.engine.asked
    assert ("label", (feed, world.participants[0].name)) in world.engine.asked
    assert ("muted", (feed, True)) in world.engine.asked
    control.set_spotlight(world.meeting, call.participation, actor=world.tech)
    settle(world)
    assert ("layout", ("grid", feed)) in world.engine.asked
    # Line quality every few seconds.
    world.agent.next_quality = 0
    settle(world, 1)
    assert Participation.objects.get(pk=call.participation_id).quality == "good"


def test_removing_a_terminal_hangs_its_call_up(world):
    call = sip.request_call(world.meeting, world.participants[0], actor=world.tech)
    settle(world)
    world.engine.report(call.leg_id, "accepted")
    settle(world)
    control.kick(SipCall.objects.get(pk=call.pk).participation, actor=world.tech)
    settle(world)
    assert ("hangup", call.leg_id) in world.engine.asked
    call.refresh_from_db()
    assert call.state == CallState.ENDED
    assert call.participation.left_reason == LeaveReason.KICKED


def test_a_dial_the_engine_cannot_make_fails_with_its_reason(world):
    world.engine.fail_dial = True
    call = sip.request_call(world.meeting, world.participants[0], actor=world.tech)
    settle(world)
    call.refresh_from_db()
    assert call.state == CallState.FAILED and "not answering" in call.reason


def test_a_call_the_engine_lost_without_a_word_ends(world, monkeypatch):
    monkeypatch.setattr(agent_module, "LOST_AFTER_SECONDS", 0.2)
    call = sip.request_call(world.meeting, world.participants[0], actor=world.tech)
    settle(world)
    world.engine.report(call.leg_id, "accepted")
    settle(world)
    world.engine.legs.clear()  # gone, and no report came
    settle(world, 1)
    time.sleep(0.3)
    settle(world, 1)
    call.refresh_from_db()
    assert call.state == CallState.ENDED and "no longer carries" in call.reason


def test_reports_from_the_engines_threads_are_recorded_on_the_agents(world):
    call = sip.request_call(world.meeting, world.participants[0], actor=world.tech)
    settle(world)
    thread = threading.Thread(target=world.engine.report, args=(call.leg_id, "busy", 486))
    thread.start()
    thread.join()
    assert SipCall.objects.get(pk=call.pk).state == CallState.REQUESTED  # only queued
    settle(world, 1)
    call.refresh_from_db()
    assert (call.state, call.sip_code) == (CallState.BUSY, 486)
