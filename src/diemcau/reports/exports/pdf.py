"""The report as a PDF in the form of a Vietnamese administrative report (R21; Nghị định
30/2020/NĐ-CP on official documents, Appendix I): the issuing agency under its superior and
the national title side by side, the number and symbol, place and date, the title "BÁO CÁO"
with its subject, the body, the recipients ("Nơi nhận") and the signer's block; A4 with the
decree's margins, in a Times New Roman–compatible font with Vietnamese (Debian's
fonts-liberation2), page numbers at the top from the second page. Drawn by WeasyPrint, the
charts as SVG. Always in Vietnamese: it is the document sent to the province.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import translation

from ..presentation import Presented


@dataclass
class Letterhead:
    """What the top and the bottom of the document say."""

    superior: str  # "UBND TỈNH KHÁNH HÒA": the body the issuer belongs to
    issuer: str  # "Sở Thông tin và Truyền thông" (printed in capitals at the top)
    symbol: str  # "BC-STTTT"
    place: str  # "Khánh Hòa"
    day: dt.date
    number: str = ""  # given by the issuer's document office when it is signed
    recipients: list[str] = field(default_factory=list)
    signer_title: str = "GIÁM ĐỐC"
    grounds: list[str] = field(default_factory=list)  # the articles the report answers

    @property
    def date_line(self) -> str:
        """"Khánh Hòa, ngày 05 tháng 01 năm 2026": a day under 10 and the months January and
        February with a leading zero (NĐ 30/2020, Appendix I)."""
        month = f"{self.day.month:02d}" if self.day.month < 3 else str(self.day.month)
        return f"{self.place}, ngày {self.day.day:02d} tháng {month} năm {self.day.year}"

    @property
    def number_line(self) -> str:
        return f"Số: {self.number or chr(0xA0) * 8}/{self.symbol}"


# Tables longer than this go to the appendix at the end, in a smaller type.
APPENDIX_ROWS = 12


ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def layout(report: Presented) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The body's sections (numbered I, II…; their tables 1, 2…) and the appendix: a table
    longer than APPENDIX_ROWS is referred to in the body and printed after the signature."""
    body: list[dict[str, object]] = []
    appendix: list[dict[str, object]] = []
    for index, section in enumerate(report.sections):
        tables = []
        for number, table in enumerate(section.tables, start=1):
            entry: dict[str, object] = {"table": table, "number": number, "appendix": 0}
            if len(table.rows) > APPENDIX_ROWS:
                appendix.append({"table": table, "number": len(appendix) + 1})
                entry["appendix"] = len(appendix)
            tables.append(entry)
        body.append({"section": section, "roman": ROMAN[index], "tables": tables})
    return body, appendix


def html(report: Presented, letterhead: Letterhead, facts: list[tuple[str, str]]) -> str:
    body, appendix = layout(report)
    with translation.override("vi"):
        return render_to_string("reports/pdf.html", {
            "report": report, "head": letterhead, "facts": facts, "body": body,
            "appendix": appendix,
        })


def document(report: Presented, letterhead: Letterhead,
             facts: list[tuple[str, str]] | None = None) -> bytes:
    """The PDF's bytes. `report` must have been presented in Vietnamese."""
    from weasyprint import HTML

    return HTML(string=html(report, letterhead, facts or [])).write_pdf()  # type: ignore[no-any-return]
