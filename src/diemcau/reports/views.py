"""The report pages (R21): the figures of a period and scope with their charts and filters,
the rows behind each figure, the exports (XLSX, PDF, a CSV per table), and the stored
reports with their versions. Every page starts from what the reader may see (`params`,
`scope`), so the figures, their lists and the exports agree."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import User
from diemcau.rulebooks import active_rulebook
from diemcau.ui.pagination import paginate

from . import figures, params, selectors, tasks
from .basis import Basis
from .exports import csv_tables, pdf, xlsx
from .models import Report
from .permissions import reports_visible_to
from .presentation import Presented, present
from .scope import agencies_to_choose, may_make_reports, may_view_reports

ROWS_PER_PAGE = 50
# The page lists this many endpoints of the attendance table; the exports have them all.
ATTENDANCE_ON_PAGE = 25


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _reader(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in, allowed to see reports; a scope beyond the reader's is a 403."""
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not may_view_reports(_user(request)):
            raise Forbidden(_("You may not see reports."))
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            raise Forbidden(str(exc)) from exc
    return wrapped


def _basis(request: HttpRequest) -> Basis:
    try:
        return params.read_basis(_user(request), request.GET)
    except params.BadParameters as exc:
        messages.error(request, str(exc))
        return params.read_basis(_user(request), QueryDict())


def _charts(report: Presented, behind_url: str) -> list[dict[str, Any]]:
    charts = []
    for table in report.tables:
        chart = table.chart
        if chart is None or not chart.labels:
            continue
        charts.append({
            "id": f"chart-{chart.key}", "title": chart.title, "labels": chart.labels,
            "current": chart.current, "previous": chart.previous,
            "links": [f"{behind_url}?{link}" if link else "" for link in chart.links],
            "horizontal": chart.horizontal, "caps": chart.caps, "unit": chart.unit,
        })
    return charts


def _page_context(request: HttpRequest, report: Presented, query: dict[str, str]
                  ) -> dict[str, Any]:
    behind_url = reverse("reports:behind")
    return {
        "report": report,
        "query": urlencode(query),
        "charts": {"charts": _charts(report, behind_url), "current": report.period_label,
                   "previous": report.previous_label, "capLabel": _("Cap")},
        "behind_url": behind_url,
        "attendance_on_page": ATTENDANCE_ON_PAGE,
    }


@_reader
def index(request: HttpRequest) -> HttpResponse:
    """The figures of the chosen period and scope, with their charts."""
    user = _user(request)
    basis = _basis(request)
    rulebook = basis.rulebook
    base = params.link_base(basis)
    report = present(figures.compute(basis), base)
    context = _page_context(request, report, base)
    context.update({
        "basis": basis,
        "periods": params.period_choices(rulebook, params.today(rulebook)),
        "levels": rulebook.levels,
        "agencies": agencies_to_choose(user),
        "chosen": {"period": basis.period.key, "level": basis.scope.level,
                   "agency": basis.scope.agency.pk if basis.scope.agency else "",
                   "from": request.GET.get("from", ""), "to": request.GET.get("to", "")},
        "stored": reports_visible_to(user).select_related("requested_by")[:20],
        "may_store": may_make_reports(user) and rulebook.reporting.on_demand,
        "reporting": rulebook.reporting,
        "reporting_article": rulebook.cite(rulebook.reporting.article),
        "export_query": urlencode(base),
        "csv_prefix": reverse("reports:index") + "export/", "csv_query": urlencode(base),
    })
    return render(request, "reports/index.html", context)


@_reader
def behind(request: HttpRequest) -> HttpResponse:
    """The meetings, checks, incidents or endpoints one figure counts."""
    basis = _basis(request)
    try:
        found = selectors.behind(basis, request.GET)
    except selectors.UnknownFigure as exc:
        raise Http404(_("No such figure.")) from exc
    rows: QuerySet[Any] = found.rows
    if found.kind == "meetings":
        rows = rows.select_related("host_agency", "node")
    which = request.GET.get("which") or "current"
    period = basis.previous if which == "previous" else basis.period
    return render(request, "reports/behind.html", {
        "kind": found.kind, "period": period, "basis": basis,
        "scope_label": basis.scope.label(basis.rulebook),
        "back": urlencode(params.link_base(basis)),
        "count": rows.count(), **paginate(request, rows, ROWS_PER_PAGE),
    })


# ---------------------------------------------------------------- exports


def _download(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _name(basis_or_report: Basis | Report, extension: str, table: str = "") -> str:
    if isinstance(basis_or_report, Report):
        key = f"{basis_or_report.period_first:%Y%m%d}-{basis_or_report.period_last:%Y%m%d}"
        key += f"-v{basis_or_report.version}"
    else:
        key = basis_or_report.period.key.replace("..", "-")
    return f"bao-cao-{key}{'-' + table if table else ''}.{extension}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@_reader
def export_xlsx(request: HttpRequest) -> HttpResponse:
    basis = _basis(request)
    report = present(figures.compute(basis), params.link_base(basis))
    return _download(xlsx.workbook(report), _name(basis, "xlsx"), XLSX)


@_reader
def export_pdf(request: HttpRequest) -> HttpResponse:
    """The official form, in Vietnamese, not stored (unnumbered: "Số: …")."""
    from django.utils import translation

    from .services import letterhead

    basis = _basis(request)
    data = figures.compute(basis)
    with translation.override("vi"):
        report = present(data)
        day = timezone.localtime(basis.now).date()
        head = letterhead(basis, _user(request), "", day)
        content = pdf.document(report, head)
    return _download(content, _name(basis, "pdf"), "application/pdf")


@_reader
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    basis = _basis(request)
    report = present(figures.compute(basis), params.link_base(basis))
    try:
        chosen = report.table(table)
    except KeyError as exc:
        raise Http404(_("No such table.")) from exc
    return _download(csv_tables.table_csv(chosen, report), _name(basis, "csv", table),
                     "text/csv; charset=utf-8")


# ---------------------------------------------------------------- stored reports


def _stored(request: HttpRequest, pk: int) -> Report:
    report = get_object_or_404(reports_visible_to(_user(request)), pk=pk)
    return report


@_reader
def stored_detail(request: HttpRequest, pk: int) -> HttpResponse:
    stored = _stored(request, pk)
    report = present(stored.data)
    link = {"period": stored.data["period"]["key"]}
    if stored.agency_id:
        link["agency"] = str(stored.agency_id)
    if stored.level:
        link["level"] = stored.level
    context = _page_context(request, report, link)
    versions = Report.objects.filter(
        kind=stored.kind, period_first=stored.period_first, period_last=stored.period_last,
        agency=stored.agency, with_units=stored.with_units, level=stored.level,
    ).order_by("version")
    context.update({"stored": stored, "versions": versions, "csv_query": "",
                    "csv_prefix": reverse("reports:stored_detail", args=[stored.pk]),
                    "may_store": may_make_reports(_user(request))})
    return render(request, "reports/stored.html", context)


@_reader
def stored_file(request: HttpRequest, pk: int, extension: str) -> FileResponse:
    if extension not in ("pdf", "xlsx"):
        raise Http404(_("This report has no such file."))
    stored = _stored(request, pk)
    field = stored.pdf if extension == "pdf" else stored.xlsx
    if not field:
        raise Http404(_("This report has no such file."))
    response = FileResponse(field.open("rb"), as_attachment=True,
                            filename=_name(stored, extension),
                            content_type="application/pdf" if extension == "pdf" else XLSX)
    response["Cache-Control"] = "private, no-store"
    return response


@_reader
def stored_csv(request: HttpRequest, pk: int, table: str) -> HttpResponse:
    stored = _stored(request, pk)
    report = present(stored.data)
    try:
        chosen = report.table(table)
    except KeyError as exc:
        raise Http404(_("No such table.")) from exc
    return _download(csv_tables.table_csv(chosen, report), _name(stored, "csv", table),
                     "text/csv; charset=utf-8")


@require_POST
@_reader
def make(request: HttpRequest) -> HttpResponse:
    """Store the report of the chosen period and scope: the worker makes it (the PDF of a
    province's year takes a while) and tells the maker when it is ready."""
    user = _user(request)
    basis = _basis(request)
    number = (request.POST.get("document_number") or "").strip()
    if not may_make_reports(user) or not basis.scope.allowed_for(user, basis.rulebook):
        raise Forbidden(_("You may store reports only on your own agency and the units "
                          "under it."))
    if len(number) > 40:
        messages.error(request, _("The number is at most 40 characters."))
    else:
        tasks.make_report_task(basis.period.key, basis.scope.agency.pk if basis.scope.agency
                               else None, basis.scope.with_units, basis.scope.level, user.pk,
                               number)
        messages.success(request, _("The report is being made; you will be told when it is "
                                    "ready."))
    return redirect(f"{reverse('reports:index')}?{request.GET.urlencode()}")


@require_POST
@_reader
def again(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a stored report again from today's data: a new version; the old one stays."""
    stored = _stored(request, pk)
    user = _user(request)
    from .scope import ReportScope

    scope = ReportScope(stored.agency, stored.with_units, stored.level)
    if not may_make_reports(user) or not scope.allowed_for(user, active_rulebook()):
        raise Forbidden(_("You may not make this report again."))
    try:
        tasks.regenerate_report_task(stored.pk, user.pk)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("A new version is being made; this one stays."))
    return redirect("reports:stored_detail", pk=stored.pk)
