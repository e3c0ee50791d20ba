"""Fixtures of the notifications tests: no worker runs, so Huey executes tasks at once in the
test's process, and webhooks go to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from diemcau.testing.webhook import WebhookServer


@pytest.fixture
def huey_immediate(_huey_immediate: Any) -> Any:
    """The shared conftest already runs Huey at once; tests that talk to it ask for this."""
    return _huey_immediate


@pytest.fixture
def webhook(settings: Any) -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.start()
    settings.WEBHOOK_URL = server.url
    settings.WEBHOOK_SECRET = "test-webhook-secret"
    settings.PUBLIC_URL, settings.PUBLIC_URL_SET = "https://hop.example.gov.vn", True
    yield server
    server.stop()


@pytest.fixture
def meeting(kh_tree: SimpleNamespace, use_rulebook: Any) -> Any:
    """An accepted meeting of the district, arranged directly."""
    from diemcau.scheduling.choices import MeetingStatus
    from diemcau.scheduling.models import Meeting
    from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

    use_rulebook("khanh-hoa-2023")
    start = timezone.localtime(timezone.now() + dt.timedelta(days=7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return Meeting.objects.create(
        title="Giao ban trực tuyến tháng 12",
        host_agency=kh_tree.district,
        host_endpoint=ApprovedEndpointFactory(agency=kh_tree.district),
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        place="Phòng họp trực tuyến UBND thành phố",
        contact_name="Nguyễn Văn A",
        contact_phone="0912345678",
        status=MeetingStatus.ACCEPTED,
        code="1234567890",
        created_by=UserFactory(agency=kh_tree.district),
    )
