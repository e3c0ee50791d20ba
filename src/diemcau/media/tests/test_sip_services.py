"""SIP calls of a meeting as services (R23, R24): who may call or hang up a terminal, what the
mixer agent's reports do (a terminal becomes a participation like any other, muted on
entry), dial-in admission and refusal, the upstream link, the session's start and end, and
the node's limits. No media server is needed: the agent's side is in test_sip_agent.py."""

from __future__ import annotations

import pytest

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory.choices import EndpointStatus, TerminalKind
from diemcau.media import selectors
from diemcau.media.models import (
    CallDirection,
    CallKind,
    CallState,
    Layout,
    LeaveReason,
    Participation,
    Room,
    SipCall,
    Transport,
)
from diemcau.media.services import control, session, sip
from diemcau.scheduling.choices import MeetingStatus
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory

from .live_fixtures import LiveSetup, live_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def node():
    return McuNodeFactory(name="mcu-sip", sip_address="10.0.0.5:5060")


@pytest.fixture
def setup(node, kh_tree) -> LiveSetup:
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune, kh_tree.other_commune])
    setup.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        "operator": UserFactory(role=Role.OPERATOR, agency=kh_tree.department),
    }
    Room.objects.create(meeting=setup.meeting, node=node, janus_room_id=1234,
                        room_pin="pin", room_secret="secret")
    return setup


def answered(call: SipCall, feed: int = 777) -> SipCall:
    sip.record_progress(call.pk, CallState.CALLING)
    sip.record_progress(call.pk, CallState.RINGING)
    return sip.record_answered(call.pk, feed=feed).call


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


# ---------------------------------------------------------------------------- dial-out


def test_the_host_calls_an_invited_terminal_at_its_vcs_address(setup):
    commune = setup.participants[0]
    call = sip.request_call(setup.meeting, commune, actor=setup.users["host_tech"])
    assert (call.state, call.kind, call.direction) == ("requested", "terminal", "out")
    assert call.remote_uri == f"sip:{commune.vcs_ip}"  # KH Đ11.7
    assert call.node == setup.meeting.node and call.requested_by == setup.users["host_tech"]
    assert "sip.call" in actions()
    with pytest.raises(InvalidTransition, match="already being called"):
        sip.request_call(setup.meeting, commune, actor=setup.users["operator"])


def test_a_sip_account_is_dialled_when_the_terminal_has_one(setup):
    commune = setup.participants[0]
    commune.sip_uri = "sip:nt.xuonghuan@10.9.9.9"
    commune.save()
    call = sip.request_call(setup.meeting, commune, actor=setup.users["operator"])
    assert call.remote_uri == "sip:nt.xuonghuan@10.9.9.9"


def test_only_the_controllers_call_or_hang_up(setup):
    commune = setup.participants[0]
    with pytest.raises(PermissionDenied):
        sip.request_call(setup.meeting, commune, actor=setup.users["commune_tech"])
    call = sip.request_call(setup.meeting, commune, actor=setup.users["host_tech"])
    with pytest.raises(PermissionDenied):
        sip.request_hangup(call, actor=setup.users["commune_tech"])


def test_what_cannot_be_called(setup, kh_tree, node):
    host_tech = setup.users["host_tech"]
    stranger = ApprovedEndpointFactory(agency=kh_tree.commune)
    with pytest.raises(PermissionDenied, match="not in the meeting"):
        sip.request_call(setup.meeting, stranger, actor=host_tech)
    personal = setup.participants[1]
    personal.terminal_kind, personal.vcs_ip = TerminalKind.PERSONAL, None
    personal.save()
    with pytest.raises(InvalidInput):
        sip.request_call(setup.meeting, personal, actor=host_tech)
    suspended = setup.participants[0]
    suspended.status = EndpointStatus.SUSPENDED
    suspended.save()
    with pytest.raises(PermissionDenied, match="not admitted"):
        sip.request_call(setup.meeting, suspended, actor=host_tech)
    node.sip_address = ""
    node.save()
    with pytest.raises(InvalidTransition, match="no SIP address"):
        sip.request_call(setup.meeting, setup.host_endpoint, actor=host_tech)
    setup.meeting.status = MeetingStatus.SUBMITTED
    setup.meeting.save()
    node.sip_address = "10.0.0.5"
    node.save()
    with pytest.raises(InvalidTransition, match="not open"):
        sip.request_call(setup.meeting, setup.host_endpoint, actor=host_tech)
    assert not SipCall.objects.exists()


def test_an_answered_terminal_is_a_participation_muted_on_entry(setup):
    commune = setup.participants[0]
    call = sip.request_call(setup.meeting, commune, actor=setup.users["host_tech"])
    call = answered(call, feed=4242)
    part = call.participation
    assert call.state == CallState.ANSWERED and call.answered_at is not None
    assert part.transport == Transport.SIP and part.janus_id == 4242
    assert part.audio_muted and part.joined_at is not None  # KH Đ11.6
    assert (part.audio_mid, part.video_mid) == ("0", "1")  # the remote publisher's streams
    rows = selectors.live_state(setup.meeting)["participants"]
    assert [(r["endpoint"], r["transport"], r["audio_muted"]) for r in rows] == [
        (commune.name, "sip", True)]
    line = next(x for x in selectors.attendance(setup.meeting) if x.endpoint_id == commune.pk)
    assert line.connections == 1 and line.still_connected
    # The terminal hangs up: it left.
    sip.record_ended(call.pk, CallState.ENDED, code=200, reason="BYE")
    part.refresh_from_db()
    assert part.left_reason == LeaveReason.LEFT
    assert SipCall.objects.get(pk=call.pk).state == CallState.ENDED
    assert actions()[-1] == "sip.ended" and "sip.answered" in actions()
    assert verify_chain().ok


def test_the_host_terminal_speaks_from_the_start(setup):
    call = sip.request_call(setup.meeting, setup.host_endpoint, actor=setup.users["host_tech"])
    assert not answered(call).participation.audio_muted


def test_a_terminal_replaces_a_browser_of_the_same_endpoint(setup, node):
    commune = setup.participants[0]
    browser = Participation.objects.create(
        meeting=setup.meeting, endpoint=commune, node=node, display="x", janus_id=1,
        key_hash="k" * 64, janus_token_secret="t")
    call = sip.request_call(setup.meeting, commune, actor=setup.users["host_tech"])
    sip.record_progress(call.pk, CallState.CALLING)
    result = sip.record_answered(call.pk, feed=99)
    browser.refresh_from_db()
    assert result.replaced == browser and browser.left_at is not None


def test_progress_never_moves_back_and_final_states_stay(setup):
    call = sip.request_call(setup.meeting, setup.participants[0], actor=setup.users["operator"])
    sip.record_progress(call.pk, CallState.RINGING)
    assert sip.record_progress(call.pk, CallState.CALLING).state == CallState.RINGING
    sip.record_ended(call.pk, CallState.BUSY, code=486, reason="Busy Here")
    call.refresh_from_db()
    assert (call.state, call.sip_code) == (CallState.BUSY, 486)
    assert sip.record_ended(call.pk, CallState.FAILED).state == CallState.BUSY
    assert sip.record_answered(call.pk, feed=5).participation is None


def test_hanging_up(setup):
    operator = setup.users["operator"]
    waiting = sip.request_call(setup.meeting, setup.participants[0], actor=operator)
    waiting = sip.request_hangup(waiting, actor=operator)
    assert waiting.state == CallState.ENDED  # never dialled
    ringing = sip.request_call(setup.meeting, setup.participants[0], actor=operator)
    sip.record_progress(ringing.pk, CallState.RINGING)
    ringing = sip.request_hangup(ringing, actor=operator)
    assert ringing.state == CallState.RINGING and ringing.hangup_requested_at is not None
    # The agent hangs up: SIP reports 487 Request Terminated; the call simply ended.
    assert sip.record_ended(ringing.pk, CallState.FAILED, code=487).state == CallState.ENDED


def test_remove_ends_the_terminals_call_and_its_attendance(setup):
    call = answered(sip.request_call(setup.meeting, setup.participants[0],
                                     actor=setup.users["host_tech"]))
    part = control.kick(call.participation, actor=setup.users["host_tech"])
    call.refresh_from_db()
    assert part.left_reason == LeaveReason.KICKED
    assert call.hangup_requested_at is not None and call.state == CallState.ANSWERED
    assert sip.record_ended(call.pk, CallState.ENDED).state == CallState.ENDED
    assert {"live.kick", "sip.hangup"} <= set(actions())


def test_the_agent_restarting_forgets_the_calls_it_carried(setup, node):
    operator = setup.users["operator"]
    live_call = answered(sip.request_call(setup.meeting, setup.participants[0], actor=operator))
    ringing = sip.request_call(setup.meeting, setup.participants[1], actor=operator)
    sip.record_progress(ringing.pk, CallState.RINGING)
    waiting = sip.request_call(setup.meeting, setup.host_endpoint, actor=operator)
    forgotten = sip.forget_node_calls(node, reason="restarted")
    assert {c.pk for c in forgotten} == {live_call.pk, ringing.pk}
    assert {c.feed for c in forgotten} == {777, None}  # the answered one's remote publisher
    states = dict(SipCall.objects.values_list("pk", "state"))
    assert states == {live_call.pk: "ended", ringing.pk: "failed", waiting.pk: "requested"}
    assert Participation.objects.get(pk=live_call.participation_id).left_reason == "lost"


# ---------------------------------------------------------------------------- the session


def test_going_live_calls_every_invited_terminal_not_connected(setup, node):
    commune, other = setup.participants
    Participation.objects.create(meeting=setup.meeting, endpoint=other, node=node,
                                 display="x", janus_id=1, key_hash="k" * 64,
                                 janus_token_secret="t", left_at=None)
    setup.meeting.upstream_uri = "sip:chinhphu@10.0.0.1"
    setup.meeting.save()
    session.start_session(setup.meeting, actor=setup.users["host_tech"])
    calls = {(c.endpoint_id, c.kind): c for c in SipCall.objects.all()}
    assert set(calls) == {(setup.host_endpoint.pk, "terminal"), (commune.pk, "terminal"),
                          (None, "upstream")}
    assert all(c.requested_by == setup.users["host_tech"] for c in calls.values())
    # The meeting ends: every call is hung up, those not dialled yet at once.
    sip.record_progress(calls[(commune.pk, "terminal")].pk, CallState.CALLING)
    session.end_meeting(setup.meeting, actor=setup.users["host_tech"])
    states = dict(SipCall.objects.values_list("endpoint_id", "state"))
    assert states[commune.pk] == CallState.CALLING
    assert states[setup.host_endpoint.pk] == CallState.ENDED
    assert SipCall.objects.filter(hangup_requested_at__isnull=True).count() == 0


def test_a_node_without_sip_calls_nobody_at_the_start(setup, node):
    node.sip_address = ""
    node.save()
    session.start_session(setup.meeting, actor=setup.users["host_tech"])
    assert not SipCall.objects.exists()


def test_layout_is_a_control_of_the_host(setup):
    room = control.set_layout(setup.meeting, Layout.SPEAKER, actor=setup.users["host_tech"])
    assert room.layout == "speaker" and actions()[-1] == "live.layout"
    assert selectors.live_state(setup.meeting)["meeting"]["layout"] == "speaker"
    with pytest.raises(InvalidInput):
        control.set_layout(setup.meeting, "mosaic", actor=setup.users["host_tech"])
    with pytest.raises(PermissionDenied):
        control.set_layout(setup.meeting, Layout.GRID, actor=setup.users["commune_tech"])


# ---------------------------------------------------------------------------- limits


def test_the_nodes_endpoints_and_mixers_are_limits(setup, node, kh_tree):
    operator = setup.users["operator"]
    node.max_mixers = 1
    node.save()
    sip.request_call(setup.meeting, setup.participants[0], actor=operator)
    sip.request_call(setup.meeting, setup.participants[1], actor=operator)  # same mixer
    other = live_meeting(node, kh_tree.other_district, [kh_tree.other_commune])
    with pytest.raises(InvalidTransition, match="maximum of 1 mixers"):
        sip.request_call(other.meeting, other.host_endpoint, actor=operator)
    node.max_mixers, node.max_endpoints = 2, 1
    node.save()
    answered(SipCall.objects.filter(meeting=setup.meeting).first())
    with pytest.raises(InvalidTransition, match="maximum of 1 endpoints"):
        sip.request_call(other.meeting, other.host_endpoint, actor=operator)


# ---------------------------------------------------------------------------- dial-in


def test_a_wrong_code_is_refused_and_audited_without_the_digits(setup, node):
    decision = sip.admit_dial_in(node, dialled="0000000000", caller="sip:x@10.9.9.9",
                                 source="10.9.9.9")
    assert not decision.admitted and decision.code == 404 and decision.call is None
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "sip.refuse" and event.object_type == "mcu.mcunode"
    assert "0000000000" not in str(event.after) and event.after["source"] == "10.9.9.9"


def test_an_unknown_device_is_refused_and_the_host_sees_it(setup, node):
    setup.meeting.code = "1234567890"
    setup.meeting.save()
    decision = sip.admit_dial_in(node, dialled="1234567890", caller="sip:x@10.9.9.9",
                                 source="10.9.9.9")
    assert not decision.admitted and decision.code == 403
    call = decision.call
    assert (call.state, call.direction, call.endpoint) == ("refused", "in", None)
    assert str(call.source_address) == "10.9.9.9"
    assert "not an endpoint invited" in call.reason
    assert actions()[-1] == "sip.refuse"
    calls = selectors.live_state(setup.meeting)["calls"]
    assert [c["state"] for c in calls] == ["refused"]


def test_an_invited_terminal_is_admitted_by_address_or_account(setup, node):
    setup.meeting.code = "1234567890"
    setup.meeting.save()
    commune, other = setup.participants
    by_address = sip.admit_dial_in(node, dialled="1234567890", caller="sip:vcs@anything",
                                   source=f"{commune.vcs_ip}:5060")
    assert by_address.admitted and by_address.call.endpoint == commune
    assert by_address.call.direction == CallDirection.IN and by_address.label == commune.name
    assert by_address.muted_on_entry and by_address.room.janus_room_id == 1234
    other.sip_uri = "sip:cr.camnghia@sip.khanhhoa.gov.vn"
    other.save()
    by_account = sip.admit_dial_in(node, dialled="1234567890",
                                   caller="<sip:cr.camnghia@SIP.khanhhoa.gov.vn:5062>",
                                   source="10.200.0.1")
    assert by_account.admitted and by_account.call.endpoint == other
    # The same terminal again while in the meeting: busy.
    again = sip.admit_dial_in(node, dialled="1234567890", caller="sip:vcs@x",
                              source=str(commune.vcs_ip))
    assert not again.admitted and again.code == 486


def test_a_suspended_or_locked_out_terminal_is_refused(setup, node):
    setup.meeting.code = "1234567890"
    setup.meeting.save()
    commune, other = setup.participants
    commune.status = EndpointStatus.SUSPENDED
    commune.save()
    refused = sip.admit_dial_in(node, dialled="1234567890", caller="sip:a@b",
                                source=str(commune.vcs_ip))
    assert not refused.admitted and "not admitted" in refused.reason
    control.set_locked(setup.meeting, locked=True, actor=setup.users["host_tech"])
    locked = sip.admit_dial_in(node, dialled="1234567890", caller="sip:a@b",
                               source=str(other.vcs_ip))
    assert not locked.admitted and "locked" in locked.reason
    assert SipCall.objects.filter(state="refused").count() == 2


def test_the_upstream_mcu_may_call_the_meeting(setup, node):
    setup.meeting.code, setup.meeting.upstream_uri = "1234567890", "sip:tw@10.0.0.1"
    setup.meeting.save()
    decision = sip.admit_dial_in(node, dialled="1234567890", caller="sip:tw@10.0.0.1",
                                 source="10.0.0.1")
    assert decision.admitted and decision.call.kind == CallKind.UPSTREAM
    assert decision.label == "Điểm cầu Trung ương" and not decision.muted_on_entry
    answered_call = sip.record_answered(decision.call.pk, feed=5).call
    assert answered_call.participation is None  # not an endpoint of the province


# ---------------------------------------------------------------------------- upstream link


def test_only_operators_test_the_upstream_link(setup):
    with pytest.raises(InvalidTransition, match="no upstream link"):
        sip.test_upstream_link(setup.meeting, actor=setup.users["operator"])
    setup.meeting.upstream_uri = "sip:chinhphu@10.0.0.1"
    setup.meeting.save()
    with pytest.raises(PermissionDenied):
        sip.test_upstream_link(setup.meeting, actor=setup.users["host_tech"])
    test = sip.test_upstream_link(setup.meeting, actor=setup.users["operator"])
    assert test.is_test and test.kind == CallKind.UPSTREAM and test.endpoint is None
    assert actions()[-1] == "sip.test_upstream"
    with pytest.raises(InvalidTransition, match="already being called"):
        sip.call_upstream(setup.meeting, actor=setup.users["host_tech"])


def test_a_link_test_passes_only_with_media_both_ways(setup):
    setup.meeting.upstream_uri = "sip:chinhphu@10.0.0.1"
    setup.meeting.save()
    operator = setup.users["operator"]
    passed = sip.test_upstream_link(setup.meeting, actor=operator)
    passed = sip.record_link_test(passed.pk, answered=True, ok=True, reason="both ways")
    assert (passed.state, passed.answered_at is not None) == (CallState.ENDED, True)
    failed = sip.test_upstream_link(setup.meeting, actor=operator)
    failed = sip.record_link_test(failed.pk, answered=True, ok=False,
                                  reason="nothing received: audio")
    assert failed.state == CallState.FAILED and failed.answered_at is not None
    unanswered = sip.test_upstream_link(setup.meeting, actor=operator)
    unanswered = sip.record_link_test(unanswered.pk, answered=False, ok=False, code=408,
                                      reason="Request Timeout")
    assert (unanswered.state, unanswered.sip_code) == (CallState.FAILED, 408)
    assert actions().count("sip.link_test") == 3
    test = selectors.live_state(setup.meeting, user=operator)["sip"]["upstream"]["test"]
    assert test["id"] == unanswered.pk and test["state"] == "failed"
