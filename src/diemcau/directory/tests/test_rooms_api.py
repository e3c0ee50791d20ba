"""The API and the pages of change requests, devices and the evaluation checklist."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from diemcau.core.roles import Role
from diemcau.directory.choices import ChangeRequestStatus, EndpointStatus
from diemcau.directory.models import Endpoint, EndpointChangeRequest
from diemcau.directory.services import EvaluationInput
from diemcau.directory.tests.test_api import Caller, Tree, caller
from diemcau.testing.factories import ApprovedEndpointFactory, UserFactory

pytestmark = pytest.mark.django_db


def admitted(tree: Tree) -> Endpoint:
    endpoint: Endpoint = ApprovedEndpointFactory(
        agency=tree.commune, name="NT.XuongHuan", network="tslcd", dedicated_line=True,
        vcs_ip="10.56.1.20", bandwidth_mbps=Decimal("8"), security_check_due=False,
    )
    return endpoint


def test_patch_of_an_admitted_endpoint_answers_202_with_the_request(
    tree: Tree, technician: Caller, operator: Caller
) -> None:
    endpoint = admitted(tree)
    response = technician.patch(f"/endpoints/{endpoint.pk}",
                                {"vcs_ip": "10.56.1.21", "location": "Tầng 3"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["changes"] == {"vcs_ip": "10.56.1.21"}
    endpoint.refresh_from_db()
    assert endpoint.vcs_ip == "10.56.1.20" and endpoint.location == "Tầng 3"

    # The requester sees its request; the operator's queue lists it, and approves it.
    mine = technician.get("/change-requests").json()
    assert [r["id"] for r in mine["items"]] == [body["id"]]
    queue = operator.get("/change-requests?status=pending").json()
    assert [r["id"] for r in queue["items"]] == [body["id"]]
    assert technician.post(f"/change-requests/{body['id']}/approve", {}).status_code == 403
    approved = operator.post(f"/change-requests/{body['id']}/approve", {"note": "Đồng ý"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    endpoint.refresh_from_db()
    assert endpoint.vcs_ip == "10.56.1.21"


def test_change_requests_are_scoped_and_refusals_cite(
    tree: Tree, technician: Caller, operator: Caller
) -> None:
    endpoint = admitted(tree)
    created = technician.post(f"/endpoints/{endpoint.pk}/change-requests",
                              {"bandwidth_mbps": "10", "reason": "Nâng cấp"})
    assert created.status_code == 201, created.content
    again = technician.post(f"/endpoints/{endpoint.pk}/change-requests", {"vcs_ip": "10.1.1.1"})
    assert again.status_code == 422
    assert again.json()["detail"][0]["code"] == "endpoint_change_pending"
    assert again.json()["detail"][0]["article"] == "Điều 11.5 Quy chế KH"
    neighbour = caller(Role.TECHNICIAN, tree.other_commune)
    assert neighbour.get(f"/change-requests/{created.json()['id']}").status_code == 404
    assert neighbour.get("/change-requests").json()["count"] == 0
    refused = operator.post(f"/change-requests/{created.json()['id']}/refuse",
                            {"reason": "Chưa cần"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"


def test_devices_through_the_api(tree: Tree, operator: Caller) -> None:
    room = ApprovedEndpointFactory(agency=tree.department, name="So.TTTT")
    office = caller(Role.OFFICE, tree.department)
    suggestion = office.get(f"/agencies/{tree.department.pk}/name-suggestion").json()
    assert suggestion["name"] is None and suggestion["device_name"] == "So.TTTT.01"
    created = office.post(f"/endpoints/{room.pk}/devices",
                          {"name": suggestion["device_name"], "terminal_kind": "vcs"})
    assert created.status_code == 201, created.content
    shown = office.get(f"/endpoints/{room.pk}").json()
    assert [d["name"] for d in shown["devices"]] == ["So.TTTT.01"]
    bad = office.post(f"/endpoints/{room.pk}/devices", {"name": "X", "terminal_kind": "vcs"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["article"].startswith("Điều 6.4")
    deleted = office._send("delete", f"/devices/{created.json()['id']}")
    assert deleted.status_code == 204 and not room.devices.exists()


def test_the_evaluation_api_takes_one_answer_per_item(
    tree: Tree, technician: Caller, operator: Caller
) -> None:
    endpoint = ApprovedEndpointFactory(agency=tree.commune, name="NT.XuongHuan",
                                       status=EndpointStatus.PENDING)
    answers = EvaluationInput.all_met().answers
    missing = operator.post(f"/endpoints/{endpoint.pk}/evaluate", {"answers": {"power": True}})
    assert missing.status_code == 422
    done = operator.post(f"/endpoints/{endpoint.pk}/evaluate", {"answers": answers})
    assert done.status_code == 201, done.content
    shown = done.json()["evaluation"]["answers"]
    assert [(a["item_key"], a["article"], a["met"]) for a in shown][:2] == [
        ("room_layout", "Điều 6.1", True), ("power", "Điều 6.2", True)]
    assert done.json()["endpoint"]["meets_control_requirements"] is True


# ---------------------------------------------------------------- pages


def login(client: Client, user: object) -> Client:
    client.force_login(user)  # type: ignore[arg-type]
    client.cookies["django_language"] = "en"
    return client


def test_the_operator_decides_on_the_page(tree: Tree, client: Client) -> None:
    endpoint = admitted(tree)
    office = UserFactory(role=Role.OFFICE, agency=tree.commune)
    login(client, office)
    edit_url = reverse("directory:endpoint_edit", args=[endpoint.pk])
    form = client.get(edit_url)
    assert "Điều 11.5" in form.content.decode()  # the page says the change waits for consent
    data = {name: value for name, value in form.context["form"].initial.items()
            if value is not None}
    data.update({"agency": tree.commune.pk, "bandwidth_mbps": "12", "dedicated_line": "on",
                 "room_meets_standard": "on"})
    assert client.post(edit_url, data).status_code == 302
    change = EndpointChangeRequest.objects.get()
    assert change.changes == {"bandwidth_mbps": "12.0"}
    detail_url = reverse("directory:change_request_detail", args=[change.pk])
    assert client.get(detail_url).context["may_decide"] is False
    assert client.post(detail_url, {"approve": "1"}).status_code == 403

    operator_user = UserFactory(role=Role.OPERATOR, agency=tree.department)
    login(client, operator_user)
    queue = client.get(reverse("directory:change_request_list"))
    assert [c.pk for c in queue.context["page_obj"]] == [change.pk]
    assert client.post(detail_url, {"approve": "1", "approve-note": "OK"}).status_code == 302
    change.refresh_from_db()
    endpoint.refresh_from_db()
    assert change.status == ChangeRequestStatus.APPROVED
    assert endpoint.bandwidth_mbps == Decimal("12")


def test_the_endpoint_page_shows_its_devices_and_adds_one(tree: Tree, client: Client) -> None:
    room = ApprovedEndpointFactory(agency=tree.department, name="So.TTTT")
    office = UserFactory(role=Role.OFFICE, agency=tree.department)
    login(client, office)
    add = reverse("directory:device_add", args=[room.pk])
    page = client.get(add)
    assert page.context["form"].initial["name"] == "So.TTTT.01"
    assert client.post(add, {"name": "So.TTTT.01", "terminal_kind": "vcs"}).status_code == 302
    detail = client.get(reverse("directory:endpoint_detail", args=[room.pk])).content.decode()
    assert "So.TTTT.01" in detail
    # The registration form's suggestion says why there is no new endpoint name.
    hint = client.get(reverse("directory:name_suggestion") + f"?agency={tree.department.pk}")
    text = hint.content.decode()
    assert "Điều 8.2" in text and "data-quota-full" in text and "So.TTTT.02" in text
