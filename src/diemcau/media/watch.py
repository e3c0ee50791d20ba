"""The node watch: notices within a second or two that a media node died or came back, and
brings its meetings back at once (R16: the MCU is monitored; a restart must not cost the
meeting more than a few seconds).

The worker runs it in a thread of its own (`start_in_background`, once per process). Every
`WATCH_SECONDS` it looks at each managed node that is down or has rooms: it keeps one Janus
session open on the node and sends it a keepalive.

- No answer: the node is polled in full and marked down (audited, the operators told), and
  the consoles and pages of its meetings read their state again (the pages then know the
  media server is down and keep waiting on their socket instead of reloading into it).
- The session is gone (Janus lost it: it restarted between two ticks), or a node marked
  down answers again: the node is marked up, its rooms are recreated (`reconcile`), and every
  page of its open meetings is told to join again now (`broadcast.rejoin`). The pages' own
  backoff is only the fallback for a node that stays down, or a message that was missed.

Janus is called outside any transaction, with a short timeout, so a dead node costs the loop
at most that long.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from diemcau.mcu.janus_client import JanusClient, JanusError, JanusUnavailable
from diemcau.mcu.models import McuNode, NodeHealth
from diemcau.mcu.services import poll_health
from diemcau.scheduling.choices import HOLDING_STATUSES

from . import broadcast
from .models import RECONNECT_WINDOW, Participation, Room
from .services.rooms import reconcile

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0
# A keepalive that takes longer than this counts as no answer.
WATCH_TIMEOUT = 1.5


@dataclass
class NodeEvent:
    """What one tick found about one node."""

    node: str
    kind: str  # "down", "back"
    meetings: list[int] = field(default_factory=list)


@dataclass
class _Seen:
    session_id: int | None = None


class NodeWatch:
    """The watch over every managed node; `tick()` is one round (the tests call it)."""

    def __init__(self) -> None:
        self.seen: dict[int, _Seen] = {}

    def watched_nodes(self) -> list[McuNode]:
        """Managed nodes that are down, or have rooms (a node with nothing on it is left to
        the minute's health poll)."""
        with_rooms = set(Room.objects.filter(destroyed_at__isnull=True)
                         .values_list("node_id", flat=True))
        nodes = McuNode.objects.filter(is_active=True).filter(
            ~Q(health=NodeHealth.UP) | Q(pk__in=with_rooms))
        return [node for node in nodes if node.is_managed]

    def tick(self) -> list[NodeEvent]:
        events = []
        watched = self.watched_nodes()
        for node_id in set(self.seen) - {node.pk for node in watched}:
            del self.seen[node_id]
        for node in watched:
            event = self._look(node)
            if event is not None:
                events.append(event)
        return events

    def _look(self, node: McuNode) -> NodeEvent | None:
        seen = self.seen.setdefault(node.pk, _Seen())
        client = JanusClient(dataclasses.replace(node.access(), timeout=WATCH_TIMEOUT))
        restarted = False
        try:
            if seen.session_id is not None:
                try:
                    client.keepalive(seen.session_id)
                except JanusError:  # "no such session": Janus restarted since the last tick
                    seen.session_id = None
                    restarted = True
            if seen.session_id is None:
                seen.session_id = client.create_session()
        except (JanusUnavailable, JanusError) as exc:
            seen.session_id = None
            if node.health == NodeHealth.DOWN:
                return None
            # The full probe decides (a slow answer is not a dead node); a node down is
            # recorded, audited, and the operators told.
            if poll_health(node):
                return None
            log.warning("node %s stopped answering: %s", node.name, exc)
            return NodeEvent(node.name, "down", self._tell_consoles(node))
        if restarted or node.health != NodeHealth.UP:
            return self.recover(node)
        return None

    def recover(self, node: McuNode) -> NodeEvent | None:
        """The node answers again: mark it up, recreate its rooms, tell the pages."""
        if not poll_health(node):
            return None  # the API answers but not all of it yet: the next tick tries again
        try:
            report = reconcile(node)
        except (JanusUnavailable, JanusError) as exc:
            log.warning("node %s back, but its rooms not recreated yet: %s", node.name, exc)
            self.seen.pop(node.pk, None)  # the next tick starts over
            return None
        log.info("node %s back: rooms recreated %s", node.name, report.created)
        meetings = self._tell_consoles(node)
        for meeting_id in meetings:
            broadcast.rejoin(meeting_id)
        return NodeEvent(node.name, "back", meetings)

    def _tell_consoles(self, node: McuNode) -> list[int]:
        """The open meetings of `node` with pages that were or are in them: their consoles
        and pages read the state again."""
        since = timezone.now() - RECONNECT_WINDOW
        meetings = sorted(set(
            Participation.objects.filter(node=node, meeting__status__in=HOLDING_STATUSES)
            .filter(Q(left_at__isnull=True) | Q(left_at__gte=since))
            .values_list("meeting_id", flat=True)
        ))
        for meeting_id in meetings:
            broadcast.meeting_changed(meeting_id)
        return meetings

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                close_old_connections()
                self.tick()
            except Exception:  # the database restarting, a migration not yet run…
                log.exception("node watch round failed")
            stop.wait(max(0.0, WATCH_SECONDS - (time.monotonic() - started)))


_started = threading.Lock()
_thread: threading.Thread | None = None


def start_in_background() -> threading.Thread:
    """Start the watch in a daemon thread of this process, once (the worker calls it from
    each of its worker threads' startup)."""
    global _thread
    with _started:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=NodeWatch().run, args=(threading.Event(),),
                                       name="diemcau-node-watch", daemon=True)
            _thread.start()
        return _thread
