"""The live-meeting REST API: attendance within scope, join links (the address shown once,
revocation), the grant with its refusals, and the operators' overview."""

from __future__ import annotations

import pytest

from diemcau.core.roles import Role
from diemcau.mcu.services import register_node
from diemcau.media.models import JoinLink
from diemcau.media.services import join_links
from diemcau.scheduling.choices import Classification
from diemcau.scheduling.tests.test_api import caller
from diemcau.testing.factories import UserFactory

from .live_fixtures import live_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(kh_tree):
    live = live_meeting(None, kh_tree.district, [kh_tree.commune, kh_tree.other_commune])
    return live


def test_attendance_is_scoped(setup, kh_tree):
    district = caller(Role.TECHNICIAN, kh_tree.district)
    answer = district.get(f"/meetings/{setup.meeting.pk}/attendance")
    assert answer.status_code == 200
    assert {line["endpoint_id"] for line in answer.json()} == {
        setup.host_endpoint.pk, *(e.pk for e in setup.participants)
    }
    stranger = caller(Role.TECHNICIAN, kh_tree.department)
    assert stranger.get(f"/meetings/{setup.meeting.pk}/attendance").status_code == 404


def test_join_links_shown_once_and_revoked(setup, kh_tree):
    district = caller(Role.TECHNICIAN, kh_tree.district)
    made = district.post(f"/meetings/{setup.meeting.pk}/join-links",
                         {"endpoint": setup.participants[0].pk})
    assert made.status_code == 201, made.content
    url = made.json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert join_links.link_from_token(token).pk == made.json()["id"]
    listed = district.get(f"/meetings/{setup.meeting.pk}/join-links").json()
    assert [item["id"] for item in listed] == [made.json()["id"]]
    assert "url" not in listed[0] and token not in str(listed)
    # A commune sees only its own endpoint's links.
    other = caller(Role.OFFICE, kh_tree.other_commune)
    assert other.get(f"/meetings/{setup.meeting.pk}/join-links").json() == []
    assert other.post(f"/join-links/{made.json()['id']}/revoke").status_code == 403
    revoked = district.post(f"/join-links/{made.json()['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert JoinLink.objects.get().revoked_at is not None
    assert district.post(f"/join-links/{made.json()['id']}/revoke").status_code == 409


def test_a_link_for_an_endpoint_outside_the_meeting_is_refused(setup, kh_tree):
    from diemcau.testing.factories import ApprovedEndpointFactory

    outsider = ApprovedEndpointFactory(agency=kh_tree.district)
    district = caller(Role.TECHNICIAN, kh_tree.district)
    answer = district.post(f"/meetings/{setup.meeting.pk}/join-links",
                           {"endpoint": outsider.pk})
    assert answer.status_code == 403


@pytest.mark.janus
def test_grant_and_its_refusals(janus_server, kh_tree):
    from diemcau.directory.choices import Network, TerminalKind
    from diemcau.testing.factories import ApprovedEndpointFactory

    node = register_node(janus_server.node_input("mcu-api"),
                         actor=UserFactory(role=Role.OPERATOR))
    live = live_meeting(node, kh_tree.district, [kh_tree.commune],
                        classification=Classification.STATE_SECRET)
    phone = ApprovedEndpointFactory(agency=kh_tree.commune, terminal_kind=TerminalKind.PERSONAL,
                                    network=Network.INTERNET, vcs_ip=None)
    live.meeting.participants.add(phone)
    commune = caller(Role.OFFICE, kh_tree.commune)
    refused = commune.post(f"/meetings/{live.meeting.pk}/grant", {"endpoint": phone.pk})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["code"] == "state_secret_personal_internet"
    assert "Điều 5.2" in refused.json()["detail"][0]["article"]
    given = commune.post(f"/meetings/{live.meeting.pk}/grant",
                         {"endpoint": live.participants[0].pk})
    assert given.status_code == 201
    assert given.json()["muted"] is True and given.json()["janus_token"]


def test_overview_is_for_operators(setup, kh_tree):
    operator = caller(Role.OPERATOR, kh_tree.department)
    assert operator.get("/live/overview").status_code == 200
    assert caller(Role.TECHNICIAN, kh_tree.district).get("/live/overview").status_code == 403
