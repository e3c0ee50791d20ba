"""Periodic work on the MCU nodes, as plain functions for the worker to schedule:

- `poll_all_nodes()` every minute: health of every node the server manages; a node that
  answers again after being down is reconciled at once (a restarted Janus has no rooms);
- `reconcile_all_nodes()` every 5 minutes, and once when the worker starts: rooms of the
  meetings due within a day are created, rooms no meeting needs are destroyed.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from .janus_client import JanusError, JanusUnavailable
from .models import McuNode, NodeHealth
from .rooms import ReconcileReport, reconcile
from .services import poll_health

log = logging.getLogger(__name__)


def _managed_nodes() -> list[McuNode]:
    return [node for node in McuNode.objects.filter(is_active=True) if node.is_managed]


def poll_all_nodes() -> dict[str, bool]:
    """Node name → up. Reconciles a node that came back."""
    result = {}
    for node in _managed_nodes():
        was_down = node.health == NodeHealth.DOWN
        result[node.name] = up = poll_health(node)
        if up and was_down:
            _reconcile_logged(node)
    return result


def reconcile_all_nodes() -> list[ReconcileReport]:
    reports = []
    for node in _managed_nodes():
        report = _reconcile_logged(node)
        if report is not None:
            reports.append(report)
    return reports


def _reconcile_logged(node: McuNode) -> ReconcileReport | None:
    try:
        report = reconcile(node)
    except (JanusUnavailable, JanusError) as exc:
        # The health poll tells the operators; reconcile runs again on the next round.
        log.warning("reconcile %s: %s", node.name, exc)
        return None
    if report.created or report.destroyed or report.failed:
        log.info(
            "reconcile %s: created %s, destroyed %s, failed %s",
            node.name, report.created, report.destroyed, report.failed,
        )
    return report


# ---------------------------------------------------------------- worker schedule


@db_periodic_task(crontab(minute="*"))
def poll_nodes_every_minute() -> None:
    poll_all_nodes()


@db_periodic_task(crontab(minute="*/5"))
def reconcile_rooms_every_five_minutes() -> None:
    reconcile_all_nodes()


@HUEY.on_startup()
def reconcile_rooms_at_worker_start() -> None:
    # A restarted system finds its rooms again before the next five-minute run.
    try:
        reconcile_all_nodes()
    except Exception:  # the database may not be migrated yet on a first start
        log.exception("reconcile at worker start failed")
