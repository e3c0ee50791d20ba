"""The exports read back: the PDF's text with pdftotext (poppler-utils), the XLSX with
openpyxl, the CSV with the csv module — each against the hand-counted half-year."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from django.utils import translation
from openpyxl import load_workbook

from diemcau.reports import figures, periods
from diemcau.reports.basis import Basis
from diemcau.reports.exports import csv_tables, pdf, xlsx
from diemcau.reports.presentation import present
from diemcau.reports.scope import ReportScope
from diemcau.reports.services import letterhead

H1 = periods.parse("2025-H1")


@pytest.fixture
def presented(half_year):  # type: ignore[no-untyped-def]
    basis = Basis(H1, ReportScope.for_user(half_year.operator), user=half_year.operator)
    data = figures.compute(basis)
    with translation.override("vi"):
        return basis, present(data)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_pdf_reads_as_an_official_report(presented, tmp_path):  # type: ignore[no-untyped-def]
    import datetime as dt

    basis, report = presented
    head = letterhead(basis, None, "15", dt.date(2025, 7, 3))
    with translation.override("vi"):
        content = pdf.document(report, head, [("SHA-256", "abc")])
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    def read(*options: str) -> str:
        return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True,
                              text=True, check=True).stdout

    flat = " ".join(read().split())  # in reading order
    text = read("-layout")  # the tables' rows on their lines
    # Nghị định 30/2020: the national title and motto, the issuer under its superior, the
    # number and symbol, place and date, the kind of document, the recipients, the signer.
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "UBND TỈNH KHÁNH HÒA", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
                     "Số: 15/BC-STTTT", "Khánh Hòa, ngày 03 tháng 7 năm 2025", "BÁO CÁO",
                     "Nơi nhận:", "UBND tỉnh Khánh Hòa (để báo cáo);", "Lưu: VT.",
                     "GIÁM ĐỐC", "Căn cứ Điều 17.2d Quy chế KH"):
        assert expected in flat, expected
    # The figures, this period beside the previous one, in Vietnamese number format.
    assert "Kỳ này Kỳ trước" in flat
    outcome_total = [line for line in text.splitlines() if line.strip().startswith("Tổng")
                     or line.strip().startswith("Total")]
    assert any(line.split()[-2:] == ["9", "2"] for line in outcome_total)
    assert "6,5" in flat  # hours of MCU use: a decimal comma
    assert "Điều 12.4a Quy chế KH" in flat  # the refusal's article
    assert "Phụ lục" not in flat or "Kèm theo" in flat
    info = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "Liberation" in info or "DejaVu" in info


def test_the_xlsx_has_a_sheet_per_table_with_frozen_headers_and_totals(presented):  # type: ignore[no-untyped-def]
    _, report = presented
    with translation.override("vi"):
        book = load_workbook(io.BytesIO(xlsx.workbook(report)))
    assert len(book.sheetnames) == 1 + len(report.tables)
    by_level = book[book.sheetnames[1 + [t.key for t in report.tables].index(
        "meetings-by-level")]]
    assert by_level.freeze_panes == "B5"
    header = [c.value for c in by_level[4]]
    assert header[1].endswith(f"({report.period_label})")
    assert header[2].endswith(f"({report.previous_label})")
    rows = {row[0].value: [c.value for c in row[1:]] for row in by_level.iter_rows(min_row=5)
            if row[0].value}
    total = rows[report.table("meetings-by-level").total.label]
    assert total[:2] == [9, 2]  # meetings, this period and the previous
    assert total[-2:] == [6.5, 2.0]  # hours of MCU use
    assert by_level.cell(5 + len(report.table("meetings-by-level").rows), 1).font.bold
    attendance = book[book.sheetnames[1 + [t.key for t in report.tables].index("attendance")]]
    names = [row[0].value for row in attendance.iter_rows(min_row=5) if row[0].value]
    assert "NT.XuongHuan" in names
    after = names[names.index("NT.XuongHuan") + 1:]
    assert after.count(report.table("attendance").total.label) == 1


def test_csv_cells_that_would_be_formulas_are_text(half_year):  # type: ignore[no-untyped-def]
    half_year.ep_commune.name = "=HYPERLINK(\"http://x\")"
    half_year.ep_commune.save()
    basis = Basis(H1, ReportScope.for_user(half_year.operator), user=half_year.operator)
    report = present(figures.compute(basis))
    content = csv_tables.table_csv(report.table("attendance"), report).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][0] == report.table("attendance").label_title
    names = [row[0] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert all(not name.startswith(("=", "+", "-", "@")) for name in names)
    total = rows[-1]
    assert total[2:4] == ["9", "2"]  # invited, this period and the previous
