"""The worker's periodic reports (R21; ĐN Đ14.4 and Đ19.2, KH Đ17.2d).

Every hour the worker makes the province's report of each periodic length the rulebook names
(6 and 12 months) whose period has ended and has none yet; the service does the work and
tells the people the rulebook names. A worker that was down catches up at its next run.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import make_due_periodic_reports


@db_periodic_task(crontab(minute="17"))
def make_due_periodic_reports_task() -> None:
    make_due_periodic_reports()
