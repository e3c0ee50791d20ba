"""The microphone belongs to the people in the room (R16, KH Đ11.6): every endpoint closes its
own and gives the floor back; a participant opens it only while it holds the floor the host
gave it; the host's own endpoint opens and closes it itself. And the consoles' list of every
invited endpoint, present or not.

The participations are made directly and have not published yet, so no media server is
asked (Janus's moderation is tested with a real one in test_live_services)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from diemcau.core.errors import InvalidTransition, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory.choices import EndpointStatus, TerminalKind
from diemcau.media import selectors
from diemcau.media.models import LeaveReason, Participation, Presence
from diemcau.media.services import control
from diemcau.testing.factories import McuNodeFactory, UserFactory

from .live_fixtures import live_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _khanh_hoa(use_rulebook):
    use_rulebook("khanh-hoa-2023")


@pytest.fixture
def setup(kh_tree):
    live = live_meeting(McuNodeFactory(), kh_tree.district,
                        [kh_tree.commune, kh_tree.other_commune])
    live.users = {
        "host_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        "commune_tech": UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
    }
    return live


def enter(setup, endpoint, *, user=None, joined=True, **fields) -> Participation:
    """A place in the room as the grant makes it: muted, but for the host's endpoint."""
    fields.setdefault("audio_muted", endpoint.pk != setup.meeting.host_endpoint_id)
    return Participation.objects.create(
        meeting=setup.meeting, endpoint=endpoint, user=user, node=setup.meeting.node,
        display=endpoint.name, janus_id=Participation.objects.count() + 100,
        key_hash=f"{endpoint.pk:064d}", janus_token_secret="t",
        joined_at=timezone.now() if joined else None, **fields,
    )


def test_a_participant_mutes_itself_but_opens_only_with_the_floor(setup):
    me = enter(setup, setup.participants[0], user=setup.users["commune_tech"])
    assert selectors.participant_view(me)["me"]["may_unmute"] is False
    with pytest.raises(RuleViolation) as refused:
        control.unmute_self(me)
    assert refused.value.code == "unmute_needs_floor"
    assert "Điều 11.6" in refused.value.article
    me.refresh_from_db()
    assert me.audio_muted

    # The host gives the floor: the microphone opens; the endpoint may close it and open it
    # again while it holds the floor.
    control.give_floor(me, actor=setup.users["host_tech"])
    control.mute_self(me)
    me.refresh_from_db()
    assert (me.audio_muted, me.has_floor) == (True, True)
    assert selectors.participant_view(me)["me"]["may_unmute"] is True
    control.unmute_self(me)
    me.refresh_from_db()
    assert (me.audio_muted, me.has_floor) == (False, True)

    # "Kết thúc phát biểu": the floor goes back and the microphone closes with it.
    control.yield_floor(me)
    me.refresh_from_db()
    assert (me.audio_muted, me.has_floor, me.hand_raised_at) == (True, False, None)
    with pytest.raises(RuleViolation):
        control.unmute_self(me)
    with pytest.raises(InvalidTransition):
        control.yield_floor(me)

    events = list(AuditEvent.objects.filter(object_id=str(me.pk)).values_list("action", "actor"))
    actor = setup.users["commune_tech"].pk
    assert ("live.mute_self", actor) in events and ("live.unmute_self", actor) in events
    assert ("live.yield_floor", actor) in events


def test_the_host_endpoint_enters_speaking_and_keeps_its_microphone(setup):
    host = enter(setup, setup.host_endpoint, user=setup.users["host_tech"])
    assert host.audio_muted is False
    view = selectors.participant_view(host)["me"]
    assert view["is_host"] is True and view["may_unmute"] is True
    control.mute_self(host)
    host.refresh_from_db()
    assert host.audio_muted
    control.unmute_self(host)
    host.refresh_from_db()
    assert not host.audio_muted
    # Muting everyone leaves the host's own microphone as it is (KH Đ11.6).
    other = enter(setup, setup.participants[0], audio_muted=False)
    control.mute_all(setup.meeting, actor=setup.users["host_tech"])
    host.refresh_from_db()
    other.refresh_from_db()
    assert not host.audio_muted and other.audio_muted


def test_a_closed_connection_changes_nothing(setup):
    me = enter(setup, setup.participants[0], left_at=timezone.now(),
               left_reason=LeaveReason.LEFT)
    for change in (control.mute_self, control.unmute_self, control.yield_floor):
        with pytest.raises(InvalidTransition):
            change(me)


def test_every_invited_endpoint_is_listed_present_or_not(setup, kh_tree):
    a, b = setup.participants
    b.terminal_kind = TerminalKind.VCS
    b.vcs_ip = "10.0.0.9"
    b.save(update_fields=["terminal_kind", "vcs_ip"])
    a.terminal_kind = TerminalKind.PERSONAL
    a.vcs_ip = None
    a.save(update_fields=["terminal_kind", "vcs_ip"])
    # In the room: joined, and its page reported its media up (webrtcup).
    enter(setup, setup.host_endpoint, audio_mid="0", video_mid="1")
    removed = enter(setup, a, left_at=timezone.now(), left_reason=LeaveReason.KICKED)
    state = selectors.live_state(setup.meeting, user=setup.users["host_tech"])
    rows = {row["endpoint_id"]: row for row in state["invited_endpoints"]}
    assert list(rows) == [setup.host_endpoint.pk, *sorted((a.pk, b.pk), key=lambda pk: (
        a.name if pk == a.pk else b.name))]
    assert rows[setup.host_endpoint.pk]["presence"] == Presence.IN_ROOM
    assert rows[setup.host_endpoint.pk]["is_host"] and rows[setup.host_endpoint.pk]["present"]
    assert rows[a.pk]["presence"] == Presence.REMOVED and not rows[a.pk]["present"]
    assert rows[a.pk]["since"] == removed.left_at.isoformat()
    assert rows[b.pk]["presence"] == Presence.ABSENT
    assert rows[b.pk]["presence_label"] == str(Presence.ABSENT.label)
    assert rows[b.pk]["hardware"] is True and rows[a.pk]["hardware"] is False

    # A place granted but never taken up is still "not joined yet"; one suspended cannot join.
    enter(setup, b, joined=False, left_at=timezone.now(), left_reason=LeaveReason.LOST)
    b.status = EndpointStatus.SUSPENDED
    b.save(update_fields=["status"])
    rows = {r["endpoint_id"]: r for r in selectors.presence_rows(setup.meeting)}
    assert rows[b.pk]["presence"] == Presence.ABSENT and rows[b.pk]["admitted"] is False


def test_the_operator_overview_lists_who_has_not_come(setup):
    from diemcau.scheduling.choices import MeetingStatus

    setup.meeting.status = MeetingStatus.LIVE
    setup.meeting.save(update_fields=["status"])
    enter(setup, setup.host_endpoint)
    overview = selectors.operator_overview_json()
    meeting = next(m for m in overview["meetings"] if m["id"] == setup.meeting.pk)
    assert meeting["invited"] == 3 and meeting["connected"] == 1
    assert {a["endpoint_id"] for a in meeting["absent"]} == {e.pk for e in setup.participants}
    assert all(a["presence"] == Presence.ABSENT for a in meeting["absent"])
