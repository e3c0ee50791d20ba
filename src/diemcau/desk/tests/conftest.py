"""Fixtures of the desk's tests: the Khánh Hòa-like world with a line provider, a meeting and
a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone, translation

from diemcau.testing.webhook import WebhookServer


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def provider_hook() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.start()
    yield server
    server.stop()


def make_meeting(world: SimpleNamespace, *, starts_in: dt.timedelta,
                 status: str = "accepted", **extra: Any) -> Any:
    from diemcau.scheduling.models import Meeting

    start = timezone.now() + starts_in
    meeting = Meeting.objects.create(
        title="Giao ban tháng", host_agency=world.district, host_endpoint=world.ep_district,
        starts_at=start, ends_at=start + dt.timedelta(hours=2), place="Phòng họp",
        contact_name="Nguyễn Văn A", contact_phone="0912345678", status=status,
        node=world.node, created_by=world.district_office, **extra)
    meeting.participants.add(world.ep_commune)
    return meeting


@pytest.fixture
def desk(kh_world: SimpleNamespace) -> SimpleNamespace:
    from diemcau.core.roles import Role
    from diemcau.testing.factories import UserFactory

    w = kh_world
    w.operator2 = UserFactory(role=Role.OPERATOR, agency=w.department, first_name="Bình")
    w.district_tech = UserFactory(role=Role.TECHNICIAN, agency=w.district)
    w.commune_tech = UserFactory(role=Role.TECHNICIAN, agency=w.commune)
    w.other_tech = UserFactory(role=Role.TECHNICIAN, agency=w.other_district)
    w.auditor = UserFactory(role=Role.AUDITOR, agency=w.province)
    return w
