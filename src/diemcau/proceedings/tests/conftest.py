"""A Khánh Hòa meeting hosted by a commune (so run from its district, KH Đ14.3a), with users
of every role, for the script's and the checklist's tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import timezone

from diemcau.core.roles import Role
from diemcau.media.models import Participation
from diemcau.media.tests.live_fixtures import live_meeting
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory


@pytest.fixture
def world(kh_tree, use_rulebook) -> SimpleNamespace:
    use_rulebook("khanh-hoa-2023")
    live = live_meeting(McuNodeFactory(), kh_tree.commune, [kh_tree.other_commune])
    district_endpoint = ApprovedEndpointFactory(agency=kh_tree.district, name="UBND.Nha Trang")
    live.meeting.participants.add(district_endpoint)
    return SimpleNamespace(
        tree=kh_tree,
        meeting=live.meeting,
        host_endpoint=live.host_endpoint,
        participant=live.participants[0],
        district_endpoint=district_endpoint,
        district_tech=UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district),
        commune_tech=UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        other_tech=UserFactory(role=Role.TECHNICIAN, agency=kh_tree.other_commune),
        commune_office=UserFactory(role=Role.OFFICE, agency=kh_tree.commune),
        operator=UserFactory(role=Role.OPERATOR, agency=kh_tree.department),
        auditor=UserFactory(role=Role.AUDITOR, agency=kh_tree.province),
        stranger_tech=UserFactory(role=Role.TECHNICIAN, agency=kh_tree.department),
    )


def enter(meeting, endpoint, **fields) -> Participation:
    """An endpoint in the room, as the grant makes it (not published yet: no media server is
    asked when its microphone opens)."""
    return Participation.objects.create(
        meeting=meeting, endpoint=endpoint, node=meeting.node, display=endpoint.name,
        janus_id=Participation.objects.count() + 500, key_hash=f"{endpoint.pk:064d}",
        janus_token_secret="t", joined_at=timezone.now(), **fields,
    )
