"""Huey tasks of the desk (the worker: `diemcau run_huey`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.duty import flag_duty_gaps


@db_periodic_task(crontab(minute="*/5"))
def flag_meetings_without_duty() -> None:
    """Every 5 minutes: tell the operators of a meeting no one will be on duty for
    (ĐN Đ12.1; KH Đ14.1), once per meeting, `duty.flag_hours_ahead` ahead."""
    flag_duty_gaps()
