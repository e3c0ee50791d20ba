"""The directory's pages through Django's test client: what each role sees (R22 scoping), the
rule violations shown on the right field with their article, and the one-time password."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.directory import services
from diemcau.directory.choices import ContactRole, EndpointStatus, Network, TerminalKind
from diemcau.directory.models import Contact, Endpoint, QuotaException
from diemcau.rulebooks import active_rulebook
from diemcau.testing.factories import ContactFactory, EndpointFactory, UserFactory


@pytest.fixture(autouse=True)
def _khanh_hoa(use_rulebook):
    use_rulebook("khanh-hoa-2023")


@pytest.fixture
def client():
    """Pages in English, so that assertions on page text do not depend on the Vietnamese
    catalogue; the rulebook's articles and messages are Vietnamese in every language."""
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.fixture
def users(kh_tree):
    return {
        Role.ADMIN: UserFactory(role=Role.ADMIN, agency=kh_tree.department),
        Role.OPERATOR: UserFactory(role=Role.OPERATOR, agency=kh_tree.department),
        Role.OFFICE: UserFactory(role=Role.OFFICE, agency=kh_tree.district),
        Role.TECHNICIAN: UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune),
        Role.AUDITOR: UserFactory(role=Role.AUDITOR, agency=kh_tree.province),
    }


@pytest.fixture
def operator(users):
    return users[Role.OPERATOR]


@pytest.fixture
def district_office(users):
    return users[Role.OFFICE]


@pytest.fixture
def commune_endpoint(kh_tree):
    return EndpointFactory(agency=kh_tree.commune, name="NT.XuongHuan", location="Hội trường")


@pytest.fixture
def other_endpoint(kh_tree):
    """An endpoint of the other district's ward: outside the Nha Trang office's scope."""
    return EndpointFactory(agency=kh_tree.other_commune, name="CR.CamNghia")


def login(client, user):
    client.force_login(user)
    return client


def form_data(agency, name, **overrides):
    data = {
        "agency": agency.pk,
        "name": name,
        "terminal_kind": TerminalKind.VCS,
        "network": Network.TSLCD,
        "bandwidth_mbps": "8",
        "dedicated_line": "on",
        "vcs_ip": "10.56.1.20",
        "location": "Phòng họp tầng 2",
        "room_meets_standard": "on",
        "room_notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def admit(endpoint, operator, *, contacts=True):
    """Bring an endpoint to "evaluated", with its contacts, through the services."""
    services.evaluate_endpoint(
        endpoint, services.EvaluationInput.all_met("Đạt"), actor=operator
    )
    if contacts:
        for role in ContactRole.values:
            services.set_contact(
                endpoint,
                services.ContactInput(role, f"Người {role}", "0912345678", "a@example.gov.vn"),
                actor=operator,
            )
    endpoint.refresh_from_db()
    return endpoint


# ---------------------------------------------------------------- pages for each role


@pytest.mark.parametrize("role", list(Role))
def test_pages_load_for_each_role(client, users, kh_tree, commune_endpoint, role):
    login(client, users[role])
    for url in [
        reverse("dashboard"),
        reverse("directory:agency_list"),
        reverse("directory:agency_list") + "?q=nha+trang&level=district",
        reverse("directory:agency_detail", args=[kh_tree.district.pk]),
        reverse("directory:agency_detail", args=[kh_tree.other_district.pk]),
        reverse("directory:endpoint_list"),
        reverse("directory:endpoint_list") + "?status=pending&network=tslcd&q=NT",
        reverse("directory:endpoint_detail", args=[commune_endpoint.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    register = client.get(reverse("directory:endpoint_create"))
    assert register.status_code == (403 if role == Role.AUDITOR else 200)


def test_anonymous_is_sent_to_login(client, commune_endpoint):
    for url in [reverse("dashboard"), reverse("directory:endpoint_list"),
                reverse("directory:endpoint_detail", args=[commune_endpoint.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_and_logout(client, district_office):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content
    district_office.set_password("Mat-khau-rat-dai-2026")
    district_office.save()
    response = client.post(reverse("login"), {"username": district_office.username,
                                              "password": "Mat-khau-rat-dai-2026"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_base_template_shows_province_rulebook_and_menu(client, district_office, users):
    page = login(client, district_office).get(reverse("dashboard")).content.decode()
    assert "Khánh Hòa" in page and "Quy chế KH" in page
    assert reverse("directory:agency_list") in page and reverse("core:token_list") in page
    assert reverse("core:audit_list") not in page  # only for those who may read the audit
    assert reverse("set_language") in page
    page = login(client, users[Role.AUDITOR]).get(reverse("dashboard")).content.decode()
    assert reverse("core:audit_list") in page


# ---------------------------------------------------------------- scoping (R22)


def test_out_of_scope_endpoint_is_404_and_not_listed(
    client, district_office, commune_endpoint, other_endpoint
):
    login(client, district_office)
    # KH: the district office sees its own communes' endpoints, not another district's.
    assert client.get(
        reverse("directory:endpoint_detail", args=[commune_endpoint.pk])
    ).status_code == 200
    assert client.get(
        reverse("directory:endpoint_detail", args=[other_endpoint.pk])
    ).status_code == 404
    for name in ["edit", "evaluate", "approve", "suspend", "repair", "security_check"]:
        url = reverse(f"directory:endpoint_{name}", args=[other_endpoint.pk])
        assert client.get(url).status_code == 404, name
    listing = client.get(reverse("directory:endpoint_list")).content.decode()
    assert commune_endpoint.name in listing
    assert other_endpoint.name not in listing
    # Searching for it by name does not find it either.
    found = client.get(reverse("directory:endpoint_list") + "?q=CamNghia").content.decode()
    assert other_endpoint.name not in found


def test_technician_sees_only_own_commune(client, users, commune_endpoint, other_endpoint,
                                         kh_tree):
    district_endpoint = EndpointFactory(agency=kh_tree.district, name="UBND.Nha Trang")
    login(client, users[Role.TECHNICIAN])
    listing = client.get(reverse("directory:endpoint_list")).content.decode()
    assert commune_endpoint.name in listing
    assert district_endpoint.name not in listing and other_endpoint.name not in listing
    assert client.get(
        reverse("directory:endpoint_detail", args=[district_endpoint.pk])
    ).status_code == 404


def test_agency_page_lists_only_visible_endpoints(client, district_office, kh_tree,
                                                  other_endpoint):
    login(client, district_office)
    page = client.get(reverse("directory:agency_detail", args=[kh_tree.other_commune.pk]))
    assert page.status_code == 200  # the organisation chart is public to signed-in users
    assert other_endpoint.name not in page.content.decode()
    assert page.context["may_register"] is False
    own = client.get(reverse("directory:agency_detail", args=[kh_tree.commune.pk]))
    assert own.context["may_register"] is True
    assert own.context["allowed"] == 1 and own.context["used"] == 0


def tree_names(response):
    """The agencies shown in the tree, and which of them matched the filter."""
    shown, matched = [], []

    def walk(groups):
        for group in groups:
            for node in group.nodes:
                shown.append(node.agency.name)
                if node.matched:
                    matched.append(node.agency.name)
                walk(node.groups)

    walk(response.context["groups"])
    return shown, matched


def test_agency_tree_filters_by_text_without_accents_and_by_level(client, operator, kh_tree):
    login(client, operator)
    everything, _ = tree_names(client.get(reverse("directory:agency_list")))
    assert len(everything) == 6
    page = client.get(reverse("directory:agency_list") + "?q=xuong huan")
    shown, matched = tree_names(page)
    assert matched == ["UBND phường Xương Huân"]
    # Its ancestors stay, to show where it is.
    assert shown == ["UBND tỉnh Khánh Hòa", "UBND thành phố Nha Trang", "UBND phường Xương Huân"]
    assert "<mark>UBND phường Xương Huân</mark>" in page.content.decode()
    by_level = client.get(reverse("directory:agency_list") + "?level=district")
    shown, matched = tree_names(by_level)
    assert sorted(matched) == ["UBND thành phố Cam Ranh", "UBND thành phố Nha Trang"]
    assert "Sở Thông tin và Truyền thông" not in shown
    # Children are grouped under the rulebook's level labels, highest level first.
    labels = [group.label for group in by_level.context["groups"][0].nodes[0].groups]
    assert labels == ["District (district, town and city People's Committees)"]
    full = client.get(reverse("directory:agency_list"))
    under_province = [g.label for g in full.context["groups"][0].nodes[0].groups]
    assert under_province == ["Province (departments, boards, sectors)",
                              "District (district, town and city People's Committees)"]


# ---------------------------------------------------------------- register and edit


def test_register_wrong_name_shows_article_on_the_name_field(client, district_office, kh_tree):
    login(client, district_office)
    response = client.post(reverse("directory:endpoint_create"),
                           form_data(kh_tree.commune, "NT.Xuong Huan"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "name" in errors
    assert errors["name"][0].startswith("Điều 6.4d Quy chế KH: ")  # a commune: point d
    assert "NT.XuongHuan" in errors["name"][0]  # the right name is suggested
    assert "Điều 6.4 Quy chế KH" in response.content.decode()
    assert not Endpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="endpoint.register").exists()


def test_register_good_name_redirects_and_lists_it(client, district_office, kh_tree):
    login(client, district_office)
    response = client.post(reverse("directory:endpoint_create"),
                           form_data(kh_tree.commune, "NT.XuongHuan"))
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:endpoint_detail", args=[endpoint.pk])
    assert endpoint.status == EndpointStatus.PENDING and endpoint.registered_by == district_office
    assert AuditEvent.objects.filter(action="endpoint.register", object_id=str(endpoint.pk))
    assert "NT.XuongHuan" in client.get(reverse("directory:endpoint_list")).content.decode()


def test_bandwidth_and_quota_violations_name_their_articles(client, district_office, kh_tree,
                                                           commune_endpoint):
    login(client, district_office)
    slow = client.post(reverse("directory:endpoint_create"),
                       form_data(kh_tree.district, "UBND.Nha Trang", bandwidth_mbps="2"))
    assert slow.context["form"].errors["bandwidth_mbps"][0].startswith("Điều 6.3a Quy chế KH: ")
    # KH Đ8: one endpoint per commune; the ward already has one.
    over = client.post(reverse("directory:endpoint_create"),
                       form_data(kh_tree.commune, "NT.XuongHuan.01"))
    # KH Đ8 khoản 4: a commune's one room.
    assert over.context["form"].errors["agency"][0].startswith("Điều 8.4 Quy chế KH: ")
    assert Endpoint.objects.count() == 1


def test_invalid_input_is_shown_per_field(client, district_office, kh_tree):
    login(client, district_office)
    response = client.post(reverse("directory:endpoint_create"),
                           form_data(kh_tree.commune, "NT.XuongHuan", vcs_ip=""))
    assert "vcs_ip" in response.context["form"].errors  # the MCU must be able to dial it
    assert not Endpoint.objects.exists()


def test_agency_choice_is_limited_to_where_the_user_may_register(client, district_office,
                                                                kh_tree):
    login(client, district_office)
    form = client.get(reverse("directory:endpoint_create")).context["form"]
    choices = set(form.fields["agency"].queryset)
    assert choices == {kh_tree.district, kh_tree.commune}
    response = client.post(reverse("directory:endpoint_create"),
                           form_data(kh_tree.other_commune, "CR.CamNghia"))
    assert "agency" in response.context["form"].errors
    assert not Endpoint.objects.exists()


def test_form_shows_naming_rule_and_bandwidth_minimums(client, district_office, kh_tree):
    login(client, district_office)
    page = client.get(reverse("directory:endpoint_create") + f"?agency={kh_tree.commune.pk}")
    html = page.content.decode()
    assert "Điều 6.4 Quy chế KH" in html and "Điều 6.3 Quy chế KH" in html
    assert "≥ 4 Mbps" in html and "≥ 20 Mbps" in html
    assert page.context["suggestion"]["suggested_name"] == "NT.XuongHuan"
    assert 'hx-get="' + reverse("directory:name_suggestion") in html


def test_name_suggestion_fragment(client, district_office, kh_tree, other_endpoint):
    login(client, district_office)
    url = reverse("directory:name_suggestion")
    response = client.get(url, {"agency": kh_tree.commune.pk})
    assert response.status_code == 200
    assert "NT.XuongHuan" in response.content.decode()
    assert "<html" not in response.content.decode()  # a fragment for htmx
    EndpointFactory(agency=kh_tree.district, name="UBND.Nha Trang")
    taken = client.get(url, {"agency": kh_tree.district.pk}).content.decode()
    assert "UBND.Nha Trang.01" in taken  # the next free device number
    outside = client.get(url, {"agency": kh_tree.other_commune.pk}).content.decode()
    assert "CR.CamNghia" not in outside


def test_edit_endpoint(client, district_office, commune_endpoint):
    login(client, district_office)
    url = reverse("directory:endpoint_edit", args=[commune_endpoint.pk])
    assert client.get(url).context["form"]["name"].value() == "NT.XuongHuan"
    data = form_data(commune_endpoint.agency, "NT.XuongHuan", location="Phòng mới")
    assert client.post(url, data).status_code == 302
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.location == "Phòng mới"
    bad = client.post(url, form_data(commune_endpoint.agency, "XuongHuan"))
    assert bad.context["form"].errors["name"][0].startswith("Điều 6.4d Quy chế KH")


# ---------------------------------------------------------------- admission


def test_detail_offers_only_allowed_actions(client, users, commune_endpoint):
    url = reverse("directory:endpoint_detail", args=[commune_endpoint.pk])
    evaluate = reverse("directory:endpoint_evaluate", args=[commune_endpoint.pk])
    operator_page = login(client, users[Role.OPERATOR]).get(url)
    assert evaluate in operator_page.content.decode()
    office_page = login(client, users[Role.OFFICE]).get(url)
    assert evaluate not in office_page.content.decode()
    assert office_page.context["actions"]["edit"] is True
    auditor_page = login(client, users[Role.AUDITOR]).get(url)
    assert not auditor_page.context["any_action"]
    # The office may not evaluate even by typing the address.
    assert login(client, users[Role.OFFICE]).get(evaluate).status_code == 403
    assert login(client, users[Role.OFFICE]).post(evaluate, {"room_ok": "on"}).status_code == 403


def test_evaluate_with_checklist(client, operator, commune_endpoint):
    login(client, operator)
    url = reverse("directory:endpoint_evaluate", args=[commune_endpoint.pk])
    page = client.get(url).content.decode()
    assert "Điều 6.1" in page  # the room standard items, with their articles
    # One box per item of the rulebook's room standard (KH Đ6.1–6.4, Đ10.2b).
    keys = [item.key for item in active_rulebook().room_standard.items]
    assert all(f'name="item_{key}"' in page for key in keys)
    almost = {f"item_{key}": "on" for key in keys if key != "power"}
    response = client.post(url, {**almost, "remarks": "Thiếu nguồn dự phòng"})
    assert response.status_code == 302
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.REJECTED
    # The laptop (KH Đ10.2b) is asked only for control rights: without it the room passes.
    client.post(url, {f"item_{key}": "on" for key in keys if key != "control_laptop"})
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.EVALUATED
    assert not commune_endpoint.meets_control_requirements
    detail = client.get(reverse("directory:endpoint_detail", args=[commune_endpoint.pk]))
    assert len(detail.context["evaluations"]) == 2
    body = detail.content.decode()
    assert "Điều 6.2" in body and "Điều 10.2b" in body  # each answer with its article


def test_approve_shows_the_password_once(client, operator, commune_endpoint):
    admit(commune_endpoint, operator)
    login(client, operator)
    url = reverse("directory:endpoint_approve", args=[commune_endpoint.pk])
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 200
    password = response.context["password"]
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.APPROVED
    assert check_password(password, commune_endpoint.account_password_hash)
    html = response.content.decode()
    assert html.count(password) == 1
    assert "only once" in html
    assert "no-store" in response["Cache-Control"]
    # Never again: not on the endpoint page, not by posting again.
    detail = client.get(reverse("directory:endpoint_detail", args=[commune_endpoint.pk]))
    assert password not in detail.content.decode()
    again = client.post(url, follow=True)
    assert password not in again.content.decode()
    assert "password" not in (again.context or {}) or again.context.get("password") is None
    assert AuditEvent.objects.filter(action="endpoint.approve").count() == 1
    assert password not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_approve_without_contacts_cites_the_article(client, operator, commune_endpoint):
    admit(commune_endpoint, operator, contacts=False)
    login(client, operator)
    response = client.post(reverse("directory:endpoint_approve", args=[commune_endpoint.pk]))
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors and errors[0].startswith("Điều 19.3 Quy chế KH: ")
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.EVALUATED
    assert not commune_endpoint.account_password_hash


def test_invalid_transition_is_a_message(client, operator, commune_endpoint):
    login(client, operator)  # still pending: cannot be approved yet
    response = client.post(reverse("directory:endpoint_approve", args=[commune_endpoint.pk]),
                           follow=True)
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("Pending evaluation" in t or "Chờ" in t for t in texts)
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.PENDING


def test_suspend_needs_a_reason_then_reinstate(client, operator, commune_endpoint):
    admit(commune_endpoint, operator)
    services.approve_endpoint(commune_endpoint, actor=operator)
    login(client, operator)
    url = reverse("directory:endpoint_suspend", args=[commune_endpoint.pk])
    empty = client.post(url, {"reason": "  "})
    assert "reason" in empty.context["form"].errors
    assert client.post(url, {"reason": "Đường truyền không ổn định"}).status_code == 302
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.SUSPENDED
    detail = client.get(reverse("directory:endpoint_detail", args=[commune_endpoint.pk]))
    assert "Đường truyền không ổn định" in detail.content.decode()
    assert detail.context["actions"]["reinstate"]
    client.post(reverse("directory:endpoint_reinstate", args=[commune_endpoint.pk]))
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.status == EndpointStatus.APPROVED


def test_report_repair_and_security_check(client, operator, district_office, commune_endpoint):
    login(client, district_office)
    repair = reverse("directory:endpoint_repair", args=[commune_endpoint.pk])
    assert client.post(repair, {"note": "Thay camera"}).status_code == 302
    commune_endpoint.refresh_from_db()
    assert commune_endpoint.security_check_due
    check = reverse("directory:endpoint_security_check", args=[commune_endpoint.pk])
    assert client.get(check).status_code == 403  # only the operator records police checks
    login(client, operator)
    future = timezone.localdate() + dt.timedelta(days=3)
    late = client.post(check, {"reason": "repaired", "result": "passed",
                               "checked_on": future.isoformat()})
    assert "checked_on" in late.context["form"].errors
    ok = client.post(check, {"reason": "repaired", "result": "passed",
                             "checked_on": timezone.localdate().isoformat(),
                             "police_reference": "BB-12/CA"})
    assert ok.status_code == 302
    commune_endpoint.refresh_from_db()
    assert not commune_endpoint.security_check_due


# ---------------------------------------------------------------- contacts


def test_set_replace_and_end_contacts(client, district_office, commune_endpoint):
    login(client, district_office)
    url = reverse("directory:contact_set", args=[commune_endpoint.pk])
    assert client.get(url + "?role=technician").context["form"]["role"].value() == "technician"
    bad = client.post(url, {"role": "technician", "full_name": "Lê Văn A", "phone": "12345"})
    assert "phone" in bad.context["form"].errors
    assert not Contact.objects.exists()
    client.post(url, {"role": "technician", "full_name": "Lê Văn A", "phone": "0912 345 678"})
    client.post(url, {"role": "technician", "full_name": "Trần Văn B", "phone": "0987654321",
                      "change_reason": "Chuyển công tác"})
    current = Contact.objects.get(active_until__isnull=True)
    assert current.full_name == "Trần Văn B"
    detail = client.get(reverse("directory:endpoint_detail", args=[commune_endpoint.pk]))
    assert [c.full_name for c in detail.context["past_contacts"]] == ["Lê Văn A"]
    end = reverse("directory:contact_end", args=[current.pk])
    assert "reason" in client.post(end, {"reason": ""}).context["form"].errors
    assert client.post(end, {"reason": "Nghỉ hưu"}).status_code == 302
    assert not Contact.objects.filter(active_until__isnull=True).exists()


def test_contact_of_other_district_is_404(client, district_office, other_endpoint):
    contact = ContactFactory(endpoint=other_endpoint)
    login(client, district_office)
    assert client.get(reverse("directory:contact_end", args=[contact.pk])).status_code == 404
    assert client.get(
        reverse("directory:contact_set", args=[other_endpoint.pk])
    ).status_code == 404


# ---------------------------------------------------------------- quota exceptions


def test_quota_exception(client, operator, district_office, kh_tree, commune_endpoint):
    url = reverse("directory:quota_exception_create", args=[kh_tree.commune.pk])
    assert login(client, district_office).get(url).status_code == 403
    login(client, operator)
    page = client.get(url).content.decode()
    assert "Điều 8 (đoạn cuối) Quy chế KH" in page
    missing = client.post(url, {"extra_endpoints": "1", "decided_on": "2026-01-05",
                                "decision_reference": ""})
    assert "decision_reference" in missing.context["form"].errors
    ok = client.post(url, {"extra_endpoints": "1", "decided_on": "2026-01-05",
                           "decision_reference": "CV 123/UBND-KT"})
    assert ok.status_code == 302
    assert QuotaException.objects.get().decision_reference == "CV 123/UBND-KT"
    detail = client.get(reverse("directory:agency_detail", args=[kh_tree.commune.pk]))
    assert detail.context["allowed"] == 2
    assert "CV 123/UBND-KT" in detail.content.decode()


# ---------------------------------------------------------------- lists and dashboard


def test_endpoint_list_filters_and_pages(client, operator, kh_tree):
    for number in range(30):
        EndpointFactory(agency=kh_tree.department, name=f"So.TTTT.{number + 1:02d}",
                        network=Network.WAN)
    EndpointFactory(agency=kh_tree.commune, name="NT.XuongHuan", network=Network.INTERNET,
                    bandwidth_mbps=Decimal("25"), status=EndpointStatus.APPROVED)
    login(client, operator)
    first = client.get(reverse("directory:endpoint_list"))
    assert first.context["page_obj"].paginator.count == 31
    assert len(first.context["page_obj"]) == 25
    second = client.get(reverse("directory:endpoint_list") + "?network=wan&page=2")
    assert second.context["page_obj"].number == 2 and len(second.context["page_obj"]) == 5
    assert "network=wan&amp;page=1" in second.content.decode()  # links keep the filter
    approved = client.get(reverse("directory:endpoint_list") + "?status=approved")
    assert [e.name for e in approved.context["page_obj"]] == ["NT.XuongHuan"]
    by_agency = client.get(reverse("directory:endpoint_list") + f"?agency={kh_tree.district.pk}")
    assert [e.name for e in by_agency.context["page_obj"]] == ["NT.XuongHuan"]
    by_text = client.get(reverse("directory:endpoint_list") + "?q=Xuong")
    assert [e.name for e in by_text.context["page_obj"]] == ["NT.XuongHuan"]


def test_dashboard_counts_are_scoped(client, users, commune_endpoint, other_endpoint):
    operator_page = login(client, users[Role.OPERATOR]).get(reverse("dashboard"))
    assert operator_page.context["total"] == 2
    assert {e.name for e in operator_page.context["pending"]} == {"NT.XuongHuan", "CR.CamNghia"}
    office_page = login(client, users[Role.OFFICE]).get(reverse("dashboard"))
    assert office_page.context["total"] == 1
    assert "pending" not in office_page.context
    assert [e.name for e in office_page.context["missing_contacts"]] == ["NT.XuongHuan"]


def test_dong_nai_dashboard_lists_security_checks_due(client, use_rulebook, users,
                                                     commune_endpoint):
    use_rulebook("dong-nai-2025")  # ĐN Đ8.3c: police check before use
    page = login(client, users[Role.OPERATOR]).get(reverse("dashboard"))
    assert [e.name for e in page.context["security_due"]] == ["NT.XuongHuan"]
    assert "Điều 8.3c" in page.content.decode()


def test_pages_under_the_dong_nai_rulebook(client, use_rulebook, users, kh_tree,
                                          commune_endpoint):
    """ĐN has no naming rule and requires the police security check before use."""
    use_rulebook("dong-nai-2025")
    operator = users[Role.OPERATOR]
    login(client, operator)
    form = client.get(reverse("directory:endpoint_create") + f"?agency={kh_tree.department.pk}")
    assert form.status_code == 200
    assert "Quy chế ĐN" in form.content.decode()
    admit(commune_endpoint, operator)
    approve = client.get(reverse("directory:endpoint_approve", args=[commune_endpoint.pk]))
    labels = [item["label"] for item in approve.context["readiness"]]
    assert "Security check passed" in labels
    refused = client.post(reverse("directory:endpoint_approve", args=[commune_endpoint.pk]))
    assert refused.context["form"].non_field_errors()[0].startswith("Điều 8.3c")
    for url in [reverse("dashboard"), reverse("directory:agency_list"),
                reverse("directory:endpoint_detail", args=[commune_endpoint.pk]),
                reverse("directory:endpoint_security_check", args=[commune_endpoint.pk])]:
        assert client.get(url).status_code == 200, url


def test_language_switch(client, district_office):
    login(client, district_office)
    assert client.get(reverse("dashboard")).context["LANGUAGE_CODE"] == "en"
    client.post(reverse("set_language"), {"language": "vi", "next": reverse("dashboard")})
    page = client.get(reverse("dashboard"))  # the chosen language beats the browser's
    assert page.context["LANGUAGE_CODE"] == "vi"
    assert '<html lang="vi">' in page.content.decode()
