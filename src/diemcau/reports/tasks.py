"""The worker's reports (R21; ĐN Đ14.4 and Đ19.2, KH Đ17.2d).

Every hour the worker makes the province's report of each periodic length the rulebook names
(6 and 12 months) whose period has ended and has none yet; a worker that was down catches up
at its next run. Reports asked for on a page are made here too: a province's year in PDF
takes longer than a page should wait. Each task calls a service.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_periodic_task(crontab(minute="17"))
def make_due_periodic_reports_task() -> None:
    services.make_due_periodic_reports()


@db_task()
def make_report_task(period: str, agency_id: int | None, with_units: bool, level: str,
                     user_id: int, document_number: str) -> int:
    return services.make_report_for(period, agency_id, with_units, level, user_id,
                                    document_number).pk


@db_task()
def regenerate_report_task(report_id: int, user_id: int) -> int:
    return services.regenerate_report_for(report_id, user_id).pk
