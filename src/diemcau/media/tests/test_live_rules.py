"""Who controls a meeting (R17: the rulebook's delegation), who may connect which endpoint,
and join links: signed, expiring, revocable. No media server is needed here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.media.models import JoinLink
from diemcau.media.permissions import can_control, controlling_agency, joinable_endpoints
from diemcau.media.services import control, join_links
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Incident
from diemcau.scheduling.rules import incident_refusal
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

pytestmark = pytest.mark.django_db


def test_kh_commune_hosted_meeting_is_controlled_by_its_district(kh_tree):
    setup = live_meeting(None, kh_tree.commune, [kh_tree.other_commune])
    assert controlling_agency(setup.meeting) == kh_tree.district
    commune_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    district_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    other_district_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.other_district)
    assert not can_control(commune_tech, setup.meeting)  # KH Đ14.3a
    assert can_control(district_tech, setup.meeting)
    assert not can_control(other_district_tech, setup.meeting)


def test_kh_district_and_department_control_their_own(kh_tree):
    district_meeting = live_meeting(None, kh_tree.district, [kh_tree.commune]).meeting
    department_meeting = live_meeting(None, kh_tree.department, [kh_tree.district]).meeting
    assert controlling_agency(district_meeting) == kh_tree.district
    assert controlling_agency(department_meeting) == kh_tree.department


def test_dn_delegates_control_to_the_hosting_commune(kh_tree, use_rulebook):
    use_rulebook("dong-nai-2025")
    setup = live_meeting(None, kh_tree.commune, [kh_tree.other_commune])
    assert controlling_agency(setup.meeting) == kh_tree.commune
    assert can_control(UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune), setup.meeting)


def test_roles_that_control(kh_tree):
    meeting = live_meeting(None, kh_tree.district, [kh_tree.commune]).meeting
    assert can_control(UserFactory(role=Role.OPERATOR, agency=kh_tree.department), meeting)
    assert not can_control(UserFactory(role=Role.OFFICE, agency=kh_tree.district), meeting)
    assert not can_control(UserFactory(role=Role.AUDITOR, agency=kh_tree.province), meeting)


def test_a_user_connects_only_the_endpoints_of_their_scope(kh_tree):
    setup = live_meeting(None, kh_tree.district, [kh_tree.commune, kh_tree.other_commune])
    commune_office = UserFactory(role=Role.OFFICE, agency=kh_tree.commune)
    district_office = UserFactory(role=Role.OFFICE, agency=kh_tree.district)
    auditor = UserFactory(role=Role.AUDITOR, agency=kh_tree.province)
    commune_ep, other_ep = setup.participants
    assert set(joinable_endpoints(commune_office, setup.meeting)) == {commune_ep}
    assert set(joinable_endpoints(district_office, setup.meeting)) == {
        setup.host_endpoint, commune_ep,
    }
    assert not joinable_endpoints(auditor, setup.meeting).exists()


def test_the_console_escalates_only_what_an_incident_may_be_reported_on(kh_tree):
    """ĐN Đ12.4c, KH Đ14.4c: the host's escalation is an incident, refused on a meeting that
    takes none with the refusal of the pages and the API (`rules.incident_refusal`)."""
    host_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    for status in (MeetingStatus.DRAFT, MeetingStatus.SUBMITTED, MeetingStatus.CANCELLED):
        meeting = live_meeting(None, kh_tree.district, [kh_tree.commune], status=status).meeting
        assert can_control(host_tech, meeting)
        refusal = incident_refusal(meeting)
        assert refusal is not None
        with pytest.raises(InvalidTransition) as refused:
            control.escalate(meeting, description="Mất tiếng điểm cầu xã", actor=host_tech)
        assert str(refused.value) == str(refusal)
    assert not Incident.objects.exists()


# ---------------------------------------------------------------------------- join links


@pytest.fixture
def linked(kh_tree):
    setup = live_meeting(None, kh_tree.district, [kh_tree.commune])
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    link, token = join_links.issue_join_link(setup.meeting, setup.participants[0], actor=tech)
    return setup, tech, link, token


def test_a_link_resolves_and_stores_only_a_hash(linked):
    setup, tech, link, token = linked
    assert join_links.link_from_token(token) == link
    assert token not in link.token_hash
    assert link.expires_at == setup.meeting.ends_at + join_links.LINK_GRACE_AFTER_END
    event = AuditEvent.objects.filter(action="join_link.issue").get()
    assert token not in str(event.after)


def test_tampered_expired_and_revoked_links_are_refused(linked):
    setup, tech, link, token = linked
    with pytest.raises(PermissionDenied, match="not valid"):
        join_links.link_from_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with pytest.raises(PermissionDenied, match="expired"):
        join_links.link_from_token(token, now=link.expires_at + dt.timedelta(seconds=1))
    join_links.revoke_join_link(link, actor=tech)
    with pytest.raises(PermissionDenied, match="revoked"):
        join_links.link_from_token(token)
    assert AuditEvent.objects.filter(action="join_link.revoke").count() == 1


def test_a_link_of_another_meeting_id_is_refused(linked):
    setup, tech, link, token = linked
    JoinLink.objects.filter(pk=link.pk).update(token_hash="0" * 64)
    with pytest.raises(PermissionDenied):
        join_links.link_from_token(token)


def test_only_the_scope_of_the_endpoint_issues_links(kh_tree):
    setup = live_meeting(None, kh_tree.district, [kh_tree.commune, kh_tree.other_commune])
    commune_office = UserFactory(role=Role.OFFICE, agency=kh_tree.commune)
    with pytest.raises(PermissionDenied):
        join_links.issue_join_link(setup.meeting, setup.participants[1], actor=commune_office)
    link, _ = join_links.issue_join_link(setup.meeting, setup.participants[0], actor=commune_office)
    assert link.endpoint == setup.participants[0]


def test_a_link_never_outlives_the_meeting(kh_tree):
    setup = live_meeting(None, kh_tree.district, [kh_tree.commune])
    tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    far = setup.meeting.ends_at + dt.timedelta(days=30)
    link, _ = join_links.issue_join_link(setup.meeting, setup.participants[0], actor=tech,
                                      valid_until=far)
    assert link.expires_at == setup.meeting.ends_at + join_links.LINK_GRACE_AFTER_END
    with pytest.raises(InvalidInput):
        join_links.issue_join_link(setup.meeting, setup.participants[0], actor=tech,
                                valid_until=timezone.now() - dt.timedelta(minutes=1))
