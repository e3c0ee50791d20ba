"""A hand-counted half-year for the report tests: the first half of 2025 and the second half
of 2024 before it, in `kh_world` (KH rulebook: UBND tỉnh, Sở TTTT, Nha Trang with a ward,
Cam Ranh with a ward). Rows are arranged directly, as factories do; the figures each test
expects are counted by hand in the comments and in `EXPECTED`.

    current (2025-H1)                               previous (2024-H2)
    M1 district  10/03 09–11 ended   briefing       P1 district  10/09 09–11 ended
       rehearsal 09/03 14–15, recording asked       P2 Cam Ranh  11/11 refused "Điều 12.4a"
    M2 ward      02/04 14–15:30 ended urgent
    M3 UBND tỉnh 05/05 08–10 ended   thematic       outside both: O1 05/07/2025 ended
    M4 district  20/05 refused "Điều 12.4a…", recording asked
    M5 Cam Ranh  11/02 refused, no article          a draft in the period: never counted
    M6 ward      10/06 cancelled before any reply
    M7 district  12/06 revoked
    M8 Cam Ranh's ward 25/06 submitted, reply overdue
    M9 Sở TTTT   10/03 10–12 accepted (never ended)
"""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from diemcau.core import audit
from diemcau.directory.models import Endpoint
from diemcau.media.models import Participation
from diemcau.scheduling.choices import (
    CheckStatus,
    IncidentStatus,
    MeetingStatus,
    MeetingType,
    Urgency,
    WindowKind,
)
from diemcau.scheduling.models import Booking, Incident, Meeting, TechnicalCheck
from diemcau.testing.factories import McuNodeFactory

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_keys = itertools.count(1)


def at(day: str, hhmm: str = "00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=VN)


def meeting(world: SimpleNamespace, title: str, host: Any, endpoint: Endpoint, day: str,
            start: str, end: str, status: str, *, participants: tuple[Endpoint, ...] = (),
            node: Any = None, registered: str = "", reply_hours: float | None = 1,
            breached: bool = False, **fields: Any) -> Meeting:
    registered_at = at(*registered.split()) if registered else at(day) - dt.timedelta(days=7)
    decided = (registered_at + dt.timedelta(hours=reply_hours)
               if reply_hours is not None and status != MeetingStatus.DRAFT else None)
    m = Meeting.objects.create(
        title=title, host_agency=host, host_endpoint=endpoint, starts_at=at(day, start),
        ends_at=at(day, end), place="Phòng họp", contact_name="Nguyễn Văn A",
        contact_phone="0905000000", status=status, created_by=world.operator,
        registered_at=None if status == MeetingStatus.DRAFT else registered_at,
        counted_from=registered_at, reply_due_at=registered_at + dt.timedelta(hours=3),
        decided_at=decided, sla_breached_at=registered_at + dt.timedelta(hours=3)
        if breached else None, node=node, **fields,
    )
    m.participants.set(participants)
    return m


def joined(m: Meeting, endpoint: Endpoint, start: str, end: str) -> Participation:
    day = timezone.localtime(m.starts_at, VN).date().isoformat()
    n = next(_keys)
    return Participation.objects.create(
        meeting=m, endpoint=endpoint, node=m.node, display=endpoint.name, janus_id=n,
        key_hash=f"key-{n}", janus_token_secret="t", joined_at=at(day, start),
        left_at=at(day, end), left_reason="left",
    )


def node_row(m: Meeting, start: str, end: str, endpoints: int, day: str = "") -> Booking:
    day = day or timezone.localtime(m.starts_at, VN).date().isoformat()
    return Booking.objects.create(
        meeting=m, kind=WindowKind.SESSION, node=m.node, starts_at=at(day, start),
        ends_at=at(day, end), endpoints_count=endpoints,
        holds=m.status in (MeetingStatus.ACCEPTED, MeetingStatus.LIVE),
    )


def check(m: Meeting, endpoint: Endpoint, status: str, failed: tuple[str, ...] = ()
          ) -> TechnicalCheck:
    items = ["terminal", "connection", "power", "backup_power", "sound", "light", "picture"]
    recorded = status != CheckStatus.SCHEDULED
    return TechnicalCheck.objects.create(
        meeting=m, endpoint=endpoint, kind=WindowKind.SESSION,
        due_at=m.starts_at - dt.timedelta(hours=2), status=status,
        results={item: item not in failed for item in items} if recorded else {},
    )


def incident(world: SimpleNamespace, m: Meeting, endpoint: Endpoint | None, opened: str,
             closed: str = "", technical_check: TechnicalCheck | None = None) -> Incident:
    day = timezone.localtime(m.starts_at, VN).date().isoformat()
    i = Incident.objects.create(
        meeting=m, endpoint=endpoint, technical_check=technical_check, description="Sự cố",
        opened_by=world.operator,
        status=IncidentStatus.CLOSED if closed else IncidentStatus.OPEN,
        resolution="Đã khắc phục" if closed else "",
        closed_at=at(day, closed) if closed else None,
    )
    Incident.objects.filter(pk=i.pk).update(opened_at=at(day, opened))  # auto_now_add
    return i


def audited(action: str, endpoint: Endpoint, when: dt.datetime) -> None:
    with transaction.atomic(), mock.patch.object(timezone, "now", return_value=when):
        audit.record(action, endpoint, actor=None)


@pytest.fixture
def half_year(kh_world: SimpleNamespace) -> SimpleNamespace:
    w = kh_world
    w.node2 = McuNodeFactory(name="mcu-2", max_meetings=2, max_endpoints=10)  # caps 1 and 8
    S = MeetingStatus
    w.m1 = meeting(w, "Giao ban quý I", w.district, w.ep_district, "2025-03-10", "09:00",
                   "11:00", S.ENDED, participants=(w.ep_commune, w.ep_province), node=w.node,
                   meeting_type=MeetingType.BRIEFING, registered="2025-03-01 08:00",
                   rehearsal_starts_at=at("2025-03-09", "14:00"),
                   rehearsal_ends_at=at("2025-03-09", "15:00"), recording_requested=True)
    w.m2 = meeting(w, "Họp phường", w.commune, w.ep_commune, "2025-04-02", "14:00", "15:30",
                   S.ENDED, participants=(w.ep_district,), node=w.node, urgency=Urgency.URGENT,
                   registered="2025-03-30 08:00", reply_hours=5, breached=True)
    w.m3 = meeting(w, "Hội nghị chuyên đề", w.province, w.ep_province, "2025-05-05", "08:00",
                   "10:00", S.ENDED, participants=(w.ep_district, w.ep_other, w.ep_commune),
                   node=w.node2, meeting_type=MeetingType.THEMATIC,
                   registered="2025-04-20 08:00", reply_hours=2)
    w.m4 = meeting(w, "Họp bị từ chối", w.district, w.ep_district, "2025-05-20", "09:00",
                   "10:00", S.REFUSED, registered="2025-05-10 08:00", recording_requested=True,
                   decision_reason="Điều 12.4a Quy chế KH: No MCU node has room at that time.")
    w.m5 = meeting(w, "Họp Cam Ranh", w.other_district, w.ep_other, "2025-02-11", "09:00",
                   "10:00", S.REFUSED, registered="2025-02-01 08:00", reply_hours=3,
                   decision_reason="Trùng lịch họp của UBND tỉnh.")
    w.m6 = meeting(w, "Họp đã huỷ", w.commune, w.ep_commune, "2025-06-10", "09:00", "10:00",
                   S.CANCELLED, registered="2025-06-01 08:00", reply_hours=None,
                   decision_reason="Đổi kế hoạch")
    w.m7 = meeting(w, "Họp bị thu hồi mã", w.district, w.ep_district, "2025-06-12", "09:00",
                   "10:00", S.REVOKED, registered="2025-06-01 09:00", node=w.node,
                   reply_hours=30 * 24)  # decided_at is when the code was revoked
    w.m8 = meeting(w, "Chờ trả lời", w.other_commune, w.ep_other_commune, "2025-06-25",
                   "09:00", "10:00", S.SUBMITTED, registered="2025-06-20 08:00",
                   reply_hours=None, breached=True)
    w.m9 = meeting(w, "Họp Sở", w.department, w.ep_province, "2025-03-10", "10:00", "12:00",
                   S.ACCEPTED, node=w.node, registered="2025-03-01 09:00", reply_hours=2)
    w.draft = meeting(w, "Bản nháp", w.district, w.ep_district, "2025-05-21", "09:00", "10:00",
                      S.DRAFT, reply_hours=None)
    w.p1 = meeting(w, "Giao ban quý III", w.district, w.ep_district, "2024-09-10", "09:00",
                   "11:00", S.ENDED, participants=(w.ep_commune,), node=w.node,
                   registered="2024-09-01 08:00")
    w.p2 = meeting(w, "Họp cũ bị từ chối", w.other_district, w.ep_other, "2024-11-11", "09:00",
                   "10:00", S.REFUSED, registered="2024-11-01 08:00",
                   decision_reason="Điều 12.4a Quy chế KH: hết dung lượng MCU.")
    w.o1 = meeting(w, "Tháng bảy", w.district, w.ep_district, "2025-07-05", "09:00", "10:00",
                   S.ENDED, participants=(w.ep_commune,), node=w.node,
                   registered="2025-07-01 08:00")

    # Attendance: M1 — district 2 h, ward 55 + 50 min (a reconnection), UBND tỉnh missed.
    joined(w.m1, w.ep_district, "09:00", "11:00")
    joined(w.m1, w.ep_commune, "09:05", "10:00")
    joined(w.m1, w.ep_commune, "10:10", "11:00")
    # M2 — the ward hosts 90 min, the district 30 min.
    joined(w.m2, w.ep_commune, "14:00", "15:30")
    joined(w.m2, w.ep_district, "14:00", "14:30")
    # M3 — UBND tỉnh and the district 2 h, the ward 1 h, Cam Ranh missed.
    joined(w.m3, w.ep_province, "08:00", "10:00")
    joined(w.m3, w.ep_district, "08:00", "10:00")
    joined(w.m3, w.ep_commune, "08:30", "09:30")
    # P1 — the district 2 h, the ward missed; O1 outside both periods.
    joined(w.p1, w.ep_district, "09:00", "11:00")
    joined(w.o1, w.ep_commune, "09:00", "10:00")

    # MCU node rows, from the check to the end. mcu-1: M1 07–11 (3 endpoints) and M9 08–12
    # (1) overlap 08–11; M2 12–15:30 (2). mcu-2 (cap 1 meeting): M3 06–10 (4). M7 was
    # revoked: its row no longer counts. P1 07–11 (2) before.
    node_row(w.m1, "07:00", "11:00", 3)
    node_row(w.m9, "08:00", "12:00", 1)
    node_row(w.m2, "12:00", "15:30", 2)
    node_row(w.m3, "06:00", "10:00", 4)
    node_row(w.m7, "07:00", "10:00", 1)
    node_row(w.p1, "07:00", "11:00", 2)

    # Checks: M1 district passed, ward failed (sound), UBND tỉnh never recorded; M3 Cam Ranh
    # failed (connection, power); P1 ward passed.
    check(w.m1, w.ep_district, CheckStatus.PASSED)
    ward_check = check(w.m1, w.ep_commune, CheckStatus.FAILED, ("sound",))
    check(w.m1, w.ep_province, CheckStatus.SCHEDULED)
    check(w.m3, w.ep_other, CheckStatus.FAILED, ("connection", "power"))
    check(w.p1, w.ep_commune, CheckStatus.PASSED)

    # Incidents: the ward's failed check (closed in 30 min); Cam Ranh during M3 (closed in
    # 60 min); M2 without an endpoint, still open.
    incident(w, w.m1, w.ep_commune, "07:10", "07:40", technical_check=ward_check)
    incident(w, w.m3, w.ep_other, "08:05", "09:05")
    incident(w, w.m2, None, "14:10")

    # Admission: the ward admitted, Cam Ranh suspended and reinstated, the district repaired
    # twice (one endpoint), in 2025-H1; Cam Nghĩa admitted in 2024-H2.
    audited("endpoint.approve", w.ep_commune, at("2025-02-01", "09:00"))
    audited("endpoint.suspend", w.ep_other, at("2025-03-01", "09:00"))
    audited("endpoint.reinstate", w.ep_other, at("2025-03-15", "09:00"))
    audited("endpoint.report_repair", w.ep_district, at("2025-04-01", "09:00"))
    audited("endpoint.report_repair", w.ep_district, at("2025-04-20", "09:00"))
    audited("endpoint.approve", w.ep_other_commune, at("2024-10-01", "09:00"))
    return w
