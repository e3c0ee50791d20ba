"""Audit log pages (R22: only auditors and administrators read it) and the API token page."""

import csv
import io

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from diemcau.core import audit
from diemcau.core.api_auth import hash_token
from diemcau.core.models import ApiToken, AuditEvent
from diemcau.core.roles import Role
from diemcau.directory import services
from diemcau.directory.choices import Network, TerminalKind
from diemcau.testing.factories import UserFactory


@pytest.fixture(autouse=True)
def _settings(use_rulebook):
    use_rulebook("khanh-hoa-2023")


@pytest.fixture
def client():
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.fixture
def auditor(kh_tree):
    return UserFactory(role=Role.AUDITOR, agency=kh_tree.province, username="kiemtra")


@pytest.fixture
def technician(kh_tree):
    return UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune, username="kythuat")


@pytest.fixture
def operator(kh_tree):
    return UserFactory(role=Role.OPERATOR, agency=kh_tree.department, username="vanhanh")


@pytest.fixture
def events(kh_tree, operator):
    """A few real events: a registration, an update and an evaluation."""
    from decimal import Decimal

    data = services.EndpointInput(
        agency=kh_tree.commune, name="NT.XuongHuan", terminal_kind=TerminalKind.VCS,
        network=Network.TSLCD, bandwidth_mbps=Decimal("8"), dedicated_line=True,
        vcs_ip="10.56.0.9", location="Hội trường",
    )
    endpoint = services.register_endpoint(data, actor=operator)
    data.location = "Phòng họp tầng 3"
    services.update_endpoint(endpoint, data, actor=operator)
    services.evaluate_endpoint(
        endpoint, services.EvaluationInput.all_met("Đạt"), actor=operator
    )
    return endpoint


def urls():
    return [
        reverse("core:audit_list"),
        reverse("core:audit_export"),
        # The first event's number (on PostgreSQL a sequence, not restarted for each test).
        reverse("core:audit_detail", args=[AuditEvent.objects.order_by("seq").first().seq]),
    ]


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.OFFICE, Role.OPERATOR])
def test_audit_pages_are_forbidden_without_the_right(client, kh_tree, events, role):
    client.force_login(UserFactory(role=role, agency=kh_tree.district))
    for url in urls():
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("core:audit_verify")).status_code == 403
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("core:audit_list") not in page


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_audit_pages_are_allowed_to_auditors_and_admins(client, kh_tree, events, role):
    client.force_login(UserFactory(role=role, agency=kh_tree.province))
    for url in urls():
        assert client.get(url).status_code == 200, url


def test_audit_list_shows_and_filters_events(client, auditor, events, operator):
    client.force_login(auditor)
    page = client.get(reverse("core:audit_list"))
    actions = [e.action for e in page.context["page_obj"]]
    assert actions == ["endpoint.evaluate", "endpoint.update", "endpoint.register"]
    assert "endpoint.evaluate" in page.content.decode()
    only = client.get(reverse("core:audit_list"), {"action": "endpoint.update"})
    assert [e.action for e in only.context["page_obj"]] == ["endpoint.update"]
    by_object = client.get(reverse("core:audit_list"), {
        "object_type": "directory.endpoint", "object_id": str(events.pk), "actor": "vanh",
    })
    assert len(by_object.context["page_obj"]) == 3
    nobody = client.get(reverse("core:audit_list"), {"actor": "kiemtra"})
    assert len(nobody.context["page_obj"]) == 0
    today = timezone.localdate(events.created_at).isoformat()
    dated = client.get(reverse("core:audit_list"), {"date_from": today, "date_to": today})
    assert len(dated.context["page_obj"]) == 3
    wrong = client.get(reverse("core:audit_list"), {"date_from": "2030-01-02",
                                                   "date_to": "2030-01-01"})
    assert "date_to" in wrong.context["filter_form"].errors


def test_audit_detail_shows_before_and_after(client, auditor, events):
    client.force_login(auditor)
    update = AuditEvent.objects.get(action="endpoint.update")
    page = client.get(reverse("core:audit_detail", args=[update.seq]))
    rows = {row["field"]: row for row in page.context["rows"]}
    assert rows["location"]["changed"]
    assert rows["location"]["before"] == "Hội trường"
    assert rows["location"]["after"] == "Phòng họp tầng 3"
    assert not rows["name"]["changed"]
    html = page.content.decode()
    assert "diff-changed" in html and "Phòng họp tầng 3" in html
    # The events linked just before and after it (numbers may have gaps on PostgreSQL).
    assert page.context["previous"] == AuditEvent.objects.get(action="endpoint.register").seq
    assert page.context["next"] == AuditEvent.objects.get(action="endpoint.evaluate").seq
    beyond = AuditEvent.objects.order_by("-seq").first().seq + 1
    assert client.get(reverse("core:audit_detail", args=[beyond])).status_code == 404


def test_verify_chain_button(client, auditor, events):
    client.force_login(auditor)
    assert client.get(reverse("core:audit_verify")).status_code == 405  # a button, not a link
    response = client.post(reverse("core:audit_verify"))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.ok and report.checked == AuditEvent.objects.count()
    assert "intact" in response.content.decode()


def test_verify_chain_shows_a_broken_chain(client, auditor, events, monkeypatch):
    client.force_login(auditor)
    broken = audit.ChainReport(checked=1, first_bad_seq=2, problem="#2 was changed")
    monkeypatch.setattr(audit, "verify_chain", lambda: broken)
    page = client.post(reverse("core:audit_verify")).content.decode()
    assert "broken" in page and "#2 was changed" in page
    assert reverse("core:audit_detail", args=[2]) in page


def test_csv_export_of_the_filtered_list(client, auditor, events):
    client.force_login(auditor)
    response = client.get(reverse("core:audit_export"), {"object_id": str(events.pk)})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    # Headers in the reader's language (English here); the action's code beside its words.
    assert [r["Action code"] for r in rows] == [
        "endpoint.register", "endpoint.update", "endpoint.evaluate"
    ]
    assert rows[0]["Action"] == "Endpoint registered"
    assert rows[0]["Actor"] == "vanhanh"
    assert "Hội trường" in rows[1]["Before"] and "Phòng họp tầng 3" in rows[1]["After"]
    first = AuditEvent.objects.get(seq=int(rows[0]["#"]))
    assert rows[0]["Hash"] == first.hash
    # The chain and the place in it, so the file alone says which event each hash follows.
    assert (int(rows[0]["Chain"]), int(rows[0]["Place in the chain"])) == (
        first.chain, first.chain_seq
    )
    filtered = client.get(reverse("core:audit_export"), {"action": "endpoint.update"})
    lines = b"".join(filtered.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2  # the header and the one event


# ---------------------------------------------------------------- API tokens


def test_token_created_shown_once_and_revoked(client, technician):
    client.force_login(technician)
    assert client.get(reverse("core:token_list")).status_code == 200
    empty = client.post(reverse("core:token_list"), {"name": ""})
    assert "name" in empty.context["form"].errors
    created = client.post(reverse("core:token_list"), {"name": "Tích hợp lịch họp"})
    assert created.status_code == 200
    raw = created.context["raw_token"]
    token = ApiToken.objects.get(user=technician)
    assert token.key_hash == hash_token(raw)
    assert created.content.decode().count(raw) == 1
    assert "no-store" in created["Cache-Control"]
    listing = client.get(reverse("core:token_list"))
    assert raw not in listing.content.decode()
    assert token.prefix in listing.content.decode()
    assert client.get(reverse("core:token_revoke", args=[token.pk])).status_code == 405
    revoked = client.post(reverse("core:token_revoke", args=[token.pk]), follow=True)
    assert revoked.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    again = client.post(reverse("core:token_revoke", args=[token.pk]), follow=True)
    assert any("already" in str(m) for m in again.context["messages"])


def test_tokens_of_others_are_invisible(client, technician, auditor):
    client.force_login(auditor)
    client.post(reverse("core:token_list"), {"name": "Báo cáo"})
    token = ApiToken.objects.get(user=auditor)
    client.force_login(technician)
    assert token.name not in client.get(reverse("core:token_list")).content.decode()
    assert client.post(reverse("core:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
