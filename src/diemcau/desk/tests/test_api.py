"""The desk's API under /api/v1/desk/: scoped reads, writes through the services, JSON
errors on the field the client sent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from diemcau.core.api_auth import generate_token
from diemcau.core.models import ApiToken, User
from diemcau.desk.models import Device, IncidentRoute, TrainingTask
from diemcau.scheduling.services.checks import report_incident

from .conftest import make_meeting

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


class Api:
    def __init__(self, user: User) -> None:
        raw, prefix, key_hash = generate_token()
        ApiToken.objects.create(user=user, name="t", prefix=prefix, key_hash=key_hash)
        self.headers = {"Authorization": f"Bearer {raw}"}
        self.client = Client()

    def get(self, url: str) -> Any:
        return self.client.get(V1 + url, headers=self.headers)

    def send(self, method: str, url: str, body: dict[str, Any]) -> Any:
        return getattr(self.client, method)(V1 + url, data=json.dumps(body),
                                            content_type="application/json",
                                            headers=self.headers)


def test_devices_are_added_and_listed_in_scope(desk):
    tech = Api(desk.district_tech)
    response = tech.send("post", f"/desk/endpoints/{desk.ep_commune.pk}/devices",
                         {"kind": "camera", "model": "Logitech Rally", "asset_code": "TS-9"})
    assert response.status_code == 201, response.content
    device_id = response.json()["id"]
    assert [d["id"] for d in tech.get(f"/desk/devices?agency={desk.district.pk}&subtree=true")
            .json()] == [device_id]
    assert tech.get(f"/desk/devices?agency={desk.district.pk}").json() == []
    other = Api(desk.other_tech)
    assert other.get("/desk/devices").json() == []
    refused = other.send("post", f"/desk/devices/{device_id}/works",
                         {"kind": "repair", "done_on": str(dt.date.today()), "description": "x"})
    assert refused.status_code == 404


def test_a_repair_by_api_says_the_room_needs_the_police_check(desk, use_rulebook):
    use_rulebook("dong-nai-2025")
    tech = Api(desk.district_tech)
    device_id = tech.send("post", f"/desk/endpoints/{desk.ep_district.pk}/devices",
                          {"kind": "terminal", "model": "Cisco Room Kit"}).json()["id"]
    response = tech.send("post", f"/desk/devices/{device_id}/works",
                         {"kind": "upgrade", "done_on": str(dt.date.today()),
                          "description": "Nâng cấp phần mềm"})
    assert response.status_code == 201 and response.json()["security_check_due"] is True


def test_bad_input_is_a_422_on_its_field(desk):
    tech = Api(desk.district_tech)
    response = tech.send("post", f"/desk/endpoints/{desk.ep_district.pk}/devices",
                         {"kind": "terminal", "model": "X", "purchased_on": "2024-05-01",
                          "warranty_until": "2023-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "warranty_until"]
    assert not Device.objects.exists()


def test_shifts_and_the_meeting_technician(desk):
    operator = Api(desk.operator)
    now = timezone.now()
    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=2))
    assert [m["meeting"] for m in operator.get("/desk/uncovered-meetings").json()] == [meeting.pk]
    response = operator.send("post", "/desk/shifts", {
        "technician": desk.operator2.pk, "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(hours=8)).isoformat()})
    assert response.status_code == 201, response.content
    shown = operator.get(f"/desk/meetings/{meeting.pk}/technician").json()
    assert shown["technician"] == desk.operator2.pk and shown["assigned"] is False
    bad = operator.send("put", f"/desk/meetings/{meeting.pk}/technician",
                        {"technician": desk.district_tech.pk})
    assert bad.status_code == 422
    assert Api(desk.district_tech).get("/desk/shifts").status_code == 403


def test_a_line_incident_by_api(desk, django_capture_on_commit_callbacks):
    operator = Api(desk.operator)
    provider = operator.send("post", "/desk/providers", {
        "name": "Viettel Khánh Hòa", "kind": "internet", "email": "noc@viettel.example.vn"})
    assert provider.status_code == 201
    provider_id = provider.json()["id"]
    assert operator.send("post", f"/desk/providers/{provider_id}/contacts", {
        "full_name": "Võ Trực", "phone": "0905000111", "area": desk.district.pk}
    ).status_code == 201
    assert Api(desk.district_tech).send("put", f"/desk/endpoints/{desk.ep_commune.pk}/line", {
        "provider": provider_id, "circuit_reference": "FTTH-01"}).status_code == 200
    meeting = make_meeting(desk, starts_in=dt.timedelta(minutes=20))
    incident = report_incident(meeting, description="Rớt mạng", actor=desk.operator,
                               endpoint_id=desk.ep_commune.pk)
    with django_capture_on_commit_callbacks(execute=True):
        routed = operator.send("post", f"/desk/incidents/{incident.pk}/route", {})
    assert routed.status_code == 201, routed.content
    again = operator.send("post", f"/desk/incidents/{incident.pk}/route", {})
    assert again.status_code == 409
    route_id = routed.json()["id"]
    reply = operator.send("post", f"/desk/routes/{route_id}/reply",
                          {"status": "resolved", "reply": "Đã khôi phục"})
    assert reply.status_code == 200 and reply.json()["resolved_at"]
    times = operator.get("/desk/response-times").json()
    assert times[0]["party"] == "Viettel Khánh Hòa" and times[0]["resolved"] == 1
    assert IncidentRoute.objects.count() == 1
    assert Api(desk.district_tech).get("/desk/routes").status_code == 403


def test_contacts_and_training_by_api(desk):
    from diemcau.directory.choices import ContactRole
    from diemcau.directory.services import ContactInput, set_contact

    set_contact(desk.ep_commune, ContactInput(role=ContactRole.TECHNICIAN, full_name="Mới",
                                              phone="0912333444"), actor=desk.district_office)
    office = Api(desk.district_office)
    rows = office.get(f"/desk/contacts?agency={desk.district.pk}&subtree=true").json()
    assert {r["endpoint_name"] for r in rows} == {"UBND.Nha Trang", "NT.XuongHuan"}
    assert [r["training_open"] for r in rows if r["endpoint_name"] == "NT.XuongHuan"] == [True]
    (task,) = office.get("/desk/training").json()
    refused = office.send("post", f"/desk/training/{task['id']}/done",
                          {"done_on": str(dt.date.today())})
    assert refused.status_code == 403
    done = Api(desk.operator).send("post", f"/desk/training/{task['id']}/done",
                                   {"done_on": str(dt.date.today())})
    assert done.status_code == 200
    assert TrainingTask.objects.get().done_on == dt.date.today()


def test_an_incident_is_classified_by_api(desk):
    meeting = make_meeting(desk, starts_in=dt.timedelta(hours=1))
    incident = report_incident(meeting, description="MCU treo", actor=desk.operator)
    operator = Api(desk.operator)
    assert operator.send("post", f"/desk/incidents/{incident.pk}/kind",
                         {"kind": "mcu"}).json() == {"incident": incident.pk, "kind": "mcu"}
    bad = operator.send("post", f"/desk/incidents/{incident.pk}/kind", {"kind": "weather"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "kind"]
    listed = operator.get(f"/incidents?meeting={meeting.pk}").json()
    assert [i["kind"] for i in listed["items"]] == ["mcu"]
