"""The desk's services: each change checked, audited, and doing what the regulation asks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.desk import selectors
from diemcau.desk.choices import DeviceKind, PatchStatus, ProviderKind, RouteStatus, TaskKind
from diemcau.desk.models import DutyGapNotice, IncidentRoute, TrainingTask
from diemcau.desk.services import duty, equipment, routing, training
from diemcau.directory.choices import ContactRole
from diemcau.directory.services import ContactInput, set_contact
from diemcau.notifications.models import Channel, DeliveryStatus, Notification
from diemcau.scheduling.choices import IncidentKind, IncidentStatus
from diemcau.scheduling.services.checks import report_incident, update_incident

from .conftest import make_meeting

pytestmark = pytest.mark.django_db
TODAY = dt.date.today


def _device(w, actor=None, endpoint=None):
    return equipment.add_device(
        endpoint or w.ep_district,
        equipment.DeviceInput(kind=DeviceKind.TERMINAL, model="Polycom Group 500",
                              serial="SN-1", asset_code="TS-001",
                              purchased_on=dt.date(2022, 3, 1),
                              warranty_until=dt.date(2025, 3, 1)),
        actor=actor or w.district_tech)


# ---------------------------------------------------------------- equipment


def test_a_device_is_registered_by_its_agency_and_audited(desk):
    device = _device(desk)
    assert device.endpoint == desk.ep_district and device.asset_code == "TS-001"
    assert AuditEvent.objects.filter(action="desk.device_add", object_id=str(device.pk)).exists()
    with pytest.raises(PermissionDenied):
        _device(desk, actor=desk.other_tech)


def test_device_dates_are_checked_on_their_fields(desk):
    with pytest.raises(InvalidInput) as caught:
        equipment.add_device(desk.ep_district, equipment.DeviceInput(
            kind="toaster", model="", purchased_on=dt.date(2024, 5, 1),
            warranty_until=dt.date(2024, 1, 1)), actor=desk.district_tech)
    assert set(caught.value.errors) == {"kind", "model", "warranty_until"}


def test_a_repair_sends_the_room_back_to_the_police_check_under_dong_nai(desk, use_rulebook):
    use_rulebook("dong-nai-2025")
    device = _device(desk)
    desk.ep_district.refresh_from_db()
    assert desk.ep_district.security_check_due is False
    equipment.record_device_work(device, kind="repair", done_on=TODAY(),
                                 description="Thay bo mạch nguồn", actor=desk.district_tech)
    desk.ep_district.refresh_from_db()
    assert desk.ep_district.security_check_due is True
    assert "Thay bo mạch nguồn" in desk.ep_district.status_reason
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["desk.device_work", "endpoint.report_repair"]


def test_under_khanh_hoa_a_repair_is_recorded_without_a_police_check(desk):
    device = _device(desk)
    equipment.record_device_work(device, kind="upgrade", done_on=TODAY(),
                                 description="Nâng cấp firmware", actor=desk.district_tech)
    desk.ep_district.refresh_from_db()
    assert desk.ep_district.security_check_due is False
    assert device.works.count() == 1


def test_node_versions_are_the_operators(desk):
    data = equipment.NodeVersionsInput(hardware="Dell R650", operating_system="Debian 12",
                                       software_version="Janus 1.1.2",
                                       patch_status=PatchStatus.PENDING,
                                       patched_on=TODAY() - dt.timedelta(days=40))
    versions = equipment.record_node_versions(desk.node, data, actor=desk.operator)
    assert versions.node == desk.node and versions.patch_status == PatchStatus.PENDING
    with pytest.raises(PermissionDenied):
        equipment.record_node_versions(desk.node, data, actor=desk.district_tech)


def test_a_yearly_plan_has_tasks_that_fall_due_and_get_done(desk):
    year = TODAY().year
    plan = equipment.create_plan(desk.district, year=year, actor=desk.district_office)
    with pytest.raises(InvalidInput):
        equipment.create_plan(desk.district, year=year, actor=desk.district_office)
    device = _device(desk)
    soon = equipment.add_task(plan, equipment.TaskInput(
        kind=TaskKind.MAINTENANCE, title="Bảo dưỡng camera", due_on=TODAY(),
        device_id=device.pk), actor=desk.district_office)
    later = equipment.add_task(plan, equipment.TaskInput(
        kind=TaskKind.PROCUREMENT, title="Mua micro", due_on=dt.date(year, 12, 31)),
        actor=desk.district_office)
    with pytest.raises(InvalidInput) as caught:
        equipment.add_task(plan, equipment.TaskInput(
            kind=TaskKind.RENTAL, title="Thuê", due_on=dt.date(year + 1, 1, 5)),
            actor=desk.district_office)
    assert "due_on" in caught.value.errors
    due = list(selectors.due_tasks(plan.tasks.all(), today=TODAY()))
    assert soon in due
    assert (later in due) is ((dt.date(year, 12, 31) - TODAY()).days <= 30)
    equipment.complete_task(soon, done_on=TODAY(), note="Xong", actor=desk.district_tech)
    assert soon not in selectors.due_tasks(plan.tasks.all())
    with pytest.raises(InvalidTransition):
        equipment.complete_task(soon, done_on=TODAY(), actor=desk.district_tech)


# ---------------------------------------------------------------- duty roster


def test_shifts_cover_meetings_and_a_gap_is_flagged_once(desk):
    now = timezone.now()
    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=3))
    assert selectors.uncovered_meetings(now) == [meeting]
    with pytest.raises(InvalidInput):  # only operators are on duty
        duty.add_shift(desk.district_tech, starts_at=now, ends_at=now + dt.timedelta(hours=8),
                       actor=desk.operator)
    assert duty.flag_duty_gaps(now) == [meeting.pk]
    assert duty.flag_duty_gaps(now) == []  # once per meeting
    assert DutyGapNotice.objects.filter(meeting=meeting).exists()
    told = Notification.objects.filter(kind="desk.duty_gap", channel=Channel.IN_APP)
    assert {n.user_id for n in told} == {desk.operator.pk, desk.operator2.pk}
    duty.add_shift(desk.operator2, starts_at=now, ends_at=now + dt.timedelta(hours=8),
                   actor=desk.operator)
    assert selectors.uncovered_meetings(now) == []
    found = selectors.technician_for(meeting)
    assert found.technician == desk.operator2 and not found.assigned


def test_overlapping_shifts_of_one_technician_are_refused(desk):
    now = timezone.now()
    duty.add_shift(desk.operator, starts_at=now, ends_at=now + dt.timedelta(hours=8),
                   actor=desk.operator)
    with pytest.raises(InvalidInput):
        duty.add_shift(desk.operator, starts_at=now + dt.timedelta(hours=7),
                       ends_at=now + dt.timedelta(hours=9), actor=desk.operator)


def test_a_shift_is_handed_over_with_a_note(desk):
    now = timezone.now()
    shift = duty.add_shift(desk.operator, starts_at=now - dt.timedelta(hours=1),
                           ends_at=now + dt.timedelta(hours=7), actor=desk.operator)
    following = duty.hand_over(shift, to=desk.operator2, note="Điểm cầu Cam Ranh mất tiếng",
                               actor=desk.operator)
    shift.refresh_from_db()
    assert shift.ends_at <= following.starts_at + dt.timedelta(seconds=1)
    assert following.ends_at == now + dt.timedelta(hours=7)
    assert following.handed_over_from == shift
    assert [s.technician for s in selectors.on_duty()] == [desk.operator2]
    with pytest.raises(InvalidTransition):
        duty.hand_over(shift, to=desk.operator2, note="x", actor=desk.operator)


def test_a_technician_is_assigned_to_a_meeting(desk):
    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=3))
    duty.assign_meeting(meeting, technician=desk.operator2, actor=desk.operator)
    found = selectors.technician_for(meeting)
    assert found.technician == desk.operator2 and found.assigned
    assert selectors.uncovered_meetings() == []
    with pytest.raises(PermissionDenied):
        duty.assign_meeting(meeting, technician=desk.operator2, actor=desk.district_office)


# ---------------------------------------------------------------- line incidents


def _provider(w, **extra):
    provider = routing.save_provider(routing.ProviderInput(
        name="VNPT Khánh Hòa", kind=ProviderKind.TSLCD, email="ungcuu@vnpt.example.vn",
        **extra), actor=w.operator)
    routing.add_provider_contact(provider, full_name="Trần Văn Trực", phone="0905111222",
                                 area=w.district, actor=w.operator)
    routing.add_provider_contact(provider, full_name="Lê Thị Tỉnh", phone="0905333444",
                                 actor=w.operator)
    return provider


def _line_incident(w, provider, django_capture_on_commit_callbacks):
    equipment.set_line(w.ep_commune, provider=provider, circuit_reference="TSLCD-NT-017",
                       actor=w.district_tech)
    meeting = make_meeting(w, starts_in=dt.timedelta(minutes=30))
    incident = report_incident(meeting, description="Hình ảnh giật, mất gói",
                               actor=w.operator, endpoint_id=w.ep_commune.pk)
    with django_capture_on_commit_callbacks(execute=True):
        route = routing.route_incident(incident, actor=w.operator)
    return incident, route


def test_a_line_incident_reaches_its_provider_by_email_and_comes_back_resolved(
        desk, django_capture_on_commit_callbacks):
    provider = _provider(desk)
    incident, route = _line_incident(desk, provider, django_capture_on_commit_callbacks)
    incident.refresh_from_db()
    assert incident.kind == IncidentKind.LINE
    row = Notification.objects.get(kind="desk.line_incident")
    assert row.user is None and row.address == "ungcuu@vnpt.example.vn"
    assert row.status == DeliveryStatus.SENT
    (message,) = mail.outbox
    assert message.to == ["ungcuu@vnpt.example.vn"]
    assert "NT.XuongHuan" in message.subject and "TSLCD-NT-017" in message.body
    # the people of the nearest area, not the province-wide one
    assert "Trần Văn Trực" in message.body and "Lê Thị Tỉnh" not in message.body
    token = message.body.split("/desk/line/")[1].split("/")[0]
    assert routing.route_from_token(token) == route
    routing.record_reply(route, status=RouteStatus.ACKNOWLEDGED, actor=None)
    routing.record_reply(route, status=RouteStatus.RESOLVED, reply="Đã thay modem",
                         actor=None)
    route.refresh_from_db()
    assert route.acknowledged_at and route.resolved_at and route.reply == "Đã thay modem"
    with pytest.raises(InvalidTransition):
        routing.record_reply(route, status=RouteStatus.RESOLVED, reply="x", actor=None)
    (times,) = [t for t in selectors.response_times() if t.party == "VNPT Khánh Hòa"]
    assert times.incidents == times.acknowledged == times.resolved == 1
    assert times.mean_resolve_minutes is not None and times.mean_resolve_minutes >= 0
    replies = Notification.objects.filter(kind="desk.route_reply", channel=Channel.IN_APP)
    assert {n.user_id for n in replies} == {desk.operator.pk, desk.operator2.pk}


def test_a_line_incident_goes_to_the_providers_webhook(
        desk, provider_hook, django_capture_on_commit_callbacks):
    provider = _provider(desk, webhook_url=provider_hook.url)
    _, route = _line_incident(desk, provider, django_capture_on_commit_callbacks)
    assert route.channel == "webhook"
    (request,) = provider_hook.requests
    body = json.loads(request.body)
    assert body["kind"] == "desk.line_incident" and body["user"] is None
    assert "/desk/line/" in body["link"]
    assert not mail.outbox


def test_an_incident_without_a_recorded_line_is_not_sent(desk):
    _provider(desk)
    meeting = make_meeting(desk, starts_in=dt.timedelta(minutes=30))
    incident = report_incident(meeting, description="Mất kết nối", actor=desk.operator,
                               endpoint_id=desk.ep_commune.pk)
    with pytest.raises(InvalidInput) as caught:
        routing.route_incident(incident, actor=desk.operator)
    assert "endpoint" in caught.value.errors
    assert not IncidentRoute.objects.exists()
    with pytest.raises(PermissionDenied):
        routing.route_incident(incident, actor=desk.district_tech)


def test_a_forged_or_unknown_link_names_no_route(desk):
    assert routing.route_from_token("abc") is None
    assert routing.route_from_token("eyJyb3V0ZSI6MX0:1abc:xyz") is None


def test_the_operators_own_incidents_count_for_the_operating_unit(desk):
    meeting = make_meeting(desk, starts_in=dt.timedelta(minutes=30))
    incident = report_incident(meeting, description="MCU treo", actor=desk.operator)
    update_incident(incident, status=IncidentStatus.CLOSED, resolution="Khởi động lại",
                    actor=desk.operator)
    (own,) = selectors.response_times()
    assert own.incidents == 1 and own.resolved == 1 and own.party


# ---------------------------------------------------------------- contacts and training


def test_a_new_technician_opens_a_training_task_and_tells_the_operators(desk):
    contact = set_contact(desk.ep_commune, ContactInput(
        role=ContactRole.TECHNICIAN, full_name="Phạm Văn Mới", phone="0912000111"),
        actor=desk.district_office)
    task = TrainingTask.objects.get(contact=contact)
    assert task.done_on is None
    told = Notification.objects.filter(kind="desk.technician_changed", channel=Channel.IN_APP)
    assert {n.user_id for n in told} == {desk.operator.pk, desk.operator2.pk}
    rows = {r.endpoint: r for r in selectors.consolidated_contacts(desk.district_office)}
    assert rows[desk.ep_commune].training_open and rows[desk.ep_commune].technician == contact
    with pytest.raises(PermissionDenied):
        training.complete_training(task, done_on=TODAY(), actor=desk.district_office)
    training.complete_training(task, done_on=TODAY(), note="Hướng dẫn tại Sở",
                               actor=desk.operator)
    assert not selectors.open_training(TrainingTask.objects.all()).exists()


def test_a_trained_technician_or_a_leader_opens_no_task(desk):
    set_contact(desk.ep_commune, ContactInput(role=ContactRole.TECHNICIAN, full_name="Đã học",
                                              phone="0912000222", trained_on=TODAY()),
                actor=desk.district_office)
    set_contact(desk.ep_commune, ContactInput(role=ContactRole.LEADER, full_name="Lãnh đạo",
                                              phone="0912000333"),
                actor=desk.district_office)
    assert not TrainingTask.objects.exists()


def test_the_district_compiles_the_list_of_its_communes(desk):
    rows = selectors.consolidated_contacts(desk.district_office, desk.district)
    assert {r.endpoint for r in rows} == {desk.ep_district, desk.ep_commune}
    only = selectors.consolidated_contacts(desk.district_office, desk.district, subtree=False)
    assert {r.endpoint for r in only} == {desk.ep_district}
    assert desk.ep_other not in {r.endpoint for r in
                                 selectors.consolidated_contacts(desk.district_office)}


def test_a_state_secret_meetings_incident_leaves_without_its_description(
        desk, django_capture_on_commit_callbacks):
    """R20: what leaves the system never describes a state-secret meeting's incident."""
    from diemcau.scheduling.choices import Classification

    provider = _provider(desk)
    equipment.set_line(desk.ep_commune, provider=provider, actor=desk.operator)
    meeting = make_meeting(desk, starts_in=dt.timedelta(minutes=30),
                           classification=Classification.STATE_SECRET)
    incident = report_incident(meeting, description="Phòng họp mật mất tín hiệu",
                               actor=desk.operator, endpoint_id=desk.ep_commune.pk)
    with django_capture_on_commit_callbacks(execute=True):
        routing.route_incident(incident, actor=desk.operator)
    (message,) = mail.outbox
    assert "mất tín hiệu" not in message.body and "NT.XuongHuan" in message.subject


def test_the_worker_flags_meetings_no_one_covers(desk):
    from diemcau.desk.tasks import flag_meetings_without_duty

    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=5))
    make_meeting(desk, starts_in=dt.timedelta(hours=30))  # beyond the rulebook's 24 hours
    flag_meetings_without_duty()
    assert list(DutyGapNotice.objects.values_list("meeting_id", flat=True)) == [meeting.pk]
