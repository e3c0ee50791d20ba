"""Text as people type it: NFC on input, search without case or accents on both databases,
no hidden characters in names and titles, and CSV cells that cannot start a formula."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from diemcau.core import csv_cells
from diemcau.core.api_auth import generate_token
from diemcau.core.models import ApiToken
from diemcau.core.roles import Role
from diemcau.core.text import fold, hidden_characters, nfc
from diemcau.directory.choices import AgencyKind
from diemcau.directory.models import Agency, Endpoint
from diemcau.testing.factories import AgencyFactory, EndpointFactory, UserFactory

KHANH_HOA = "Khánh Hòa"
DECOMPOSED = unicodedata.normalize("NFD", KHANH_HOA)


def token_client(client, user):
    raw, prefix, key_hash = generate_token()
    ApiToken.objects.create(user=user, name="t", prefix=prefix, key_hash=key_hash)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


# ---------------------------------------------------------------- the functions


def test_fold_removes_case_and_every_vietnamese_mark():
    assert DECOMPOSED != KHANH_HOA
    assert fold(KHANH_HOA) == fold(DECOMPOSED) == fold("KHÁNH HÒA") == "khanh hoa"
    assert fold("Đồng Nai") == fold("đồng nai") == "dong nai"
    assert fold("Ủy ban nhân dân phường Xương Huân") == "uy ban nhan dan phuong xuong huan"
    # Old and new tone placement ("Hòa"/"Hoà") fold alike.
    assert fold("Thanh Hoà") == fold("Thanh Hòa")


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệ"
                        "íìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ ĐÂĂÊÔƠƯÁÀẢÃẠ"))
def test_fold_does_not_depend_on_the_unicode_form(text):
    assert fold(unicodedata.normalize("NFD", text)) == fold(nfc(text))
    assert fold(text).isascii()


def test_hidden_characters_are_found_by_code_point():
    assert hidden_characters("UBND\u200b xã") == ["U+200B"]
    assert hidden_characters("abc\u202edcba\u2066") == ["U+202E", "U+2066"]
    assert hidden_characters("Hội trường tầng 2\tphòng A") == []
    assert hidden_characters(DECOMPOSED) == []  # combining marks are letters' parts


def test_csv_cells_that_could_start_a_formula_are_quoted():
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "ok", -3, 4.5])
    row = next(csv.reader(io.StringIO(out.getvalue())))
    assert row == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "ok", "-3",
                   "4.5"]


# ---------------------------------------------------------------- search, in the database


@pytest.fixture
def agencies(db):
    province = AgencyFactory(name="UBND tỉnh Khánh Hòa", abbreviation="",
                             kind=AgencyKind.PROVINCE_PEOPLE_COMMITTEE)
    AgencyFactory(name="Sở Tài chính tỉnh Khánh Hòa", abbreviation="STC", parent=province,
                  kind=AgencyKind.DEPARTMENT)
    AgencyFactory(name="Sở Xây dựng Đồng Nai", abbreviation="SXD", parent=province,
                  kind=AgencyKind.DEPARTMENT)
    # Stored decomposed (from before input was normalised): found all the same.
    AgencyFactory(name=unicodedata.normalize("NFD", "Ban Quản lý dự án Khánh Hòa"),
                  abbreviation="", parent=province, kind=AgencyKind.DEPARTMENT)
    return province


@pytest.mark.parametrize("query", ["khanh hoa", "KHÁNH HÒA", DECOMPOSED, "Khanh Hoà"])
def test_agency_search_ignores_case_and_diacritics(agencies, query):
    found = set(Agency.objects.filter(name__folded__contains=fold(query))
                .values_list("name", flat=True))
    assert {nfc(name) for name in found} == {
        "UBND tỉnh Khánh Hòa", "Sở Tài chính tỉnh Khánh Hòa", "Ban Quản lý dự án Khánh Hòa",
    }


def test_d_with_stroke_matches_d(agencies):
    for query in ("dong nai", "ĐỒNG NAI", "Đồng"):
        assert list(Agency.objects.filter(name__folded__contains=fold(query))
                    .values_list("abbreviation", flat=True)) == ["SXD"]


@pytest.mark.parametrize("query", ["khanh hoa", "KHÁNH HÒA", DECOMPOSED])
def test_the_agency_api_finds_the_same_agencies(client, agencies, query):
    token_client(client, UserFactory(role=Role.OPERATOR, agency=agencies))
    response = client.get("/api/v1/agencies", {"q": query, "limit": 50})
    assert response.status_code == 200, response.content
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    assert len(items) == 3


@pytest.mark.parametrize("query", ["phong hop tang", "PHÒNG HỌP", unicodedata.normalize(
    "NFD", "phòng họp")])
def test_the_endpoint_list_page_finds_without_accents(client, kh_tree, query):
    EndpointFactory(agency=kh_tree.commune, name="NT.XuongHuan", location="Phòng họp tầng 2")
    client.force_login(UserFactory(role=Role.OPERATOR, agency=kh_tree.department))
    page = client.get(reverse("directory:endpoint_list"), {"q": query})
    assert page.status_code == 200
    assert "NT.XuongHuan" in page.content.decode()


# ---------------------------------------------------------------- NFC on input


def test_a_decomposed_name_is_stored_composed_through_the_api(client, kh_tree):
    token_client(client, UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune))
    location = unicodedata.normalize("NFD", "Phòng họp Ủy ban")
    response = client.post("/api/v1/endpoints", json.dumps({
        "agency": kh_tree.commune.pk, "name": "NT.XuongHuan", "terminal_kind": "vcs",
        "network": "tslcd", "bandwidth_mbps": "8", "dedicated_line": True, "vcs_ip": "10.56.1.20",
        "location": location, "room_meets_standard": True,
    }), content_type="application/json")
    assert response.status_code in (200, 201), response.content
    assert Endpoint.objects.get().location == "Phòng họp Ủy ban"


def test_a_decomposed_title_is_stored_composed_through_a_form(client, kh_tree):
    office = UserFactory(role=Role.OFFICE, agency=kh_tree.district)
    client.force_login(office)
    response = client.post(reverse("directory:endpoint_create"), {
        "agency": kh_tree.commune.pk, "name": "NT.XuongHuan", "terminal_kind": "vcs",
        "network": "tslcd", "bandwidth_mbps": "8", "dedicated_line": "on", "vcs_ip": "10.56.1.20",
        "location": unicodedata.normalize("NFD", "Hội trường"), "room_meets_standard": "on",
    })
    assert response.status_code == 302, response.context["form"].errors
    assert Endpoint.objects.get().location == "Hội trường"


# ---------------------------------------------------------------- hidden characters


def test_a_name_with_a_bidi_control_is_refused_on_its_field_in_the_api(client, kh_tree):
    token_client(client, UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune))
    response = client.post("/api/v1/endpoints", json.dumps({
        "agency": kh_tree.commune.pk, "name": "NT.Xuong\u202eHuan", "terminal_kind": "vcs",
        "network": "tslcd", "bandwidth_mbps": "8", "dedicated_line": True, "vcs_ip": "10.56.1.20",
        "location": "Hội trường", "room_meets_standard": True,
    }), content_type="application/json")
    assert response.status_code == 422
    items = response.json()["detail"]
    assert any(item["loc"] == ["body", "name"] and "U+202E" in item["msg"] for item in items)
    assert not Endpoint.objects.exists()


def test_a_name_with_a_zero_width_space_is_refused_on_its_form_field(client, kh_tree):
    client.force_login(UserFactory(role=Role.OFFICE, agency=kh_tree.district))
    response = client.post(reverse("directory:endpoint_create"), {
        "agency": kh_tree.commune.pk, "name": "NT.Xuong\u200bHuan", "terminal_kind": "vcs",
        "network": "tslcd", "bandwidth_mbps": "8", "dedicated_line": "on", "vcs_ip": "10.56.1.20",
        "location": "Hội trường", "room_meets_standard": "on",
    })
    assert response.status_code == 200
    assert "U+200B" in response.context["form"].errors["name"][0]
    assert not Endpoint.objects.exists()


def test_a_meeting_title_with_hidden_characters_is_refused(kh_world):
    from diemcau.core.errors import InvalidInput
    from diemcau.scheduling.tests.test_services import meeting_input, working_day_at

    t = kh_world
    data = meeting_input(t.district, t.ep_district, [t.ep_commune], working_day_at(5, 9),
                         title="Giao ban\u2067 tuần")
    from diemcau.scheduling.services.registration import create_meeting

    with pytest.raises(InvalidInput) as refused:
        create_meeting(data, actor=t.district_office)
    assert "U+2067" in refused.value.errors["title"][0]
