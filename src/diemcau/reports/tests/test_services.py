"""Stored reports: the snapshot and its hashes, versions kept side by side, the audit event,
the worker's periodic reports and who is told, and who may store one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from diemcau.core.errors import PermissionDenied
from diemcau.core.models import AuditEvent
from diemcau.core.roles import Role
from diemcau.notifications.models import Notification
from diemcau.reports import periods, services
from diemcau.reports.models import Report, ReportKind
from diemcau.reports.scope import ReportScope
from diemcau.testing.factories import UserFactory

H1 = periods.parse("2025-H1")


def test_a_report_is_a_snapshot_with_its_hashes(half_year, django_capture_on_commit_callbacks):
    report = services.make_report(H1, ReportScope.for_user(half_year.operator),
                                  actor=half_year.operator, document_number="12")
    assert report.version == 1 and report.kind == ReportKind.ON_DEMAND
    assert report.data["meetings"]["total"]["total"] == [9, 2]
    canonical = json.dumps(report.data, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()
    assert report.data_sha256 == hashlib.sha256(canonical).hexdigest()
    for field, digest in ((report.pdf, report.pdf_sha256), (report.xlsx, report.xlsx_sha256)):
        with field.open("rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest
    event = AuditEvent.objects.get(action="report.make")
    assert event.actor == half_year.operator
    assert event.after["data_sha256"] == report.data_sha256
    assert event.after["pdf_sha256"] == report.pdf_sha256


def test_made_again_both_versions_stay(half_year):
    scope = ReportScope.for_user(half_year.operator)
    first = services.make_report(H1, scope, actor=half_year.operator)
    half_year.m6.title = "changed"  # the data changes after the first version
    from .conftest import meeting

    meeting(half_year, "Họp bổ sung", half_year.district, half_year.ep_district, "2025-06-30",
            "09:00", "10:00", "ended", node=half_year.node)
    second = services.regenerate_report(first, actor=half_year.operator)
    third = services.regenerate_report(first, actor=half_year.operator)  # follows the latest
    assert [r.version for r in Report.objects.order_by("version")] == [1, 2, 3]
    assert second.supersedes == first and third.supersedes == second
    first.refresh_from_db()
    assert first.data["meetings"]["total"]["total"] == [9, 2]  # unchanged
    assert second.data["meetings"]["total"]["total"] == [10, 2]
    assert first.data_sha256 != second.data_sha256
    assert AuditEvent.objects.filter(action="report.make").count() == 3


def test_the_worker_makes_the_due_reports_once_and_tells_the_rulebooks_people(
        half_year, django_capture_on_commit_callbacks):
    province_office = half_year.province_office  # an office of UBND tỉnh (submitted_to_kinds)
    with django_capture_on_commit_callbacks(execute=True):
        made = services.make_due_periodic_reports(today=dt.date(2025, 7, 1))
    assert made == 2  # 2025-H1, and the year 2024
    periodic = Report.objects.filter(kind=ReportKind.PERIODIC).order_by("period_first")
    assert [(r.period_first, r.period_last, r.period_months) for r in periodic] == [
        (dt.date(2024, 1, 1), dt.date(2024, 12, 31), 12),
        (dt.date(2025, 1, 1), dt.date(2025, 6, 30), 6),
    ]
    assert all(r.requested_by is None and r.agency is None for r in periodic)
    told = set(Notification.objects.filter(kind="report.ready", channel="in_app")
               .values_list("user_id", flat=True))
    assert told == {half_year.operator.pk, province_office.pk}
    assert services.make_due_periodic_reports(today=dt.date(2025, 7, 2)) == 0


def test_who_may_store_a_report(half_year):
    auditor = UserFactory(role=Role.AUDITOR, agency=half_year.department)
    with pytest.raises(PermissionDenied):  # auditors read and change nothing
        services.make_report(H1, ReportScope(), actor=auditor)
    district = ReportScope.for_user(half_year.district_office)
    report = services.make_report(H1, district, actor=half_year.district_office)
    assert report.agency == half_year.district and report.with_units
    assert report.data["meetings"]["total"]["total"] == [5, 1]
    with pytest.raises(PermissionDenied):  # another district's office
        services.make_report(H1, district, actor=half_year.other_office)
