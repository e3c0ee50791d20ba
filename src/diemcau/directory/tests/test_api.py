"""The directory's REST API: scoping, rules with their articles, admission, contacts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from diemcau.core.api_auth import generate_token
from diemcau.core.audit import verify_chain
from diemcau.core.models import ApiToken, AuditEvent, User
from diemcau.core.roles import Role
from diemcau.directory.choices import AgencyKind, EndpointStatus
from diemcau.directory.models import Agency, Endpoint
from diemcau.directory.services import EvaluationInput
from diemcau.testing.factories import AgencyFactory, ContactFactory, EndpointFactory, UserFactory

V1 = "/api/v1"


@dataclass
class Tree:
    province: Agency
    district: Agency
    commune: Agency
    other_commune: Agency
    department: Agency


@dataclass
class Caller:
    """A user and their API token; requests go through Django's test client."""

    user: User
    token: str
    client: Client

    def _send(self, method: str, url: str, body: Any = None, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {self.token}", **headers}}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(V1 + url, **kwargs)

    def get(self, url: str, **headers: str) -> Any:
        return self._send("get", url, **headers)

    def post(self, url: str, body: Any = None, **headers: str) -> Any:
        return self._send("post", url, body if body is not None else {}, **headers)

    def patch(self, url: str, body: Any, **headers: str) -> Any:
        return self._send("patch", url, body, **headers)


def caller(role: str, agency: Agency | None) -> Caller:
    user = UserFactory(role=role, agency=agency)
    raw, prefix, key_hash = generate_token()
    ApiToken.objects.create(user=user, name="test", prefix=prefix, key_hash=key_hash)
    return Caller(user, raw, Client())


@pytest.fixture
def tree(db: None) -> Tree:
    """A small Khánh Hòa-like tree: UBND tỉnh, Sở TTTT, TP Nha Trang with two wards."""
    province = AgencyFactory(
        name="UBND tỉnh Khánh Hòa", kind=AgencyKind.PROVINCE_PEOPLE_COMMITTEE, abbreviation=""
    )
    department = AgencyFactory(
        name="Sở Thông tin và Truyền thông", kind=AgencyKind.DEPARTMENT,
        abbreviation="So.TTTT", parent=province,
    )
    district = AgencyFactory(
        name="UBND thành phố Nha Trang", kind=AgencyKind.DISTRICT_PEOPLE_COMMITTEE,
        abbreviation="NT", parent=province,
    )
    commune = AgencyFactory(
        name="UBND phường Xương Huân", kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE,
        abbreviation="", parent=district,
    )
    other_commune = AgencyFactory(
        name="UBND phường Vĩnh Hải", kind=AgencyKind.COMMUNE_PEOPLE_COMMITTEE,
        abbreviation="", parent=district,
    )
    return Tree(province, district, commune, other_commune, department)


@pytest.fixture
def operator(tree: Tree) -> Caller:
    return caller(Role.OPERATOR, tree.department)


@pytest.fixture
def technician(tree: Tree) -> Caller:
    """The technician of the Xương Huân ward."""
    return caller(Role.TECHNICIAN, tree.commune)


def endpoint_body(agency: Agency, name: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "agency": agency.pk,
        "name": name,
        "terminal_kind": "vcs",
        "network": "tslcd",
        "bandwidth_mbps": "8",
        "dedicated_line": True,
        "vcs_ip": "10.56.1.20",
        "location": "Phòng họp tầng 2",
        "room_meets_standard": True,
    }
    body.update(overrides)
    return body


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.content
    items: list[dict[str, Any]] = response.json()["detail"]
    return items


def locs(response: Any) -> list[list[str]]:
    return [item["loc"] for item in detail(response)]


# ---------------------------------------------------------------- agencies


@pytest.mark.django_db
def test_agency_list_filters_and_pagination(tree: Tree, technician: Caller) -> None:
    response = technician.get("/agencies?limit=2")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == Agency.objects.count() and len(page["items"]) == 2

    communes = technician.get("/agencies?level=commune").json()["items"]
    assert {a["name"] for a in communes} == {"UBND phường Xương Huân", "UBND phường Vĩnh Hải"}
    assert communes[0]["level"]["key"] == "commune"

    children = technician.get(f"/agencies?parent={tree.district.pk}").json()["items"]
    assert {a["id"] for a in children} == {tree.commune.pk, tree.other_commune.pk}
    assert children[0]["parent"] == {"id": tree.district.pk, "name": tree.district.name,
                                     "abbreviation": "NT"}

    departments = technician.get("/agencies?kind=department&q=thông").json()["items"]
    assert [a["abbreviation"] for a in departments] == ["So.TTTT"]

    assert locs(technician.get("/agencies?level=planet")) == [["query", "level"]]
    assert locs(technician.get("/agencies?kind=planet")) == [["query", "kind"]]


@pytest.mark.django_db
def test_agency_detail_lists_only_visible_endpoints(
    tree: Tree, technician: Caller, operator: Caller
) -> None:
    # An endpoint of the district: the ward's technician must not see it, the operator does.
    EndpointFactory(agency=tree.district, name="UBND.Nha Trang")
    response = technician.get(f"/agencies/{tree.district.pk}")
    assert response.status_code == 200
    data = response.json()
    assert data["level"]["key"] == "district"
    assert data["endpoints"] == [] and data["quota"] is None
    seen = operator.get(f"/agencies/{tree.district.pk}").json()
    assert [e["name"] for e in seen["endpoints"]] == ["UBND.Nha Trang"]
    assert seen["quota"]["allowed"] == 2 and seen["quota"]["used"] == 1
    assert seen["quota"]["article"].startswith("Điều 8")
    assert technician.get("/agencies/999999").status_code == 404


@pytest.mark.django_db
def test_name_suggestion_follows_the_naming_rule(tree: Tree, technician: Caller) -> None:
    data = technician.get(f"/agencies/{tree.commune.pk}/name-suggestion").json()
    assert data["name"] == "NT.XuongHuan" and data["article"].startswith("Điều 6.4")
    assert technician.get(f"/agencies/{tree.district.pk}/name-suggestion").json()["name"] == (
        "UBND.Nha Trang"
    )
    assert technician.get(f"/agencies/{tree.department.pk}/name-suggestion").json()["name"] == (
        "So.TTTT"
    )
    EndpointFactory(agency=tree.department, name="So.TTTT")
    # KH Đ8 khoản 2: a department has one room; a full quota gets no new endpoint name, but
    # the reason with its clause and the name of the room's next device (Đ6.4).
    again = technician.get(f"/agencies/{tree.department.pk}/name-suggestion").json()
    assert again["name"] is None
    assert again["refusal"]["code"] == "endpoint_quota_exceeded"
    assert again["refusal"]["article"].startswith("Điều 8.2")
    assert again["device_name"] == "So.TTTT.01"
    # A district (khoản 3: at most two rooms) still gets a second room's name.
    EndpointFactory(agency=tree.district, name="UBND.Nha Trang")
    district = technician.get(f"/agencies/{tree.district.pk}/name-suggestion").json()
    assert district["name"] == "UBND.Nha Trang.01" and district["refusal"] is None
    EndpointFactory(agency=tree.district, name="UBND.Nha Trang.01")
    full = technician.get(f"/agencies/{tree.district.pk}/name-suggestion").json()
    assert full["name"] is None and full["refusal"]["article"].startswith("Điều 8.3")


# ---------------------------------------------------------------- scoping


@pytest.mark.django_db
def test_endpoint_list_is_scoped(tree: Tree, technician: Caller, operator: Caller) -> None:
    own = EndpointFactory(agency=tree.commune, name="NT.XuongHuan")
    other = EndpointFactory(agency=tree.other_commune, name="NT.VinhHai")
    EndpointFactory(agency=tree.department, name="So.TTTT")

    mine = technician.get("/endpoints").json()
    assert mine["count"] == 1 and [e["id"] for e in mine["items"]] == [own.pk]
    everything = operator.get("/endpoints").json()
    assert everything["count"] == 3

    assert technician.get(f"/endpoints/{own.pk}").status_code == 200
    # Out of scope is "not found", so existence does not leak.
    hidden = technician.get(f"/endpoints/{other.pk}")
    assert hidden.status_code == 404
    assert hidden.json() == technician.get("/endpoints/999999").json()
    assert technician.get(f"/endpoints/{other.pk}/contacts").status_code == 404
    assert technician.patch(f"/endpoints/{other.pk}", {"location": "x"}).status_code == 404
    assert operator.get(f"/endpoints/{other.pk}").status_code == 200


@pytest.mark.django_db
def test_endpoint_list_filters(tree: Tree, operator: Caller) -> None:
    EndpointFactory(agency=tree.commune, name="NT.XuongHuan", network="internet",
                    bandwidth_mbps=30, vcs_ip=None)
    EndpointFactory(agency=tree.department, name="So.TTTT", status=EndpointStatus.APPROVED)
    assert operator.get(f"/endpoints?agency={tree.commune.pk}").json()["count"] == 1
    assert operator.get("/endpoints?network=internet").json()["items"][0]["name"] == (
        "NT.XuongHuan"
    )
    assert operator.get("/endpoints?status=approved").json()["items"][0]["name"] == "So.TTTT"
    assert operator.get("/endpoints?terminal_kind=personal").json()["count"] == 0
    assert operator.get("/endpoints?q=xuong").json()["count"] == 1
    assert locs(operator.get("/endpoints?status=lost")) == [["query", "status"]]


# ---------------------------------------------------------------- registration rules


@pytest.mark.django_db
def test_register_with_wrong_name_cites_the_naming_rule(tree: Tree, technician: Caller) -> None:
    response = technician.post("/endpoints", endpoint_body(tree.commune, "Xuong Huan 1"))
    [item] = detail(response)
    assert item["loc"] == ["body", "name"]
    assert item["type"] == "rule_violation" and item["code"] == "endpoint_name_pattern"
    assert item["article"].startswith("Điều 6.4")
    assert item["msg"].startswith("Điều 6.4")
    assert not Endpoint.objects.exists()

    suggestion = technician.get(f"/agencies/{tree.commune.pk}/name-suggestion").json()["name"]
    created = technician.post("/endpoints", endpoint_body(tree.commune, suggestion))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["name"] == "NT.XuongHuan" and data["status"] == "pending"
    assert data["agency"]["id"] == tree.commune.pk
    assert data["vcs_ip"] == "10.56.1.20"
    assert float(data["bandwidth_mbps"]) == 8


@pytest.mark.django_db
def test_register_over_quota_cites_article_8_until_an_exception(
    tree: Tree, technician: Caller, operator: Caller
) -> None:
    EndpointFactory(agency=tree.commune, name="NT.XuongHuan")
    response = technician.post("/endpoints", endpoint_body(tree.commune, "NT.XuongHuan.01"))
    [item] = detail(response)
    assert item["code"] == "endpoint_quota_exceeded" and item["loc"] == ["body", "agency"]
    assert item["msg"].startswith("Điều 8")

    # The ward's technician may not record UBND tỉnh's approval; the operator records it.
    exception = {"extra_endpoints": 1, "decision_reference": "45/QĐ-UBND",
                 "decided_on": "2025-03-01", "note": "Phòng họp thứ hai"}
    url = f"/agencies/{tree.commune.pk}/quota-exceptions"
    assert technician.post(url, exception).status_code == 403
    recorded = operator.post(url, exception)
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["extra_endpoints"] == 1
    assert locs(operator.post(url, {**exception, "extra_endpoints": 0})) == [
        ["body", "extra_endpoints"]
    ]
    again = technician.post("/endpoints", endpoint_body(tree.commune, "NT.XuongHuan.01"))
    assert again.status_code == 201, again.content


@pytest.mark.django_db
def test_dong_nai_has_free_naming_and_no_quota(
    tree: Tree, technician: Caller, use_rulebook: Any
) -> None:
    use_rulebook("dong-nai-2025")
    suggestion = technician.get(f"/agencies/{tree.commune.pk}/name-suggestion").json()
    assert suggestion["article"] is None and suggestion["name"]
    first = technician.post("/endpoints", endpoint_body(tree.commune, "Phong hop UBND phuong"))
    assert first.status_code == 201, first.content
    second = technician.post(
        "/endpoints", endpoint_body(tree.commune, "Phong hop 2", vcs_ip="10.56.1.21")
    )
    assert second.status_code == 201, second.content


@pytest.mark.django_db
def test_register_for_another_agency_is_403_and_unknown_agency_422(
    tree: Tree, technician: Caller
) -> None:
    response = technician.post("/endpoints", endpoint_body(tree.other_commune, "NT.VinhHai"))
    assert response.status_code == 403
    assert isinstance(response.json()["detail"], str)
    unknown = {**endpoint_body(tree.commune, "NT.XuongHuan"), "agency": 999999}
    assert locs(technician.post("/endpoints", unknown)) == [["body", "agency"]]


# ---------------------------------------------------------------- malformed input


@pytest.mark.django_db
def test_malformed_json_is_422(tree: Tree, technician: Caller) -> None:
    [item] = detail(technician.post("/endpoints", '{"name": "NT.XuongHuan",'))
    assert item["loc"] == ["body"] and item["type"] == "json_invalid"
    [item] = detail(technician.post("/endpoints", "[1, 2]"))
    assert item["loc"] == ["body"] and "đối tượng JSON" in item["msg"]  # Vietnamese by default


@pytest.mark.django_db
def test_wrong_types_are_422_with_field_locations(tree: Tree, technician: Caller) -> None:
    body = endpoint_body(
        tree.commune, "NT.XuongHuan", bandwidth_mbps="fast", terminal_kind="fax",
        vcs_ip="10.56.1.300", dedicated_line="maybe",
    )
    found = locs(technician.post("/endpoints", body))
    assert sorted(found) == sorted([
        ["body", "bandwidth_mbps"], ["body", "terminal_kind"], ["body", "vcs_ip"],
        ["body", "dedicated_line"],
    ])
    missing = endpoint_body(tree.commune, "NT.XuongHuan")
    del missing["network"]
    assert locs(technician.post("/endpoints", missing)) == [["body", "network"]]
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_negative_or_too_precise_bandwidth_is_422(tree: Tree, technician: Caller) -> None:
    for value in ("-4", "0", "12.25"):
        body = endpoint_body(tree.commune, "NT.XuongHuan", bandwidth_mbps=value)
        assert locs(technician.post("/endpoints", body)) == [["body", "bandwidth_mbps"]]


@pytest.mark.django_db
def test_bandwidth_below_the_rulebook_minimum_cites_article_6_3(
    tree: Tree, technician: Caller
) -> None:
    body = endpoint_body(tree.commune, "NT.XuongHuan", bandwidth_mbps="2")
    [item] = detail(technician.post("/endpoints", body))
    assert item["loc"] == ["body", "bandwidth_mbps"] and item["msg"].startswith("Điều 6.3")


@pytest.mark.django_db
def test_missing_vcs_address_cites_article_11_7(tree: Tree, technician: Caller) -> None:
    # The central MCU dials a VCS terminal on TSLCD/WAN at this address (KH Đ11.7).
    body = endpoint_body(tree.commune, "NT.XuongHuan", vcs_ip=None)
    [item] = detail(technician.post("/endpoints", body))
    assert item["loc"] == ["body", "vcs_ip"] and item["msg"].startswith("Điều 11.7")


@pytest.mark.django_db
def test_service_input_errors_use_the_same_shape(tree: Tree, technician: Caller) -> None:
    EndpointFactory(agency=tree.commune, name="NT.XuongHuan")
    [item] = detail(technician.post("/endpoints", endpoint_body(tree.commune, "NT.XuongHuan")))
    assert item["loc"] == ["body", "name"] and item["type"] == "invalid"


# ---------------------------------------------------------------- PATCH


@pytest.mark.django_db
def test_patch_changes_only_the_fields_sent(tree: Tree, technician: Caller) -> None:
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan", location="Tầng 1",
                               vcs_ip="10.56.1.9")
    response = technician.patch(f"/endpoints/{endpoint.pk}", {"location": "Tầng 3"})
    assert response.status_code == 200, response.content
    endpoint.refresh_from_db()
    assert endpoint.location == "Tầng 3"
    assert endpoint.name == "NT.XuongHuan" and endpoint.vcs_ip == "10.56.1.9"
    assert AuditEvent.objects.filter(action="endpoint.update", object_id=str(endpoint.pk)).exists()

    assert locs(technician.patch(f"/endpoints/{endpoint.pk}", {"name": None})) == [
        ["body", "name"]
    ]
    [item] = detail(technician.patch(f"/endpoints/{endpoint.pk}", {"name": "Phong hop"}))
    assert item["loc"] == ["body", "name"] and item["msg"].startswith("Điều 6.4")


# ---------------------------------------------------------------- admission


@pytest.mark.django_db
def test_technician_cannot_approve(tree: Tree, technician: Caller) -> None:
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan",
                               status=EndpointStatus.EVALUATED)
    response = technician.post(f"/endpoints/{endpoint.pk}/approve")
    assert response.status_code == 403
    assert isinstance(response.json()["detail"], str)
    evaluation = {"answers": EvaluationInput.all_met().answers}
    assert technician.post(f"/endpoints/{endpoint.pk}/evaluate", evaluation).status_code == 403


def _register_and_evaluate(tree: Tree, technician: Caller, operator: Caller) -> int:
    created = technician.post("/endpoints", endpoint_body(tree.commune, "NT.XuongHuan"))
    assert created.status_code == 201, created.content
    endpoint_id: int = created.json()["id"]
    evaluation = {"answers": EvaluationInput.all_met().answers, "remarks": "Đạt"}
    evaluated = operator.post(f"/endpoints/{endpoint_id}/evaluate", evaluation)
    assert evaluated.status_code == 201, evaluated.content
    assert evaluated.json()["evaluation"]["passed"] is True
    assert evaluated.json()["endpoint"]["status"] == "evaluated"
    return endpoint_id


def _set_contacts(technician: Caller, endpoint_id: int) -> None:
    for role, name in (("leader", "Trần Thị Lãnh Đạo"), ("technician", "Nguyễn Văn Kỹ Thuật")):
        response = technician.post(
            f"/endpoints/{endpoint_id}/contacts",
            {"role": role, "full_name": name, "phone": "0912 345 678",
             "email": "kythuat@khanhhoa.gov.vn"},
        )
        assert response.status_code == 201, response.content


def _approve_once(operator: Caller, endpoint_id: int) -> str:
    approved = operator.post(f"/endpoints/{endpoint_id}/approve")
    assert approved.status_code == 200, approved.content
    assert "no-store" in approved["Cache-Control"]
    data = approved.json()
    password: str = data["account_password"]
    assert password and data["account_username"] == data["endpoint"]["name"]
    assert data["endpoint"]["status"] == "approved"
    # The password is never shown again.
    again = operator.get(f"/endpoints/{endpoint_id}")
    assert again.status_code == 200
    assert password not in again.content.decode()
    assert "password" not in again.content.decode()
    listed = operator.get("/endpoints").content.decode()
    assert password not in listed and "password" not in listed
    return password


@pytest.mark.django_db
def test_approve_flow_under_khanh_hoa(tree: Tree, technician: Caller, operator: Caller) -> None:
    endpoint_id = _register_and_evaluate(tree, technician, operator)
    # KH Đ19.3: the endpoint needs its technician as contact before it is admitted.
    [item] = detail(operator.post(f"/endpoints/{endpoint_id}/approve"))
    assert item["code"] == "endpoint_contacts_missing" and item["loc"] == ["body"]
    assert item["msg"].startswith("Điều 19.3")
    _set_contacts(technician, endpoint_id)
    _approve_once(operator, endpoint_id)
    # Approving twice is a state conflict.
    conflict = operator.post(f"/endpoints/{endpoint_id}/approve")
    assert conflict.status_code == 409 and isinstance(conflict.json()["detail"], str)

    actions = list(
        AuditEvent.objects.filter(object_type="directory.endpoint", object_id=str(endpoint_id))
        .order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["endpoint.register", "endpoint.evaluate", "endpoint.approve"]
    assert AuditEvent.objects.filter(action="contact.set").count() == 2
    assert not AuditEvent.objects.filter(after__icontains="password").exists()
    assert verify_chain().ok


@pytest.mark.django_db
def test_approve_flow_under_dong_nai_needs_the_security_check(
    tree: Tree, technician: Caller, operator: Caller, use_rulebook: Any
) -> None:
    use_rulebook("dong-nai-2025")
    endpoint_id = _register_and_evaluate(tree, technician, operator)
    _set_contacts(technician, endpoint_id)
    [item] = detail(operator.post(f"/endpoints/{endpoint_id}/approve"))
    assert item["code"] == "endpoint_security_check_due" and item["msg"].startswith("Điều")

    check = {"reason": "new", "result": "passed", "checked_on": "2025-06-02",
             "police_reference": "CA-2025-17"}
    assert technician.post(f"/endpoints/{endpoint_id}/security-checks", check).status_code == 403
    assert locs(operator.post(f"/endpoints/{endpoint_id}/security-checks",
                              {**check, "checked_on": "hôm qua"})) == [["body", "checked_on"]]
    recorded = operator.post(f"/endpoints/{endpoint_id}/security-checks", check)
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["endpoint"]["security_check_due"] is False
    assert recorded.json()["security_check"]["police_reference"] == "CA-2025-17"

    _approve_once(operator, endpoint_id)
    shown = operator.get(f"/endpoints/{endpoint_id}").json()
    assert len(shown["evaluations"]) == 1 and len(shown["security_checks"]) == 1
    assert verify_chain().ok


@pytest.mark.django_db
def test_suspend_reinstate_and_repair(tree: Tree, technician: Caller, operator: Caller) -> None:
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan",
                               status=EndpointStatus.EVALUATED, security_check_due=False)
    ContactFactory(endpoint=endpoint, role="technician")
    url = f"/endpoints/{endpoint.pk}"
    assert technician.post(f"{url}/suspend", {"reason": "Hỏng"}).status_code == 403
    assert locs(operator.post(f"{url}/suspend", {"reason": "  "})) == [["body", "reason"]]
    suspended = operator.post(f"{url}/suspend", {"reason": "Đường truyền không ổn định"})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    reinstated = operator.post(f"{url}/reinstate")
    assert reinstated.status_code == 200 and reinstated.json()["status"] == "evaluated"
    assert operator.post(f"{url}/reinstate").status_code == 409

    assert locs(technician.post(f"{url}/repair", {"note": ""})) == [["body", "note"]]
    repaired = technician.post(f"{url}/repair", {"note": "Thay bộ codec"})
    assert repaired.status_code == 200 and repaired.json()["security_check_due"] is True


# ---------------------------------------------------------------- contacts


@pytest.mark.django_db
def test_contacts_current_and_history(tree: Tree, technician: Caller) -> None:
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan")
    url = f"/endpoints/{endpoint.pk}/contacts"
    first = technician.post(url, {"role": "technician", "full_name": "Lê Văn A",
                                  "phone": "0905111222"})
    assert first.status_code == 201, first.content
    second = technician.post(url, {"role": "technician", "full_name": "Phạm Thị B",
                                   "phone": "+84905333444", "change_reason": "Chuyển công tác"})
    assert second.status_code == 201
    listed = technician.get(url).json()
    assert [c["full_name"] for c in listed["current"]] == ["Phạm Thị B"]
    assert [c["full_name"] for c in listed["history"]] == ["Lê Văn A"]
    assert listed["current"][0]["is_current"] is True

    [item] = detail(technician.post(url, {"role": "leader", "full_name": "X", "phone": "12"}))
    assert item["loc"] == ["body", "phone"] and item["type"] == "invalid"
    assert locs(technician.post(url, {"role": "boss", "full_name": "X", "phone": "0905111222"})
                ) == [["body", "role"]]

    contact_id = second.json()["id"]
    assert locs(technician.post(f"/contacts/{contact_id}/end", {"reason": ""})) == [
        ["body", "reason"]
    ]
    ended = technician.post(f"/contacts/{contact_id}/end", {"reason": "Nghỉ hưu"})
    assert ended.status_code == 200 and ended.json()["is_current"] is False
    assert technician.post(f"/contacts/{contact_id}/end", {"reason": "Lại"}).status_code == 409
    assert technician.get(url).json()["current"] == []


@pytest.mark.django_db
def test_contacts_of_other_agencies_are_not_found(tree: Tree, technician: Caller) -> None:
    contact = ContactFactory(endpoint=EndpointFactory(agency=tree.other_commune))
    assert technician.post(f"/contacts/{contact.pk}/end", {"reason": "x"}).status_code == 404


# ---------------------------------------------------------------- docs and language


@pytest.mark.django_db
def test_docs_and_openapi_load(client: Client) -> None:
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/agencies", "/api/v1/agencies/{agency_id}",
        "/api/v1/agencies/{agency_id}/name-suggestion",
        "/api/v1/agencies/{agency_id}/quota-exceptions",
        "/api/v1/endpoints", "/api/v1/endpoints/{endpoint_id}",
        "/api/v1/endpoints/{endpoint_id}/evaluate", "/api/v1/endpoints/{endpoint_id}/approve",
        "/api/v1/endpoints/{endpoint_id}/suspend", "/api/v1/endpoints/{endpoint_id}/reinstate",
        "/api/v1/endpoints/{endpoint_id}/security-checks",
        "/api/v1/endpoints/{endpoint_id}/repair", "/api/v1/endpoints/{endpoint_id}/contacts",
        "/api/v1/contacts/{contact_id}/end",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/endpoints/{endpoint_id}"]) == {"get", "patch"}
    text = json.dumps(schema)
    assert "password_hash" not in text and "key_hash" not in text
    assert "BearerAuth" in text or "ApiTokenAuth" in text


@pytest.mark.django_db
def test_accept_language_en_gives_english(tree: Tree, technician: Caller) -> None:
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan",
                               status=EndpointStatus.EVALUATED)
    response = technician.post(f"/endpoints/{endpoint.pk}/approve",
                               **{"Accept-Language": "en"})
    assert response.status_code == 403
    assert response["Content-Language"] == "en"
    assert response.json()["detail"].startswith("You are not allowed")
    # The action in words, never its internal id.
    assert "admit an endpoint" in response.json()["detail"]
    assert "approve_endpoint" not in response.json()["detail"]

    body = endpoint_body(tree.commune, "Xuong Huan", vcs_ip="10.56.1.77")
    [item] = detail(technician.post("/endpoints", body, **{"Accept-Language": "en"}))
    # The commune's one room exists: the quota answers before the naming rule (KH Đ8.4).
    assert "may have at most 1 endpoint" in item["msg"] and item["msg"].startswith("Điều 8.4")
    level = technician.get(f"/agencies/{tree.commune.pk}", **{"Accept-Language": "en"}).json()
    assert level["level"]["label"].startswith("Commune")
    vi = technician.get(f"/agencies/{tree.commune.pk}", **{"Accept-Language": "vi"}).json()
    assert vi["level"]["label"].startswith("Cấp xã")
