"""Demo data of the operations desk for `make run`: a line provider with its people, each
admitted room's devices and line, the MCU's versions, this year's plan of the office and a
shift on duty now. Everything goes through the services; running it again changes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from diemcau.core.models import User
from diemcau.directory.choices import ContactRole, EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.services import ContactInput, set_contact
from diemcau.mcu.models import McuNode

from .choices import DeviceKind, PatchStatus, ProviderKind, TaskKind
from .models import LineProvider
from .services import duty, equipment, routing


def load_desk(*, operator: User, office_agency: Agency, office: User) -> None:
    if LineProvider.objects.exists():
        return
    provider = routing.save_provider(routing.ProviderInput(
        name="VNPT (mạng truyền số liệu chuyên dùng)", kind=ProviderKind.TSLCD,
        email="ungcuu-tslcd@demo.diemcau.local"), actor=operator)
    routing.add_provider_contact(provider, full_name="Trực ca mạng TSLCD", phone="0258000111",
                                 actor=operator)
    routing.add_provider_contact(provider, full_name="Kỹ thuật khu vực", phone="0258000222",
                                 area=office_agency, actor=operator)
    routing.save_provider(routing.ProviderInput(
        name="Viettel (Internet)", kind=ProviderKind.INTERNET,
        email="noc@demo.diemcau.local"), actor=operator)
    today = timezone.localdate()
    for index, endpoint in enumerate(Endpoint.objects.filter(status=EndpointStatus.APPROVED)
                                     .order_by("pk")):
        equipment.set_line(endpoint, provider=provider,
                           circuit_reference=f"TSLCD-{endpoint.pk:03d}", actor=operator)
        for kind, model in ((DeviceKind.TERMINAL, "Polycom RealPresence Group 500"),
                            (DeviceKind.CAMERA, "Polycom EagleEye IV"),
                            (DeviceKind.MICROPHONE, "Polycom Microphone Array")):
            equipment.add_device(endpoint, equipment.DeviceInput(
                kind=kind, model=model, serial=f"SN{endpoint.pk:03d}{index}{kind[:2].upper()}",
                asset_code=f"TSCĐ-{endpoint.pk:03d}-{kind[:3].upper()}",
                purchased_on=dt.date(today.year - 3, 6, 1),
                warranty_until=dt.date(today.year - 1, 6, 1)), actor=operator)
    for node in McuNode.objects.all():
        equipment.record_node_versions(node, equipment.NodeVersionsInput(
            hardware="Máy chủ 2 CPU, 64 GB RAM", operating_system="Debian 12",
            software_version="Janus 1.1.2", patch_status=PatchStatus.PENDING,
            patched_on=today - dt.timedelta(days=45)), actor=operator)
    plan = equipment.create_plan(office_agency, year=today.year,
                                 note="Kế hoạch bảo trì, mua sắm thiết bị điểm cầu",
                                 actor=office)
    equipment.add_task(plan, equipment.TaskInput(
        kind=TaskKind.MAINTENANCE, title="Bảo dưỡng định kỳ thiết bị đầu cuối",
        due_on=min(today + dt.timedelta(days=10), dt.date(today.year, 12, 31))), actor=office)
    equipment.add_task(plan, equipment.TaskInput(
        kind=TaskKind.PROCUREMENT, title="Mua bổ sung micro để bàn",
        due_on=dt.date(today.year, 12, 31)), actor=office)
    now = timezone.now()
    duty.add_shift(operator, starts_at=now - dt.timedelta(hours=1),
                   ends_at=now + dt.timedelta(hours=8), note="Ca ngày", actor=operator)
    # A technician replaced at the office's room: the operators hear of it, and the training
    # task shows on the desk until it is recorded (KH Đ19.3, ĐN Đ16.3).
    room = Endpoint.objects.filter(agency=office_agency,
                                   status=EndpointStatus.APPROVED).first()
    if room is not None:
        set_contact(room, ContactInput(role=ContactRole.TECHNICIAN, full_name="Trần Thị Mai",
                                       phone="0905123456", change_reason="Luân chuyển cán bộ"),
                    actor=office)
    # A line incident of the meeting on now, sent to its provider and waiting for its reply.
    from diemcau.scheduling.choices import MeetingStatus
    from diemcau.scheduling.models import Meeting
    from diemcau.scheduling.services.checks import report_incident

    meeting = (Meeting.objects.filter(status__in=[MeetingStatus.ACCEPTED, MeetingStatus.LIVE],
                                      host_endpoint__desk_line__isnull=False)
               .order_by("starts_at").first())
    if meeting is not None and meeting.host_endpoint is not None:
        incident = report_incident(meeting, actor=operator,
                                   description="Hình ảnh giật, mất gói tin trên đường truyền",
                                   endpoint_id=meeting.host_endpoint.pk)
        routing.route_incident(incident, actor=operator)
