"""The upstream link (R23) and the node's mixers (R24) in booking: a meeting hosted upstream
outranks every provincial meeting where the rulebook ranks by level (KH Đ12.4b with Đ4.1,
Đ5.4); a meeting with hardware terminals or an upstream link holds one of its node's mixers,
within the same cap as the rest of the MCU (KH Đ12.4a)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diemcau.core.audit import verify_chain
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind, TerminalKind
from diemcau.scheduling import planning
from diemcau.scheduling.capacity import Load, Window, fits, peak
from diemcau.scheduling.choices import HoldKind, MeetingStatus
from diemcau.scheduling.models import Booking
from diemcau.scheduling.services import interconnection, lifecycle, registration
from diemcau.testing.factories import AgencyFactory, ApprovedEndpointFactory, UserFactory

from .test_services import meeting_input, working_day_at

pytestmark = pytest.mark.django_db(transaction=True)


def _district(setup, n, *, hardware=True):
    agency = AgencyFactory(parent=setup.province, kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
                           name=f"UBND huyện Cầu {n}", abbreviation=f"C{n}")
    endpoint = ApprovedEndpointFactory(agency=agency, name=f"UBND.Cau {n}")
    if not hardware:
        endpoint.terminal_kind, endpoint.vcs_ip = TerminalKind.PERSONAL, None
        endpoint.save()
    return agency, endpoint


def _accepted(setup, n, start, *, hardware=True):
    agency, endpoint = _district(setup, n, hardware=hardware)
    meeting = registration.create_meeting(meeting_input(agency, endpoint, [], start),
                                          actor=setup.operator)
    return lifecycle.accept_meeting(meeting, actor=setup.operator)


def test_an_upstream_meeting_outranks_even_the_provinces_own(kh_world):
    setup = kh_world
    start = working_day_at(5, 9)
    lower = [_accepted(setup, n, start, hardware=False) for n in range(3)]
    own = lifecycle.accept_meeting(registration.create_meeting(
        meeting_input(setup.province, setup.ep_province, [], start),
        actor=setup.province_office), actor=setup.operator)
    national = registration.create_meeting(
        meeting_input(setup.province, setup.ep_province, [setup.ep_district], start),
        actor=setup.province_office)
    # Without the link, the province cannot revoke its own level's meeting: only districts.
    assert own.pk not in {m.pk for m in planning.plan(national, _rulebook()).revocations}
    interconnection.set_upstream_link(national, "chinhphu@10.0.0.1",
                                      actor=setup.province_office)
    national.refresh_from_db()
    assert national.upstream_uri == "sip:chinhphu@10.0.0.1"
    assert planning.rank(national, _rulebook()) > planning.rank(own, _rulebook())
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(national, actor=setup.operator)
    assert refused.value.code == "revocation_needs_confirmation"
    # KH Đ12.4b: the latest registered lower meeting gives way, whatever its level.
    assert f"#{own.pk}" in refused.value.message
    lifecycle.accept_meeting(national, actor=setup.operator, confirm_revocations=[own.pk])
    own.refresh_from_db()
    assert own.status == MeetingStatus.REVOKED
    assert all(m.status == MeetingStatus.ACCEPTED for m in lower)


def _rulebook():
    from diemcau.rulebooks import active_rulebook

    return active_rulebook()


def test_who_sets_the_upstream_link(kh_world):
    setup = kh_world
    start = working_day_at(5, 9)
    meeting = registration.create_meeting(
        meeting_input(setup.district, setup.ep_district, [setup.ep_commune], start),
        actor=setup.district_office)
    with pytest.raises(PermissionDenied):
        interconnection.set_upstream_link(meeting, "sip:a@10.0.0.1", actor=setup.other_office)
    with pytest.raises(InvalidInput):
        interconnection.set_upstream_link(meeting, "http://x", actor=setup.district_office)
    interconnection.set_upstream_link(meeting, "sip:a@10.0.0.1", actor=setup.district_office)
    lifecycle.accept_meeting(meeting, actor=setup.operator)
    with pytest.raises(PermissionDenied):  # accepted: the operators only
        interconnection.set_upstream_link(meeting, "", actor=setup.district_office)
    interconnection.set_upstream_link(meeting, "", actor=setup.operator)
    meeting.refresh_from_db()
    assert meeting.upstream_uri == ""
    lifecycle.end_meeting(meeting, actor=setup.operator)
    with pytest.raises(InvalidTransition):
        interconnection.set_upstream_link(meeting, "sip:a@10.0.0.1", actor=setup.operator)
    events = AuditEvent.objects.filter(action="meeting.upstream_link").order_by("seq")
    assert [e.after["upstream_uri"] for e in events] == ["sip:a@10.0.0.1", ""]
    assert verify_chain().ok


def test_meetings_with_terminals_hold_a_mixer_of_a_sip_node(kh_world):
    setup = kh_world
    setup.node.sip_address, setup.node.max_mixers = "10.0.0.5:5060", 2  # 80 %: one mixer
    setup.node.save()
    start = working_day_at(5, 9)
    first = _accepted(setup, 1, start)
    assert Booking.objects.get(meeting=first, endpoint__isnull=True,
                              kind=HoldKind.SESSION).needs_mixer
    agency, endpoint = _district(setup, 2)
    second = registration.create_meeting(meeting_input(agency, endpoint, [], start),
                                         actor=setup.operator)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.accept_meeting(second, actor=setup.operator)
    assert refused.value.code == "mcu_capacity_full" and "Điều 12.4a" in refused.value.article
    browsers_only = _accepted(setup, 3, start, hardware=False)
    assert not Booking.objects.get(meeting=browsers_only, endpoint__isnull=True,
                               kind=HoldKind.SESSION).needs_mixer
    # An upstream link set on the day needs the mixer that is not free.
    with pytest.raises(RuleViolation) as late:
        interconnection.set_upstream_link(browsers_only, "sip:tw@10.0.0.1",
                                          actor=setup.operator)
    assert late.value.code == "mcu_mixers_full" and late.value.field == "upstream_uri"
    lifecycle.end_meeting(first, actor=setup.operator)
    interconnection.set_upstream_link(browsers_only, "sip:tw@10.0.0.1", actor=setup.operator)
    assert Booking.objects.get(meeting=browsers_only, endpoint__isnull=True,
                               kind=HoldKind.SESSION).needs_mixer


def test_a_node_without_sip_counts_no_mixers_and_comes_after_one_with(kh_world):
    setup = kh_world
    start = working_day_at(5, 9)
    first = _accepted(setup, 1, start)  # the only node takes no SIP terminals
    assert not Booking.objects.get(meeting=first, endpoint__isnull=True,
                              kind=HoldKind.SESSION).needs_mixer
    from diemcau.testing.factories import McuNodeFactory

    sip_node = McuNodeFactory(name="mcu-sip", max_meetings=5, max_endpoints=100,
                              sip_address="10.0.0.6")
    assert _accepted(setup, 2, start).node == sip_node
    assert _accepted(setup, 3, start, hardware=False).node == setup.node  # least loaded


def test_capacity_arithmetic_counts_mixers():
    at = dt.datetime(2030, 1, 7, 8, tzinfo=dt.UTC)
    window = Window(at, at + dt.timedelta(hours=2))
    later = Window(at + dt.timedelta(hours=2), at + dt.timedelta(hours=3))
    loads = [Load(1, window, 3, 1), Load(2, later, 2, 1), Load(3, window, 2)]
    assert peak(loads, [Window(at, at + dt.timedelta(hours=3))]).mixers == 1
    assert fits(loads, [Load(4, window, 1, 1)], 5, 100, 2)
    assert not fits(loads, [Load(4, window, 1, 1)], 5, 100, 1)
    assert fits(loads, [Load(4, window, 1, 0)], 5, 100, 0)  # needs none: mixers aside
    assert fits(loads, [Load(4, window, 1, 1)], 5, 100, None)  # no SIP: not counted


def test_operators_set_the_link_of_any_open_meeting(kh_world):
    setup = kh_world
    start = working_day_at(5, 9)
    meeting = _accepted(setup, 1, start, hardware=False)
    technician = UserFactory(role=Role.TECHNICIAN, agency=setup.district)
    with pytest.raises(PermissionDenied):
        interconnection.set_upstream_link(meeting, "sip:a@10.0.0.1", actor=technician)
    assert interconnection.set_upstream_link(
        meeting, "sip:a@10.0.0.1", actor=setup.operator).upstream_uri == "sip:a@10.0.0.1"


_BASE = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)
_loads = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 12), st.integers(0, 9), st.booleans()),
    max_size=12)


@settings(max_examples=200, deadline=None)
@given(_loads, st.integers(0, 40), st.integers(1, 20))
def test_the_sweep_counts_mixers_as_a_brute_force_count_does(rows, start, length):
    """Property: the peak of mixers (and meetings, endpoints) is the highest count of
    half-open windows over any quarter hour inside `within`."""
    quarter = dt.timedelta(minutes=15)
    loads = [Load(n, Window(_BASE + s * quarter, _BASE + (s + d) * quarter), e, int(x))
             for n, (s, d, e, x) in enumerate(rows)]
    within = Window(_BASE + start * quarter, _BASE + (start + length) * quarter)
    found = peak(loads, [within])
    best = [0, 0, 0]
    for step in range(start, start + length):
        at = _BASE + step * quarter
        here = [load for load in loads if load.window.starts_at <= at < load.window.ends_at]
        best = [max(best[0], len(here)), max(best[1], sum(x.endpoints for x in here)),
                max(best[2], sum(x.mixers for x in here))]
    assert (found.meetings, found.endpoints, found.mixers) == tuple(best)


def test_free_slots_of_a_meeting_with_an_upstream_link_need_a_free_mixer(kh_world):
    """The times offered to a host (after a revocation) are those at which the meeting fits
    as it is: with its upstream link it needs one of the node's mixers (R24, KH Đ12.4a)."""
    from diemcau.scheduling import selectors

    setup = kh_world
    setup.node.sip_address, setup.node.max_mixers = "10.0.0.5:5060", 2  # 80 %: one mixer
    setup.node.save()
    start = working_day_at(5, 9)
    first = _accepted(setup, 1, start)  # terminals: it holds the mixer from 9 to 11
    agency, endpoint = _district(setup, 2, hardware=False)
    wanted = registration.create_meeting(meeting_input(agency, endpoint, [], start, hours=1),
                                         actor=setup.operator)
    # Browsers only: 9:00 fits, the mixer is not needed.
    assert selectors.free_slots(wanted, count=1) == [start]
    interconnection.set_upstream_link(wanted, "sip:tw@10.0.0.1", actor=setup.operator)
    wanted.refresh_from_db()
    found = selectors.free_slots(wanted, count=3)
    assert len(found) == 3
    assert all(not (t < first.ends_at and first.starts_at < t + dt.timedelta(hours=1))
               for t in found)
    assert found[0] >= first.ends_at  # (here after the lunch break: 13:30)
