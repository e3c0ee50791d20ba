"""The endpoint readiness checklist (`directory.rules`) is one answer: the approval service,
the approval and endpoint pages, the dashboard and the API show and refuse by the same lines,
codes and articles (R5, R6; ĐN Đ8.3c, Đ16.3)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from diemcau.core.errors import RuleViolation
from diemcau.core.roles import Role
from diemcau.directory import services
from diemcau.directory.choices import ContactRole, EndpointStatus, SecurityCheckReason
from diemcau.directory.rules import Stage, checklist, readiness_refusal, unmet
from diemcau.directory.services import SecurityCheckInput
from diemcau.directory.tests.test_api import Caller, caller, detail
from diemcau.testing.factories import ContactFactory, EndpointFactory

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


@pytest.fixture
def tree(kh_tree: SimpleNamespace) -> SimpleNamespace:
    return kh_tree


@pytest.fixture
def operator(tree: SimpleNamespace) -> Caller:
    return caller(Role.OPERATOR, tree.department)


def page_client(who: Caller) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(who.user)
    return client


def lines(conditions: Any) -> list[tuple[str, str]]:
    return [(c.code, c.article) for c in conditions]


def test_dong_nai_admission_checklist_is_one_answer(tree: SimpleNamespace, operator: Caller,
                                                    use_rulebook: Any) -> None:
    """ĐN: an evaluated endpoint without the police check and without its contacts."""
    use_rulebook("dong-nai-2025")
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan",
                               status=EndpointStatus.EVALUATED, security_check_due=True)
    with translation.override("en"):
        missing = unmet(endpoint, Stage.ADMISSION)
        refusal = readiness_refusal(endpoint, Stage.ADMISSION)
    assert lines(missing) == [
        ("endpoint_security_check_due", "Điều 8.3c, Điều 16.5 Quy chế ĐN"),
        ("endpoint_contacts_missing", "Điều 16.3 Quy chế ĐN"),
        ("endpoint_contacts_missing", "Điều 16.3 Quy chế ĐN"),
    ]
    assert refusal is not None and refusal.code == "endpoint_security_check_due"

    # The approval page lists the same lines, and refuses with the same article and message.
    pages = page_client(operator)
    url = reverse("directory:endpoint_approve", args=[endpoint.pk])
    shown = pages.get(url).context["readiness"]
    with translation.override("en"):
        everything = checklist(endpoint, Stage.ADMISSION)
    assert [(i["code"], i["article"], i["ok"]) for i in shown] == [
        (c.code, c.article, c.met) for c in everything
    ]
    assert [i["label"] for i in shown][0] == "Evaluation passed" and shown[0]["ok"]
    refused_page = pages.post(url)
    assert refused_page.context["form"].non_field_errors() == [str(refusal)]
    # The API shows them in the endpoint's readiness and refuses the approval alike.
    shown_api = operator.get(f"/endpoints/{endpoint.pk}", **EN).json()["readiness"]
    assert [(i["code"], i["article"]) for i in shown_api["admission"]] == lines(missing)
    assert [i["message"] for i in shown_api["admission"]] == [c.message for c in missing]
    assert [i["code"] for i in shown_api["use"]] == [
        "endpoint_not_admitted", "endpoint_security_check_due"]
    [item] = detail(operator.post(f"/endpoints/{endpoint.pk}/approve", **EN))
    assert (item["code"], item["article"], item["msg"]) == (
        refusal.code, refusal.article, str(refusal))
    with pytest.raises(RuleViolation) as refused:
        services.approve_endpoint(endpoint, actor=operator.user)
    assert (refused.value.code, refused.value.article) == (refusal.code, refusal.article)
    # The dashboard lists it under both lines.
    dashboard = pages.get(reverse("dashboard")).context
    assert [e.pk for e in dashboard["security_due"]] == [endpoint.pk]
    assert [e.pk for e in dashboard["missing_contacts"]] == [endpoint.pk]

    # The police check passed: the contacts remain, everywhere.
    services.record_security_check(endpoint, SecurityCheckInput(
        reason=SecurityCheckReason.NEW, result="passed",
        checked_on=dt.date.today(), police_reference="CA-17"), actor=operator.user)
    endpoint.refresh_from_db()
    assert [c.code for c in unmet(endpoint, Stage.ADMISSION)] == [
        "endpoint_contacts_missing"] * 2
    assert pages.get(reverse("dashboard")).context["security_due"] == []
    [item] = detail(operator.post(f"/endpoints/{endpoint.pk}/approve"))
    assert item["code"] == "endpoint_contacts_missing"
    endpoint_page = pages.get(reverse("directory:endpoint_detail", args=[endpoint.pk])).context
    assert endpoint_page["missing_roles"] == [ContactRole.LEADER, ContactRole.TECHNICIAN]
    assert endpoint_page["security_check_unmet"] is False

    # With its contacts it is ready: nothing unmet, approved, ready for use.
    ContactFactory(endpoint=endpoint, role=ContactRole.LEADER)
    ContactFactory(endpoint=endpoint, role=ContactRole.TECHNICIAN)
    assert unmet(endpoint, Stage.ADMISSION) == []
    assert all(i["ok"] for i in pages.get(url).context["readiness"])
    assert operator.get(f"/endpoints/{endpoint.pk}").json()["readiness"]["admission"] == []
    assert pages.get(reverse("dashboard")).context["missing_contacts"] == []
    assert operator.post(f"/endpoints/{endpoint.pk}/approve").status_code == 200
    assert operator.get(f"/endpoints/{endpoint.pk}").json()["readiness"] == {
        "admission": [], "use": []}


def test_reinstatement_asks_the_same_checklist(tree: SimpleNamespace, operator: Caller,
                                               use_rulebook: Any) -> None:
    """KH Đ19.3: a suspended endpoint whose technician left is not taken back until one is
    named — the page's line, the API's readiness and the refusal agree."""
    use_rulebook("khanh-hoa-2023")
    endpoint = EndpointFactory(agency=tree.commune, name="NT.XuongHuan",
                               status=EndpointStatus.SUSPENDED, security_check_due=False)
    with translation.override("en"):
        refusal = readiness_refusal(endpoint, Stage.ADMISSION)
    assert refusal is not None and refusal.code == "endpoint_contacts_missing"
    assert refusal.article == "Điều 19.3 Quy chế KH"
    shown = operator.get(f"/endpoints/{endpoint.pk}", **EN).json()["readiness"]
    assert [(i["code"], i["message"]) for i in shown["admission"]] == [
        (refusal.code, refusal.message)]
    [item] = detail(operator.post(f"/endpoints/{endpoint.pk}/reinstate", **EN))
    assert (item["code"], item["msg"]) == (refusal.code, str(refusal))
    pages = page_client(operator)
    page = pages.get(reverse("directory:endpoint_detail", args=[endpoint.pk])).context
    assert page["missing_roles"] == [ContactRole.TECHNICIAN]
    ContactFactory(endpoint=endpoint, role=ContactRole.TECHNICIAN)
    assert operator.post(f"/endpoints/{endpoint.pk}/reinstate").status_code == 200
