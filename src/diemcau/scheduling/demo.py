"""Demo meetings for `make run`: an MCU node, one accepted meeting with its checks and code,
one weekly briefing series, and one registration waiting in the operator's queue."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from diemcau.core import calendar
from diemcau.core.errors import RuleViolation
from diemcau.core.models import User
from diemcau.directory.choices import EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.mcu.models import McuNode, mixers_for_this_machine
from diemcau.rulebooks import active_rulebook

from .choices import MeetingType, Recurrence, Urgency
from .models import Meeting
from .services.lifecycle import accept_meeting
from .services.registration import MeetingInput, create_meeting, create_series


def _at(working_days_ahead: int, hour: int) -> dt.datetime:
    work = calendar.WorkCalendar.for_rulebook(active_rulebook())
    day = work.add_working_days(timezone.now(), working_days_ahead)
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


def _input(
    host: Agency, start: dt.datetime, title: str, participants: list[Endpoint], hours: int = 2
) -> MeetingInput:
    return MeetingInput(
        title=title,
        host_agency=host,
        host_endpoint=host.endpoints.get(status=EndpointStatus.APPROVED),
        participants=participants,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        place="Phòng họp trực tuyến " + host.name,
        contact_name="Trần Thị Lan",
        contact_phone="0912000001",
    )


def load_meetings(*, province: Agency, office_agency: Agency, operator: User, office: User) -> None:
    if Meeting.objects.exists():
        return
    # The node `diemcau janus run --register` (make run) records this machine's Janus as, so
    # the demo meetings are booked on the Janus that serves them.
    McuNode.objects.get_or_create(
        name=settings.JANUS_NODE_NAME,
        defaults={"max_meetings": 20, "max_endpoints": 200,
                  "max_mixers": mixers_for_this_machine()},
    )
    approved = list(Endpoint.objects.filter(status=EndpointStatus.APPROVED))
    others = [e for e in approved if e.agency_id != province.pk]
    accepted = create_meeting(
        _input(province, _at(3, 8), "Hội nghị trực tuyến triển khai nhiệm vụ quý", others),
        actor=operator,
    )
    accept_meeting(accepted, actor=operator)
    # A meeting open right now, so the live pages can be tried at once: an emergency meeting
    # (KH Đ12.2: no lead time) accepted by the operator; its room opens with the first join.
    now_input = _input(
        office_agency,
        timezone.localtime().replace(second=0, microsecond=0) + dt.timedelta(minutes=5),
        "Họp khẩn ứng phó mưa lũ (họp thử kết nối)",
        [e for e in approved if e.agency_id != office_agency.pk],
    )
    now_input.urgency = Urgency.EMERGENCY
    now_input.emergency_reason = "Mưa lớn, nguy cơ ngập lụt (dữ liệu mẫu)"
    try:
        with transaction.atomic():
            accept_meeting(create_meeting(now_input, actor=office), actor=operator)
    except RuleViolation:
        pass  # a rulebook with a lead time even for emergencies (ĐN Đ11.2a): not in its demo
    series_input = _input(office_agency, _at(4, 14), "Giao ban tuần", [], hours=1)
    series_input.meeting_type = MeetingType.BRIEFING
    create_series(
        series_input,
        recurrence=Recurrence.WEEKLY,
        until=(series_input.starts_at + dt.timedelta(weeks=3)).date(),
        actor=office,
    )
    create_meeting(
        _input(
            office_agency,
            _at(5, 9),
            "Họp chuyên đề chuyển đổi số",
            [e for e in approved if e.agency_id == province.pk],
        ),
        actor=office,
    )
