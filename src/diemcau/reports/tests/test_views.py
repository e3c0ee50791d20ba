"""The report pages and API: the scope matrix (who may ask for which scope, and what it
covers), every figure's link opening exactly as many rows as the figure says, the exports'
answers, and the stored reports' access."""

from __future__ import annotations

import re
from html import unescape

import pytest

from diemcau.core.roles import Role
from diemcau.reports import periods, services
from diemcau.reports.scope import ReportScope
from diemcau.testing.factories import UserFactory

H1 = "period=2025-H1"


@pytest.fixture
def people(half_year):  # type: ignore[no-untyped-def]
    w = half_year
    w.auditor = UserFactory(role=Role.AUDITOR, agency=w.department)
    w.ward_technician = UserFactory(role=Role.TECHNICIAN, agency=w.commune)
    return w


# who, agency asked for (None: none), HTTP status, meetings this period (total row)
MATRIX = [
    ("operator", None, 200, 9),
    ("operator", "district", 200, 5),
    ("operator", "other_district", 200, 2),  # M5, M8
    ("auditor", None, 200, 9),
    ("auditor", "commune", 200, 2),
    ("district_office", None, 200, 5),  # Nha Trang and its ward (KH delegates districts)
    ("district_office", "district", 200, 5),
    ("district_office", "commune", 200, 2),
    ("district_office", "other_district", 403, None),
    ("district_office", "province", 403, None),
    ("other_office", None, 200, 2),  # Cam Ranh and Cam Nghĩa: M5, M8
    ("other_office", "district", 403, None),
    ("ward_technician", None, 200, 2),  # its own ward only
    ("ward_technician", "district", 403, None),
    ("province_office", None, 200, 1),  # UBND tỉnh, which does not reach its units in KH
    ("province_office", "department", 403, None),
]


@pytest.mark.parametrize(("who", "agency", "status", "meetings"), MATRIX)
def test_scope_matrix(client, people, who, agency, status, meetings):  # type: ignore[no-untyped-def]
    client.force_login(getattr(people, who))
    query = H1 + (f"&agency={getattr(people, agency).pk}" if agency else "")
    page = client.get(f"/reports/?{query}")
    api = client.get(f"/api/v1/reports/figures?{query}")
    assert page.status_code == status and api.status_code == status
    if status == 200:
        assert api.json()["figures"]["meetings"]["total"]["total"][0] == meetings


def test_a_level_within_the_scope(client, people):  # type: ignore[no-untyped-def]
    client.force_login(people.district_office)
    data = client.get(f"/api/v1/reports/figures?{H1}&level=commune").json()["figures"]
    assert data["meetings"]["total"]["total"] == [2, 0]  # M2 and M6, the ward's
    assert client.get(f"/api/v1/reports/figures?{H1}&level=nowhere").status_code == 422


def test_every_figure_opens_as_many_rows_as_it_counts(client, people):  # type: ignore[no-untyped-def]
    client.force_login(people.operator)
    tables = client.get(f"/api/v1/reports/figures?{H1}").json()["tables"]
    checked = 0
    for table in tables:
        for row in table["rows"]:
            for cell in row["cells"]:
                for link, value in ((cell["link"], cell["value"]),
                                    (cell["link_previous"], cell["previous"])):
                    if not link or not isinstance(value, int):
                        continue
                    if table["key"] in ("mcu-hours",) or "hours" in link:
                        continue
                    page = client.get(f"/reports/behind/?{link}")
                    assert page.status_code == 200, link
                    count = int(re.search(rb'data-behind-count>(\d+)<', page.content)[1])
                    if table["key"] in ("meetings-by-level", "meetings-by-agency",
                                        "meetings-by-type", "meetings-by-urgency") and \
                            cell is row["cells"][-1]:
                        continue  # the hours column opens the held meetings behind it
                    assert count == value, (table["key"], row["label"], unescape(link))
                    checked += 1
    assert checked > 150


def test_behind_an_endpoints_missed_meetings(client, people):  # type: ignore[no-untyped-def]
    client.force_login(people.operator)
    page = client.get(f"/reports/behind/?{H1}&endpoint={people.ep_province.pk}&attendance=missed")
    assert b"Giao ban qu\xc3\xbd I" in page.content  # M1: UBND tỉnh never connected
    client.force_login(people.district_office)  # not an endpoint of its scope: nothing
    page = client.get(f"/reports/behind/?{H1}&endpoint={people.ep_province.pk}&attendance=missed")
    assert re.search(rb"data-behind-count>0<", page.content)


def test_exports_answer_with_files(client, people):  # type: ignore[no-untyped-def]
    client.force_login(people.district_office)
    xlsx = client.get(f"/reports/export.xlsx?{H1}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    csv = client.get(f"/reports/export/meetings-outcome.csv?{H1}")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert client.get(f"/reports/export/nothing.csv?{H1}").status_code == 404
    pdf = client.get(f"/reports/export.pdf?{H1}")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert client.get(f"/reports/export.xlsx?{H1}&agency={people.other_district.pk}"
                      ).status_code == 403


def test_stored_reports_are_seen_within_the_scope(client, people):  # type: ignore[no-untyped-def]
    period = periods.parse("2025-H1")
    province = services.make_report(period, ReportScope(), actor=people.operator)
    district = services.make_report(period, ReportScope.for_user(people.district_office),
                                    actor=people.district_office)
    client.force_login(people.district_office)
    listed = {r["id"] for r in client.get("/api/v1/reports").json()}
    assert listed == {district.pk}
    assert client.get(f"/reports/stored/{province.pk}/").status_code == 404
    assert client.get(f"/api/v1/reports/{province.pk}/pdf").status_code == 404
    page = client.get(f"/reports/stored/{district.pk}/")
    assert page.status_code == 200 and district.data_sha256.encode() in page.content
    assert client.get(f"/reports/stored/{district.pk}/report.pdf").status_code == 200
    assert client.get(f"/reports/stored/{district.pk}/report.exe").status_code == 404
    client.force_login(people.operator)
    assert {r["id"] for r in client.get("/api/v1/reports").json()} == {province.pk, district.pk}
    detail = client.get(f"/api/v1/reports/{province.pk}").json()
    assert detail["figures"]["meetings"]["total"]["total"] == [9, 2]
    assert detail["pdf_sha256"] == province.pdf_sha256


def test_storing_and_making_again_through_the_api(client, people):  # type: ignore[no-untyped-def]
    client.force_login(people.operator)
    answer = client.post("/api/v1/reports", {"period": "2025-H1", "document_number": "7"},
                         content_type="application/json")
    assert answer.status_code == 202
    first = client.get("/api/v1/reports").json()[0]
    assert first["version"] == 1 and first["document_number"] == "7"
    assert client.post(f"/api/v1/reports/{first['id']}/regenerate").status_code == 202
    versions = sorted(r["version"] for r in client.get("/api/v1/reports").json())
    assert versions == [1, 2]
    client.force_login(people.auditor)
    assert client.post("/api/v1/reports", {"period": "2025-H1"},
                       content_type="application/json").status_code == 403
