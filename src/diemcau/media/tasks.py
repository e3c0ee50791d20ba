"""Periodic work on the MCU nodes, as plain functions for the worker to schedule:

- `poll_all_nodes()` every minute: health of every node the server manages; a node that
  answers again after being down is reconciled at once (a restarted Janus has no rooms).
  Between these polls the node watch (`media.watch`, a thread the worker starts) notices a
  node dying or coming back within a second or two and brings its meetings back at once;
- `reconcile_all_nodes()` every 5 minutes, and once when the worker starts: rooms of the
  meetings due within a day are created, rooms no meeting needs are destroyed.

And one meeting's room, enqueued by the scheduling services once their change is committed:

- `ensure_meeting_room(meeting_id)` after an acceptance whose room is due already;
- `destroy_meeting_room(meeting_id)` after a cancellation or a revocation.

Both are tolerant: a node that does not answer is logged and left to `reconcile`, which
brings Janus in line with the database on its next run.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from diemcau.core.errors import InvalidTransition
from diemcau.core.models import User
from diemcau.mcu.janus_client import JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode, NodeHealth
from diemcau.mcu.services import poll_health
from diemcau.scheduling.choices import HOLDING_STATUSES
from diemcau.scheduling.models import Meeting

from .models import Participation
from .services.participations import end_janus_session, withdraw_janus_token
from .services.presence import sync_all_nodes
from .services.rooms import ReconcileReport, destroy_room, ensure_room, reconcile
from .services.session import end_overdue_meetings

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


# ---------------------------------------------------------------- one meeting's room


def _actor(actor_id: int | None) -> User | None:
    return User.objects.filter(pk=actor_id).first() if actor_id is not None else None


@db_task()
def ensure_meeting_room(meeting_id: int, actor_id: int | None = None) -> None:
    """Create the room of a meeting that holds a node. Skipped when the meeting no longer
    holds one (cancelled or revoked before the worker got here)."""
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None or meeting.status not in HOLDING_STATUSES:
        return
    try:
        ensure_room(meeting, actor=_actor(actor_id))
    except InvalidTransition:
        return  # it stopped holding between the check above and the room's lock
    except (JanusUnavailable, JanusError) as exc:
        log.warning("room of meeting %s not created, reconcile will retry: %s", meeting_id, exc)


@db_task()
def destroy_meeting_room(meeting_id: int, actor_id: int | None = None,
                         participation_ids: list[int] | None = None) -> None:
    """Destroy the room of a meeting that no longer holds a node, which disconnects everyone
    still in it, and withdraw the Janus tokens and sessions of the connections its end closed.
    A meeting that holds a node again, or that is gone with its room row, is left alone
    (`reconcile` removes rooms no meeting needs)."""
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None or meeting.status in HOLDING_STATUSES:
        return
    try:
        destroy_room(meeting, actor=_actor(actor_id))
    except (JanusUnavailable, JanusError) as exc:
        log.warning("room of meeting %s not destroyed, reconcile will retry: %s", meeting_id, exc)
    closed = Participation.objects.select_related("node").filter(pk__in=participation_ids or [])
    for participation in closed:
        end_janus_session(participation)
        withdraw_janus_token(participation.node, participation.janus_token_secret)


# ---------------------------------------------------------------- worker schedule


@db_periodic_task(crontab(minute="*"))
def poll_nodes_every_minute() -> None:
    poll_all_nodes()
    # R18: attendance follows what Janus sees (crashed pages, lost lines, a restarted node).
    sync_all_nodes()


@db_periodic_task(crontab(minute="*/5"))
def reconcile_rooms_every_five_minutes() -> None:
    ended = end_overdue_meetings()  # first, so their rooms go in this round
    if ended:
        log.info("meetings ended an hour past their end: %s", ended)
    reconcile_all_nodes()


@HUEY.on_startup()
def watch_nodes_at_worker_start() -> None:
    # A node that dies or comes back is noticed within a second or two, not at the next
    # minute's poll: its rooms are recreated and its pages told to join again (media.watch).
    from .watch import start_in_background

    start_in_background()


@HUEY.on_startup()
def reconcile_rooms_at_worker_start() -> None:
    # A restarted system finds its rooms again before the next five-minute run.
    try:
        reconcile_all_nodes()
    except Exception:  # the database may not be migrated yet on a first start
        log.exception("reconcile at worker start failed")
