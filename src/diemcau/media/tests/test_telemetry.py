"""Line telemetry (R16, R18): samples that keep the line's level are written without a lock or
an audit event; a change of level is audited once (a line that starts good is not a change
worth an event); a closed connection takes no sample."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from diemcau.core.audit import verify_chain
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.media.models import Participation, Quality
from diemcau.media.services import telemetry
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.models import Meeting
from diemcau.testing.factories import ApprovedEndpointFactory, McuNodeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(kh_tree: SimpleNamespace) -> Participation:
    """An open connection of an accepted meeting, arranged directly (no Janus needed)."""
    operator = UserFactory(role=Role.OPERATOR, agency=kh_tree.department)
    node = McuNodeFactory(name="mcu-1", max_meetings=5, max_endpoints=100)
    endpoint = ApprovedEndpointFactory(agency=kh_tree.district, name="UBND.Nha Trang")
    now = timezone.now()
    meeting = Meeting.objects.create(
        title="Giao ban", host_agency=kh_tree.district, host_endpoint=endpoint,
        starts_at=now, ends_at=now + dt.timedelta(hours=2), place="Phòng họp",
        contact_name="Nguyễn Văn A", contact_phone="0912345678",
        status=MeetingStatus.LIVE, node=node, created_by=operator,
    )
    return Participation.objects.create(
        meeting=meeting, endpoint=endpoint, node=node, display=endpoint.name, janus_id=7,
        key_hash="k" * 64, janus_token_secret="t",
    )


def test_samples_of_the_same_level_are_written_without_audit(line: Participation) -> None:
    telemetry.report_quality(line, rtt_ms=40, loss_percent=0.5, bitrate_kbps=900)
    events = AuditEvent.objects.filter(action="live.quality")
    assert Participation.objects.get(pk=line.pk).quality == Quality.GOOD
    assert events.count() == 0  # a line that starts good is not news

    for rtt in (60, 80, 120):
        telemetry.report_quality(line, rtt_ms=rtt, loss_percent=0.1, bitrate_kbps=800)
    stored = Participation.objects.get(pk=line.pk)
    assert (stored.quality, stored.rtt_ms, stored.bitrate_kbps) == (Quality.GOOD, 120, 800)
    assert events.count() == 0

    telemetry.report_quality(line, rtt_ms=600, loss_percent=0.0, bitrate_kbps=300)
    telemetry.report_quality(line, rtt_ms=700, loss_percent=0.0, bitrate_kbps=300)
    telemetry.report_quality(line, rtt_ms=50, loss_percent=0.0, bitrate_kbps=900)
    assert Participation.objects.get(pk=line.pk).quality == Quality.GOOD
    moves = [(e.before["quality"], e.after["quality"]) for e in events.order_by("seq")]
    assert moves == [("good", "poor"), ("poor", "good")]
    assert verify_chain().ok


def test_a_closed_connection_takes_no_sample(line: Participation) -> None:
    telemetry.report_quality(line, rtt_ms=40, loss_percent=0.0, bitrate_kbps=900)
    Participation.objects.filter(pk=line.pk).update(left_at=timezone.now())
    telemetry.report_quality(line, rtt_ms=900, loss_percent=20.0, bitrate_kbps=10)
    telemetry.report_quality(line, rtt_ms=50, loss_percent=0.0, bitrate_kbps=10)
    stored = Participation.objects.get(pk=line.pk)
    assert (stored.quality, stored.rtt_ms, stored.bitrate_kbps) == (Quality.GOOD, 40, 900)
    assert not AuditEvent.objects.filter(action="live.quality").exists()
