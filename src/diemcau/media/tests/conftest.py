"""Fixtures of the live plane's tests (the Janus fixtures are in diemcau.testing.janus_fixtures,
available to every app through the root conftest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """The services' messages are asserted by their English msgids: the Vietnamese catalogue
    translates them (the UI's first language). Pages choose their language per request (the
    tests set the language cookie), so this does not reach them."""
    with translation.override("en"):
        yield


# ------------------------------------------------------------------- meetings for the rooms


def make_meeting(node: Any, *, starts_in: dt.timedelta, status: str = "accepted",
                 hours: int = 2, check_before: dt.timedelta | None = None) -> Any:
    """A meeting row on `node` (arranged directly: the services under test are the media
    ones), with one technical check `check_before` its start."""
    from diemcau.core.roles import Role
    from diemcau.scheduling.choices import WindowKind
    from diemcau.scheduling.models import Meeting, TechnicalCheck
    from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

    endpoint = ApprovedEndpointFactory()
    start = timezone.now() + starts_in
    meeting = Meeting.objects.create(
        title="Họp thử",
        host_agency=endpoint.agency,
        host_endpoint=endpoint,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        place="Phòng họp",
        contact_name="Nguyễn Văn A",
        contact_phone="0912345678",
        status=status,
        node=node,
        created_by=UserFactory(role=Role.OFFICE, agency=endpoint.agency),
    )
    if check_before is not None:
        TechnicalCheck.objects.create(
            meeting=meeting, endpoint=endpoint, kind=WindowKind.SESSION,
            due_at=start - check_before,
        )
    return meeting
