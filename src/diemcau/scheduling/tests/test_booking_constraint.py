"""On PostgreSQL the database itself refuses an endpoint held by two meetings at once,
whatever writes the rows (migration scheduling 0002); SQLite relies on `accept_meeting`
serializing the writers (test_race runs on both)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from diemcau.scheduling.choices import MeetingStatus, WindowKind
from diemcau.scheduling.models import Booking, Meeting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _meeting(world, start: dt.datetime) -> Meeting:
    return Meeting.objects.create(
        title="Họp", host_agency=world.district, host_endpoint=world.ep_district,
        starts_at=start, ends_at=start + dt.timedelta(hours=2), place="Phòng họp",
        contact_name="Nguyễn Văn A", contact_phone="0912345678",
        status=MeetingStatus.ACCEPTED, node=world.node, created_by=world.district_office,
    )


def test_an_endpoint_held_twice_at_once_is_refused_by_the_database(kh_world):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    first, second = _meeting(kh_world, start), _meeting(kh_world, start)

    def hold(meeting: Meeting, begins: dt.datetime, hours: int, **fields) -> Booking:
        return Booking.objects.create(
            meeting=meeting, kind=WindowKind.SESSION, node=kh_world.node,
            starts_at=begins, ends_at=begins + dt.timedelta(hours=hours), **fields,
        )

    hold(first, start, 2, endpoint=kh_world.ep_commune)
    with pytest.raises(IntegrityError), transaction.atomic():
        hold(second, start + dt.timedelta(hours=1), 2, endpoint=kh_world.ep_commune)
    # Windows are half-open: one that starts when the other ends does not overlap it.
    hold(second, start + dt.timedelta(hours=2), 1, endpoint=kh_world.ep_commune)
    # Rows that no longer hold, another endpoint and the node's own rows never conflict.
    hold(second, start, 2, endpoint=kh_world.ep_commune, holds=False)
    hold(second, start, 2, endpoint=kh_world.ep_other_commune)
    hold(second, start, 2, endpoint=None, endpoints_count=3)
    hold(first, start, 2, endpoint=None, endpoints_count=3)
    assert Booking.objects.filter(endpoint=kh_world.ep_commune, holds=True).count() == 2
