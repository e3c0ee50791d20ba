"""What the live plane does when a meeting changes status (subscribed to the meeting
lifecycle in `MediaConfig.ready`; it runs inside the transaction of the change):

- a meeting that starts holding a node (accepted) gets its room once the change commits, when
  the room is due already (R15: before the first technical check); later ones are made by the
  periodic `reconcile`;
- a meeting that goes live has its invited hardware terminals and its upstream link called
  (KH Đ11.7, R23: `sip.call_invited_terminals`);
- a meeting that stops holding (revoked, cancelled, ended, ended by the system) closes every
  open connection as *ended* and hangs up its SIP calls in the same transaction, and its
  room is destroyed and the connections' Janus tokens withdrawn once it commits (KH Đ12.4b:
  a revoked code no longer opens the room);
- the consoles and participant pages read the state again.
"""

from __future__ import annotations

import functools

from django.db import transaction

from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services.lifecycle import StatusChange, Transition

from .. import broadcast
from ..models import LeaveReason, Participation
from . import sip
from .participations import close_participation
from .rooms import room_wanted


def follow(change: StatusChange) -> None:
    from .. import tasks  # the worker's tasks call these services in turn

    meeting = change.meeting
    actor_id = change.actor.pk if change.actor is not None else None
    if change.started_holding and _room_due(meeting):
        # Janus is called by the worker after the commit, never inside this transaction.
        transaction.on_commit(
            functools.partial(tasks.ensure_meeting_room, meeting.pk, actor_id=actor_id),
            robust=True,
        )
    if change.transition == Transition.GO_LIVE:
        # KH Đ11.7: at the session's start the MCU calls every invited hardware terminal
        # (and the upstream MCU, R23); the node's mixer agent dials them.
        sip.call_invited_terminals(meeting, actor=change.actor)
    if change.stopped_holding:
        sip.hang_up_all(meeting, actor=change.actor)
        closed = _close_connections(change)
        transaction.on_commit(
            functools.partial(tasks.destroy_meeting_room, meeting.pk, actor_id=actor_id,
                              participation_ids=closed),
            robust=True,
        )
    broadcast.meeting_changed(meeting.pk)


def _room_due(meeting: Meeting) -> bool:
    """Whether the meeting needs its room already. A room made earlier would be taken for an
    orphan by `reconcile` and destroyed."""
    return room_wanted(meeting)


def _close_connections(change: StatusChange) -> list[int]:
    open_ones = list(
        Participation.objects.select_for_update()
        .filter(meeting=change.meeting, left_at__isnull=True)
    )
    for participation in open_ones:
        close_participation(participation, LeaveReason.ENDED, actor=change.actor,
                            action="live.leave")
    return [p.pk for p in open_ones]
