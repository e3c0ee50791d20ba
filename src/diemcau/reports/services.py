"""Stored reports (R21): the only writer of `Report`.

A report is made on demand (an operator, or an agency office for its own figures — KH Đ19.5)
or by the worker on the periods the rulebook names (ĐN Đ14.4 and Đ19.2, KH Đ17.2d: every six
months and every year). It is an immutable snapshot: the figures as JSON and their SHA-256,
and the XLSX and PDF made from them with theirs, all written in one transaction with the audit
event that records the hashes. Making it again writes the next version beside it; the earlier
one stays, and says which version followed it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidInput, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action, operators, sees_whole_province
from diemcau.directory.models import Agency
from diemcau.notifications.services import notify
from diemcau.rulebooks import Rulebook, active_rulebook

from . import figures, notices, periods
from .basis import Basis
from .exports import pdf, xlsx
from .models import Report, ReportKind
from .presentation import Presented, present
from .scope import ReportScope, may_make_reports

REPORT_FIELDS = ["kind", "period_first", "period_last", "period_months", "agency_id",
                 "with_units", "level", "version", "supersedes_id", "data_sha256",
                 "xlsx_sha256", "pdf_sha256", "document_number", "rulebook"]


def canonical(data: Any) -> bytes:
    """The figures as the bytes their hash covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# ---------------------------------------------------------------- the documents


def letterhead(basis: Basis, maker: User | None, number: str, day: dt.date) -> pdf.Letterhead:
    """Who issues the report and to whom. The operators' reports (and the worker's) come from
    the managing agency the rulebook names (ĐN: Sở KHCN, KH: Sở TTTT) and go to the bodies
    `reporting.submitted_to_kinds` names (ĐN Đ19.2: UBND tỉnh); an agency office's report on
    its own figures comes from its agency and goes to the managing agency (KH Đ19.5)."""
    rulebook = basis.rulebook
    reporting = rulebook.reporting
    grounds = [rulebook.cite(reporting.article)]
    if reporting.application_article and basis.period.months == 12:
        grounds.append(rulebook.cite(reporting.application_article))
    province = f"UBND tỉnh {rulebook.province_name}"
    own = maker.agency if maker is not None and not sees_whole_province(maker) else None
    if own is not None:
        if reporting.on_request_article:
            grounds.append(rulebook.cite(reporting.on_request_article))
        parent = own.parent.name if own.parent else province
        return pdf.Letterhead(
            superior=parent, issuer=own.name, symbol="BC", place=rulebook.province_name,
            day=day, number=number,
            recipients=[rulebook.operator.managing_agency_vi, "Lưu: VT"],
            signer_title="THỦ TRƯỞNG CƠ QUAN", grounds=grounds)
    bodies = list(
        Agency.objects.filter(kind__in=reporting.submitted_to_kinds, is_active=True)
        .order_by("path").values_list("name", flat=True)[:5]
    ) or ([province] if reporting.submitted_to_kinds else [])
    return pdf.Letterhead(
        superior=province, issuer=rulebook.operator.managing_agency_vi, symbol=reporting.symbol,
        place=rulebook.province_name, day=day, number=number,
        recipients=[*(f"{name} (để báo cáo)" for name in bodies), "Lưu: VT"],
        signer_title=reporting.signer_title_vi, grounds=grounds)


def documents(data: dict[str, Any], head: pdf.Letterhead, facts: list[tuple[str, str]]
              ) -> tuple[bytes, bytes]:
    """The XLSX and the PDF of the figures, in Vietnamese (the documents sent on)."""
    with translation.override("vi"):
        report: Presented = present(data)
        return xlsx.workbook(report, facts), pdf.document(report, head, facts)


# ---------------------------------------------------------------- making a report


def _require_maker(actor: User | None, scope: ReportScope, rulebook: Rulebook) -> None:
    if actor is None:
        return  # the worker
    if not may_make_reports(actor) or not scope.allowed_for(actor, rulebook):
        raise PermissionDenied(
            str(Action.REGISTER_MEETING),
            _("You may store reports only on your own agency and the units under it."),
        )


def _file_name(report: Report, period: periods.Period, extension: str) -> str:
    scope = slugify(report.scope_label)[:50] or "tinh"
    return f"bao-cao-{period.key.replace('..', '-')}-{scope}-v{report.version}.{extension}"


def make_report(period: periods.Period, scope: ReportScope, *, actor: User | None,
                kind: str = ReportKind.ON_DEMAND, document_number: str = "",
                supersedes: Report | None = None) -> Report:
    """Count the figures, write them with their files as the next version of this period
    and scope, and audit it. Periodic reports are also told to the people the rulebook
    names."""
    rulebook = active_rulebook()
    _require_maker(actor, scope, rulebook)
    if not rulebook.reporting.on_demand and kind == ReportKind.ON_DEMAND:
        raise InvalidInput({"period": [_("This regulation has no reports on demand.")]})
    document_number = document_number.strip()
    if len(document_number) > 40:
        raise InvalidInput({"document_number": [_("At most 40 characters.")]})
    now = timezone.now()
    basis = Basis(period, scope, user=actor, rulebook=rulebook, now=now)
    data = figures.compute(basis)
    day = timezone.localtime(now, periods.zone_of(rulebook)).date()
    head = letterhead(basis, actor, document_number, day)
    data_hash = sha256(canonical(data))
    for attempt in range(3):  # another worker may take the same version number first
        try:
            return _store(period, scope, kind, data, data_hash, head, actor, document_number,
                          supersedes, rulebook, now)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _store(period: periods.Period, scope: ReportScope, kind: str, data: dict[str, Any],
           data_hash: str, head: pdf.Letterhead, actor: User | None, document_number: str,
           supersedes: Report | None, rulebook: Rulebook, now: dt.datetime) -> Report:
    same = Report.objects.filter(
        kind=kind, period_first=period.first, period_last=period.last, agency=scope.agency,
        with_units=scope.with_units, level=scope.level,
    )
    latest = same.aggregate(v=Max("version"))["v"] or 0
    previous = same.filter(version=latest).first() if latest else None
    if supersedes is not None and previous is not None and supersedes.pk != previous.pk:
        supersedes = previous  # a new version always follows the latest one
    with translation.override("vi"):
        scope_label = scope.label(rulebook)
    report = Report(
        kind=kind, period_first=period.first, period_last=period.last,
        period_months=period.months, agency=scope.agency, with_units=scope.with_units,
        level=scope.level, scope_label=scope_label[:300], version=latest + 1,
        supersedes=previous if latest else None, rulebook=rulebook.name, data=data,
        data_sha256=data_hash, document_number=document_number, requested_by=actor,
    )
    facts = [
        ("Phiên bản", str(report.version)),
        ("Lập lúc", timezone.localtime(now, periods.zone_of(rulebook)).strftime("%H:%M %d/%m/%Y")),
        ("SHA-256 số liệu", data_hash),
    ]
    workbook, document = documents(data, head, facts)
    report.xlsx_sha256, report.pdf_sha256 = sha256(workbook), sha256(document)
    report.xlsx.save(_file_name(report, period, "xlsx"), ContentFile(workbook), save=False)
    report.pdf.save(_file_name(report, period, "pdf"), ContentFile(document), save=False)
    report.save(force_insert=True)
    audit.record("report.make", report, actor=actor, after=audit.snapshot(report, REPORT_FIELDS))
    if kind == ReportKind.PERIODIC:
        _tell(report, rulebook)
    return report


def regenerate_report(report: Report, *, actor: User | None) -> Report:
    """Make the report of the same period and scope again: a new version, both kept."""
    period = periods.Period(report.period_first, report.period_last, report.period_months)
    scope = ReportScope(report.agency, report.with_units, report.level)
    return make_report(period, scope, actor=actor, kind=report.kind,
                       document_number=report.document_number, supersedes=report)


def make_report_for(period_key: str, agency_id: int | None, with_units: bool, level: str,
                    user_id: int, document_number: str) -> Report:
    """The worker's side of a report asked for on a page: made as that person, who is told
    when it is ready."""
    actor = User.objects.select_related("agency").get(pk=user_id)
    agency = Agency.objects.get(pk=agency_id) if agency_id else None
    report = make_report(periods.parse(period_key), ReportScope(agency, with_units, level),
                         actor=actor, document_number=document_number)
    _tell_maker(report, actor)
    return report


def regenerate_report_for(report_id: int, user_id: int) -> Report:
    actor = User.objects.select_related("agency").get(pk=user_id)
    report = regenerate_report(Report.objects.get(pk=report_id), actor=actor)
    _tell_maker(report, actor)
    return report


@transaction.atomic
def _tell_maker(report: Report, actor: User) -> None:
    rulebook = active_rulebook()
    period = periods.Period(report.period_first, report.period_last, report.period_months)
    with translation.override(actor.language or "vi"):
        label = period.label()
    notify([actor], kind=notices.REPORT_READY,
           params={"period": label, "scope": report.scope_label,
                   "article": rulebook.cite(rulebook.reporting.article), "report": report.pk},
           link=reverse("reports:stored_detail", args=[report.pk]))


# ---------------------------------------------------------------- the worker


def recipients(rulebook: Rulebook) -> list[User]:
    """Who is told of a periodic report: the operators, who make and send it, and the
    offices of the bodies it goes to (`reporting.submitted_to_kinds`)."""
    told = {u.pk: u for u in operators()}
    told.update({
        u.pk: u for u in User.objects.filter(
            is_active=True, role="office", agency__kind__in=rulebook.reporting.submitted_to_kinds)
    })
    return list(told.values())


def _tell(report: Report, rulebook: Rulebook) -> None:
    period = periods.Period(report.period_first, report.period_last, report.period_months)
    with translation.override("vi"):
        label = period.label()
    notify(recipients(rulebook), kind=notices.REPORT_READY,
           params={"period": label, "scope": report.scope_label,
                   "article": rulebook.cite(rulebook.reporting.article), "report": report.pk},
           link=reverse("reports:stored_detail", args=[report.pk]))


def due_periods(rulebook: Rulebook, today: dt.date) -> list[periods.Period]:
    """The periods the rulebook reports on that have ended by `today`: the last one of each
    length (a worker that was down catches up with the latest, not every one it missed)."""
    return [periods.last_completed(months, today)
            for months in sorted(set(rulebook.reporting.period_months))]


def make_due_periodic_reports(today: dt.date | None = None) -> int:
    """Make the province's periodic reports that are due and not yet made; returns how many.
    Periods that ended before the system held anything are left out."""
    rulebook = active_rulebook()
    zone = periods.zone_of(rulebook)
    today = today or timezone.localtime(timezone.now(), zone).date()
    first_use = audit_start()
    made = 0
    for period in due_periods(rulebook, today):
        if first_use is None or period.bounds(zone)[1] <= first_use:
            continue
        exists = Report.objects.filter(
            kind=ReportKind.PERIODIC, period_first=period.first, period_last=period.last,
            agency=None, level="").exists()
        if not exists:
            make_report(period, ReportScope(), actor=None, kind=ReportKind.PERIODIC)
            made += 1
    return made


def audit_start() -> dt.datetime | None:
    """When the system began to be used: its first audit event."""
    from diemcau.core.models import AuditEvent

    return AuditEvent.objects.aggregate(first=Min("at"))["first"]
