"""The desk's pages: the role × action matrix, the operator's day through the pages, the
provider's signed link and the spreadsheets."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.desk.models import Device, DutyShift, IncidentRoute, LineProvider
from diemcau.desk.services import equipment
from diemcau.scheduling.services.checks import report_incident

from .conftest import make_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


def _as(client: Client, user) -> Client:
    client.force_login(user)
    return client


# The expected matrix, written out by hand: may this role do this on the district's room?
ACTIONS = ["see_desk", "add_device", "record_work", "node_versions", "create_plan",
           "add_shift", "manage_providers", "route_incident", "record_training",
           "export_contacts"]
EXPECTED = {
    Role.OPERATOR: set(ACTIONS),
    Role.OFFICE: {"see_desk", "add_device", "record_work", "create_plan", "export_contacts"},
    Role.TECHNICIAN: {"see_desk", "add_device", "record_work", "create_plan",
                      "export_contacts"},
    Role.AUDITOR: {"see_desk", "export_contacts"},
}


def _try(action: str, client: Client, w) -> int:
    today = timezone.localdate()
    device = Device.objects.get(model="Seed")
    if action == "see_desk":
        return client.get(reverse("desk:index")).status_code
    if action == "add_device":
        return client.post(reverse("desk:device_add", args=[w.ep_district.pk]),
                           {"kind": "camera", "model": "Cam"}).status_code
    if action == "record_work":
        return client.post(reverse("desk:device_work", args=[device.pk]), {
            "kind": "repair", "done_on": today.strftime("%d/%m/%Y"),
            "description": "Sửa"}).status_code
    if action == "node_versions":
        return client.post(reverse("desk:node_versions", args=[w.node.pk]), {
            "patch_status": "current", "software_version": "1.1.2"}).status_code
    if action == "create_plan":
        response = client.post(reverse("desk:plans"), {"agency": w.district.pk,
                                                       "year": today.year})
        return 302 if response.status_code == 302 else 403
    if action == "add_shift":
        now = timezone.localtime()
        return client.post(reverse("desk:roster"), {
            "technician": w.operator2.pk, "starts_at": now.strftime("%d/%m/%Y %H:%M"),
            "ends_at": (now + dt.timedelta(hours=4)).strftime("%d/%m/%Y %H:%M")}).status_code
    if action == "manage_providers":
        return client.post(reverse("desk:providers"), {
            "name": "FPT", "kind": "internet", "email": "noc@fpt.example.vn",
            "is_active": "on"}).status_code
    if action == "route_incident":
        meeting = make_meeting(w, starts_in=dt.timedelta(hours=1))
        incident = report_incident(meeting, description="Mạng chậm", actor=w.operator,
                                   endpoint_id=w.ep_district.pk)
        client.post(reverse("desk:incident_route", args=[incident.pk]))
        return 302 if IncidentRoute.objects.filter(incident=incident).exists() else 403
    if action == "record_training":
        from diemcau.desk.models import TrainingTask
        from diemcau.directory.services import ContactInput, set_contact

        contact = set_contact(w.ep_district, ContactInput(
            role="technician", full_name="Người mới", phone="0912111999"), actor=w.operator)
        task = TrainingTask.objects.get(contact=contact)
        return client.post(reverse("desk:training_done", args=[task.pk]), {
            "done_on": today.strftime("%d/%m/%Y")}).status_code
    if action == "export_contacts":
        return client.get(reverse("desk:contacts_export")).status_code
    raise AssertionError(action)


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", ACTIONS)
def test_role_action_matrix(desk, client, role, action):
    user = {Role.OPERATOR: desk.operator, Role.OFFICE: desk.district_office,
            Role.TECHNICIAN: desk.district_tech, Role.AUDITOR: desk.auditor}[role]
    equipment.add_device(desk.ep_district, equipment.DeviceInput(kind="terminal",
                                                                model="Seed"),
                         actor=desk.operator)
    provider = LineProvider.objects.create(name="VNPT", kind="tslcd", email="a@vnpt.example.vn")
    equipment.set_line(desk.ep_district, provider=provider, actor=desk.operator)
    status = _try(action, _as(client, user), desk)
    allowed = action in EXPECTED[role]
    assert (status in (200, 302)) is allowed, (role, action, status)
    if not allowed:
        assert status == 403


def test_an_operators_day_through_the_pages(desk, client, use_rulebook,
                                            django_capture_on_commit_callbacks):
    """A device repaired and sent back to the check; a shift handed over; a line incident
    reaching its provider and coming back resolved through the provider's link."""
    use_rulebook("dong-nai-2025")
    operator = _as(client, desk.operator)
    # a device repaired and re-checked
    response = operator.post(reverse("desk:device_add", args=[desk.ep_commune.pk]), {
        "kind": "terminal", "model": "Polycom", "serial": "P-1", "asset_code": "TS-1",
        "purchased_on": "01/03/2023", "warranty_until": "01/03/2026", "in_service": "on"})
    device = Device.objects.get(model="Polycom")
    assert response.status_code == 302
    operator.post(reverse("desk:device_work", args=[device.pk]), {
        "kind": "repair", "done_on": timezone.localdate().strftime("%d/%m/%Y"),
        "description": "Thay nguồn"})
    page = operator.get(reverse("desk:device_detail", args=[device.pk])).content.decode()
    assert 'data-desk="check-due"' in page and "Thay nguồn" in page
    # a shift handed over
    now = timezone.localtime()
    operator.post(reverse("desk:roster"), {
        "technician": desk.operator.pk,
        "starts_at": (now - dt.timedelta(hours=1)).strftime("%d/%m/%Y %H:%M"),
        "ends_at": (now + dt.timedelta(hours=6)).strftime("%d/%m/%Y %H:%M")})
    shift = DutyShift.objects.get()
    response = operator.post(reverse("desk:shift_handover", args=[shift.pk]), {
        "technician": desk.operator2.pk, "note": "Theo dõi điểm cầu Xương Huân"})
    assert response.status_code == 302
    roster = operator.get(reverse("desk:roster")).content.decode()
    assert "Theo dõi điểm cầu Xương Huân" in roster
    # a line incident reaching its provider and coming back resolved
    operator.post(reverse("desk:providers"), {"name": "VNPT Đồng Nai", "kind": "tslcd",
                                              "email": "ungcuu@vnpt.example.vn",
                                              "is_active": "on"})
    provider = LineProvider.objects.get()
    operator.post(reverse("desk:line_set", args=[desk.ep_commune.pk]),
                  {"provider": provider.pk, "circuit_reference": "TSLCD-17"})
    meeting = make_meeting(desk, starts_in=dt.timedelta(minutes=30))
    incident = report_incident(meeting, description="Đường truyền gián đoạn",
                               actor=desk.commune_tech, endpoint_id=desk.ep_commune.pk)
    page = operator.get(reverse("desk:incidents")).content.decode()
    assert 'data-desk="route"' in page
    with django_capture_on_commit_callbacks(execute=True):
        operator.post(reverse("desk:incident_route", args=[incident.pk]))
    (message,) = mail.outbox
    link = re.search(r"/desk/line/[^/\s]+/", message.body).group(0)
    stranger = Client()
    stranger.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = stranger.get(link)
    assert page.status_code == 200 and "Đường truyền gián đoạn" in page.content.decode()
    stranger.post(link, {"status": "acknowledged"})
    stranger.post(link, {"status": "resolved", "reply": "Đã thay cáp quang"})
    route = IncidentRoute.objects.get()
    assert route.status == "resolved" and "Đã thay cáp quang" in route.reply
    audited = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"desk.device_work", "endpoint.report_repair", "desk.shift_handover",
            "desk.route", "desk.route_reply", "incident.classify"} <= audited
    assert stranger.get(link[:-5] + "xxxx/").status_code == 404


def test_the_console_and_the_meeting_page_show_the_technician(desk, client):
    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=2))
    operator = _as(client, desk.operator)
    console = operator.get(reverse("media:operator_console")).content.decode()
    assert 'data-desk="uncovered"' in console and meeting.title in console
    now = timezone.now()
    DutyShift.objects.create(technician=desk.operator2, starts_at=now,
                             ends_at=now + dt.timedelta(hours=8), created_by=desk.operator)
    console = operator.get(reverse("media:operator_console")).content.decode()
    assert 'data-desk="uncovered"' not in console
    page = operator.get(reverse("scheduling:meeting_detail", args=[meeting.pk])).content.decode()
    assert 'data-desk="meeting-duty"' in page and desk.operator2.get_full_name() in page


def test_exports_per_agency_and_per_district(desk, client):
    equipment.add_device(desk.ep_district, equipment.DeviceInput(kind="terminal", model="A"),
                         actor=desk.operator)
    equipment.add_device(desk.ep_commune, equipment.DeviceInput(kind="camera", model="B"),
                         actor=desk.operator)
    equipment.add_device(desk.ep_other, equipment.DeviceInput(kind="camera", model="C"),
                         actor=desk.operator)
    office = _as(client, desk.district_office)

    def models(query: str) -> set[str]:
        response = office.get(reverse("desk:equipment_export") + query)
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content)).active
        return {row[3] for row in sheet.iter_rows(min_row=5, values_only=True)}

    assert models("") == {"A", "B"}  # the district's scope: itself and its communes
    assert models(f"?agency={desk.district.pk}") == {"A"}
    assert models(f"?agency={desk.district.pk}&subtree=1") == {"A", "B"}
    assert office.get(reverse("desk:equipment_export")
                      + f"?agency={desk.other_district.pk}").status_code == 404
    response = office.get(reverse("desk:contacts_export") + f"?agency={desk.district.pk}"
                          "&subtree=1")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert {row[1] for row in sheet.iter_rows(min_row=5, values_only=True)} == {
        "UBND.Nha Trang", "NT.XuongHuan"}


def test_desk_pages_answer_in_vietnamese(desk):
    vietnamese = Client()
    vietnamese.force_login(desk.operator)
    for name in ("desk:index", "desk:equipment", "desk:plans", "desk:nodes", "desk:roster",
                 "desk:incidents", "desk:providers", "desk:contacts"):
        assert vietnamese.get(reverse(name)).status_code == 200, name
    assert 'data-nav="desk"' in vietnamese.get(reverse("desk:index")).content.decode()


def test_the_operator_classifies_an_incident(desk, client):
    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=1))
    incident = report_incident(meeting, description="Mất tiếng", actor=desk.operator,
                               endpoint_id=desk.ep_district.pk)
    _as(client, desk.operator).post(reverse("desk:incident_kind", args=[incident.pk]),
                                    {"kind": "terminal"})
    incident.refresh_from_db()
    assert incident.kind == "terminal"
    assert AuditEvent.objects.filter(action="incident.classify").count() == 1
    client.force_login(desk.district_tech)
    assert client.post(reverse("desk:incident_kind", args=[incident.pk]),
                       {"kind": "room"}).status_code == 403
    incident.refresh_from_db()
    assert incident.kind == "terminal"
