"""REST API of the reports under /api/v1/reports (R21; KH Đ19.5: figures given on request).

The figures of a period and a scope as the page shows them (the raw figures and the same
tables), the stored reports with their hashes, versions and files, and storing one or making
it again (done by the worker: 202, the caller is told when it is ready). What the caller may
see is the report page's rule (`scope`, `permissions`): a scope beyond theirs is 403, a
stored report outside it 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Query, Router, Schema, Status

from diemcau.core.api_errors import responses
from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import User

from . import figures, params, tasks
from .models import Report
from .permissions import reports_visible_to
from .presentation import Presented, present
from .scope import ReportScope, may_make_reports

router = Router(tags=["reports"])


class ReportQuery(Schema):
    period: str = ""  # "2025-H1", "2025", "2025-Q3", "2025-07", "2025-01-01..2025-03-31"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    level: str = ""
    agency: int | None = None


class ColumnOut(Schema):
    key: str
    title: str
    kind: str
    compare: bool


class CellOut(Schema):
    value: Any = None
    previous: Any = None
    link: str = ""
    link_previous: str = ""


class RowOut(Schema):
    label: str
    cells: list[CellOut]
    is_total: bool


class TableOut(Schema):
    key: str
    section: str
    title: str
    label_title: str
    note: str
    columns: list[ColumnOut]
    rows: list[RowOut]


class FiguresOut(Schema):
    title: str
    period_label: str
    previous_label: str
    scope_label: str
    figures: dict[str, Any]
    tables: list[TableOut]


class StoredOut(Schema):
    id: int
    kind: str
    period_first: dt.date
    period_last: dt.date
    period_months: int
    agency_id: int | None
    with_units: bool
    level: str
    scope_label: str
    version: int
    supersedes_id: int | None
    document_number: str
    data_sha256: str
    pdf_sha256: str
    xlsx_sha256: str
    created_at: dt.datetime
    pdf_url: str
    xlsx_url: str


class StoredDetailOut(StoredOut):
    figures: dict[str, Any]


class MakeIn(Schema):
    period: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    level: str = ""
    agency: int | None = None
    document_number: str = ""


class QueuedOut(Schema):
    detail: str


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _query(data: ReportQuery | MakeIn) -> dict[str, str]:
    query = {"period": data.period, "level": data.level,
             "agency": str(data.agency) if data.agency else ""}
    if data.date_from or data.date_to:
        query["from"] = data.date_from.isoformat() if data.date_from else ""
        query["to"] = data.date_to.isoformat() if data.date_to else ""
    return query


def _basis(request: HttpRequest, data: ReportQuery | MakeIn) -> Any:
    try:
        return params.read_basis(_user(request), _query(data))
    except params.BadParameters as exc:
        raise InvalidInput({"period": [str(exc)]}) from exc


def _tables(report: Presented) -> list[dict[str, Any]]:
    return [
        {"key": t.key, "section": s.key, "title": t.title, "label_title": t.label_title,
         "note": t.note, "columns": t.columns,
         "rows": [{"label": r.label, "cells": r.cells, "is_total": r.is_total}
                  for r in t.all_rows()]}
        for s in report.sections for t in s.tables
    ]


@router.get("/reports/figures", response=responses({200: FiguresOut}))
def report_figures(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    """The figures of a period and scope, each with the previous period's beside it, and the
    tables the page shows (`link` is the page's query for the rows behind a figure)."""
    basis = _basis(request, query)
    data = figures.compute(basis)
    report = present(data, params.link_base(basis))
    return {"title": report.title, "period_label": report.period_label,
            "previous_label": report.previous_label, "scope_label": report.scope_label,
            "figures": data, "tables": _tables(report)}


def _stored_out(report: Report, detail: bool = False) -> dict[str, Any]:
    out = {field: getattr(report, field) for field in StoredOut.model_fields
           if field not in ("pdf_url", "xlsx_url")}
    out["pdf_url"] = reverse("api:report_file", kwargs={"report_id": report.pk, "kind": "pdf"})
    out["xlsx_url"] = reverse("api:report_file", kwargs={"report_id": report.pk, "kind": "xlsx"})
    if detail:
        out["figures"] = report.data
    return out


@router.get("/reports", response=responses({200: list[StoredOut]}))
def stored_reports(request: HttpRequest) -> list[dict[str, Any]]:
    """Stored reports the caller may read, newest period first (each version a row)."""
    return [_stored_out(r) for r in reports_visible_to(_user(request))[:200]]


@router.post("/reports", response=responses({202: QueuedOut}))
def store_report(request: HttpRequest, payload: MakeIn) -> Status[Any]:
    """Store the report of a period and scope (figures, XLSX and PDF with their SHA-256).
    The worker makes it and tells the caller; it then appears in GET /reports."""
    user = _user(request)
    basis = _basis(request, payload)
    if not may_make_reports(user) or not basis.scope.allowed_for(user, basis.rulebook):
        raise PermissionDenied("store_report", "You may not store reports on this scope.")
    if len(payload.document_number.strip()) > 40:
        raise InvalidInput({"document_number": ["At most 40 characters."]})
    tasks.make_report_task(basis.period.key,
                           basis.scope.agency.pk if basis.scope.agency else None,
                           basis.scope.with_units, basis.scope.level, user.pk,
                           payload.document_number.strip())
    return Status(202, {"detail": "queued"})


@router.get("/reports/{int:report_id}", response=responses({200: StoredDetailOut}))
def stored_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    report = get_object_or_404(reports_visible_to(_user(request)), pk=report_id)
    return _stored_out(report, detail=True)


@router.post("/reports/{int:report_id}/regenerate", response=responses({202: QueuedOut}))
def regenerate(request: HttpRequest, report_id: int) -> Status[Any]:
    """Make a stored report again from today's data: a new version; the old one stays."""
    user = _user(request)
    report = get_object_or_404(reports_visible_to(user), pk=report_id)
    scope = ReportScope(report.agency, report.with_units, report.level)
    if not may_make_reports(user) or not scope.allowed_for(user):
        raise PermissionDenied("store_report", "You may not make this report again.")
    tasks.regenerate_report_task(report.pk, user.pk)
    return Status(202, {"detail": "queued"})


@router.get("/reports/{int:report_id}/{kind}", url_name="report_file",
            response=responses({200: None}))
def report_file(request: HttpRequest, report_id: int, kind: str) -> FileResponse:
    """The stored PDF (`pdf`) or XLSX (`xlsx`), as made."""
    report = get_object_or_404(reports_visible_to(_user(request)), pk=report_id)
    field = {"pdf": report.pdf, "xlsx": report.xlsx}.get(kind)
    if not field:
        from django.http import Http404

        raise Http404("No such file.")
    return FileResponse(field.open("rb"), as_attachment=True,
                        filename=f"bao-cao-{report.pk}-v{report.version}.{kind}")
