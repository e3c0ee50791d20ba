"""WebSockets of the live meeting (Channels): the host console, the operator console and each
participant's page (R16–R18).

Messages are JSON. A console sends `{"action": "...", "request": <its id>, ...}` and gets
`{"type": "result", "request": ..., "ok": true}` or `{"type": "error", "request": ...,
"message": ..., "article": ..., "field": ...}`; whenever anything in the meeting changes it gets
the whole state again (`{"type": "state", ...}`). Every action calls the same service as the
pages and the API, so permissions, rules and the audit log hold here too.

Service calls run in worker threads that are not shared (`thread_sensitive=False`): a call
that waits for Janus never holds up the other connections. The threads are the consumers' own,
in two pools per process (see `in_thread`): what a person waits for (a console opening, a
page's hello, an action) never queues behind the state reads that changes elsewhere in the
meeting push to every open socket.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connections
from django.utils.translation import gettext as _

from diemcau.core import two_factor
from diemcau.core.api_inputs import is_id
from diemcau.core.errors import InvalidInput, InvalidTransition, PermissionDenied, RuleViolation
from diemcau.core.models import User
from diemcau.core.request_context import acting_from
from diemcau.core.sessions import keep_session_alive
from diemcau.directory.models import Endpoint
from diemcau.scheduling.models import Meeting
from diemcau.scheduling.services import interconnection

from . import broadcast, extensions, selectors
from .models import LeaveReason, Participation, SipCall
from .permissions import can_control, is_operator
from .services import control, grants, participations, session, sip, telemetry

log = logging.getLogger(__name__)


# The loop's default executor (min(32, cores + 4) threads, shared with everything else in
# the process) would put a hello behind every pending state read: the consumers have two
# pools of their own. Each thread keeps its database connection open between calls (see
# `_kept_connection`): 9 per web process, 27 for three, which leaves most of PostgreSQL's
# default 100 connections for the requests (each holds one while it runs, and a rush of
# joins has dozens under way), the worker and the tools.
INTERACTIVE_THREADS = 6
REFRESH_THREADS = 3
_interactive = ThreadPoolExecutor(INTERACTIVE_THREADS, thread_name_prefix="live-act")
_refreshes = ThreadPoolExecutor(REFRESH_THREADS, thread_name_prefix="live-state")
# A connection unused this long is closed before the thread's next call, not reused: the
# server (or a proxy) may have dropped it meanwhile.
KEEP_IDLE_SECONDS = 60.0
# Off in the test suite, whose databases are dropped at its end while the pools' threads live.
KEEP_CONNECTIONS = True
_last_use = threading.local()


def _kept_connection(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run `function` on this pool thread's own database connection, kept open for its next
    call. A socket's calls are many and short (a sample every 5 s from each endpoint, a state
    read on every change): opening a PostgreSQL connection for each one (a new server process,
    with DIEMCAU_DB_CONN_MAX_AGE=0) cost more than the call. A connection is closed after a
    call that failed or left a transaction open, and before one after a long idle time."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - getattr(_last_use, "at", now) > KEEP_IDLE_SECONDS:
            for conn in connections.all(initialized_only=True):
                conn.close()
        try:
            return function(*args, **kwargs)
        finally:
            for conn in connections.all(initialized_only=True):
                if conn.connection is None:
                    continue
                if (not KEEP_CONNECTIONS or conn.in_atomic_block or conn.needs_rollback
                        or conn.errors_occurred
                        or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]):
                    conn.close()
            _last_use.at = time.monotonic()

    return run


def in_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run `function` (database work, a service call) in a thread of the interactive pool:
    someone is waiting for its answer."""
    return sync_to_async(_kept_connection(function), thread_sensitive=False,
                         executor=_interactive)


def in_refresh_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a state read pushed by a change (or the periodic refresh) in its own small pool."""
    return sync_to_async(_kept_connection(function), thread_sensitive=False,
                         executor=_refreshes)


def error_message(error: Exception) -> dict[str, Any]:
    if isinstance(error, RuleViolation):
        return {"message": error.message, "article": error.article, "field": error.field,
                "code": error.code}
    if isinstance(error, InvalidInput):
        return {"message": str(error), "fields": error.errors}
    return {"message": str(error)}


# Changes that come in a burst (mute all, a dozen quality reports) are sent as one state:
# a consumer waits this long after the first change before it reads the state again.
COALESCE_SECONDS = 0.25
# Line telemetry: shown on the consoles within a second (R18), without a read per sample.
TELEMETRY_COALESCE_SECONDS = 1.0
# Consoles and pages also read the state again this often: with the in-process channel
# layer of one machine, a change the worker makes (a lost connection closed, a meeting ended
# by the system) has no way to reach them otherwise. With Redis it only costs a query.
REFRESH_SECONDS = 20.0
# While a SIP call of the meeting is under way, its console reads every 2 s (the agent's
# reports come from another process).
CALLS_REFRESH_SECONDS = 2.0


class _LiveConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]
    refresh_pending = False
    _refresh_timer: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # R22: the audit events of a socket's actions carry the client's address, as those of
        # the pages do (RequestContextMiddleware). Everything the consumer runs — its tasks,
        # and the service calls in worker threads — inherits this context.
        client = scope.get("client") or (None, None)
        # The changes its threads make are told through this loop without waiting for it.
        broadcast.consumer_loop.set(asyncio.get_running_loop())
        with acting_from(client[0] or None):
            await super().__call__(scope, receive, send)

    async def live_changed(self, event: dict[str, Any]) -> None:
        # Changes are coalesced: the state is read again a moment after the first, and the
        # changes that arrive meanwhile find that read pending and are covered by it. It stays
        # pending until the read really starts (`_read_state`): on a busy server the read may
        # wait for a thread, and every change until then is covered by that one read, so a
        # socket never has more than one read queued. Line samples (every 5 s from each
        # endpoint) wait longer than a host's action: a console of 30 lines would otherwise
        # read its whole state several times a second.
        delay = TELEMETRY_COALESCE_SECONDS if event.get("telemetry") else COALESCE_SECONDS
        loop = asyncio.get_running_loop()
        timer = getattr(self, "_refresh_timer", None)
        if self.refresh_pending:
            if timer is not None and timer.when() > loop.time() + delay:
                timer.cancel()  # this change wants it sooner
                self._refresh_timer = loop.call_later(delay, self._start_refresh)
            return
        self.refresh_pending = True
        self._refresh_timer = loop.call_later(delay, self._start_refresh)

    def _start_refresh(self) -> None:
        self._refresh_timer = None
        task = asyncio.get_running_loop().create_task(self._refresh())
        self._refresh_task = task  # keep a reference until it is done

    async def _refresh(self) -> None:
        try:
            await self.send_state(refresh=True)
        except Exception:  # the socket closed meanwhile
            log.debug("live state not sent", exc_info=True)
            self.refresh_pending = False

    async def send_state(self, *, refresh: bool = False) -> None:
        state = await (in_refresh_thread if refresh else in_thread)(self._read_state)()
        await self.send_json({"type": "state", **self.state_sent(state)})

    def _read_state(self) -> dict[str, Any]:
        # From here on, a change is not covered by this read: the next one schedules another.
        self.refresh_pending = False
        return self.state()

    def state(self) -> dict[str, Any]:
        """The socket's state, read in a worker thread."""
        raise NotImplementedError

    def state_sent(self, state: dict[str, Any]) -> dict[str, Any]:
        return state

    async def join_groups(self, *names: str) -> None:
        self.groups_joined = list(names)
        for name in names:
            await self.channel_layer.group_add(name, self.channel_name)
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        waited = 0.0
        while True:
            await asyncio.sleep(1.0)
            waited += 1.0
            if waited >= self.refresh_seconds():  # it may shorten meanwhile
                waited = 0.0
                await self.live_changed({})
                await in_refresh_thread(self._keep_session)()

    def _keep_session(self) -> None:
        # A console or a room open for a long meeting is in use: its sign-in must not lapse
        # for idleness (the socket would then fail to reconnect). Read fresh, so a change the
        # pages made meanwhile (or a sign-out) is never overwritten.
        user, session = self.scope.get("user"), self.scope.get("session")
        if user is None or not user.is_authenticated or session is None:
            return
        keep_session_alive(getattr(session, "session_key", None), user.pk)

    def refresh_seconds(self) -> float:
        return REFRESH_SECONDS

    async def disconnect(self, code: int) -> None:
        ticker = getattr(self, "_ticker", None)
        if ticker is not None:
            ticker.cancel()
        timer = getattr(self, "_refresh_timer", None)
        if timer is not None:
            timer.cancel()
        for name in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(name, self.channel_name)

    async def run_action(self, content: dict[str, Any], call: Callable[[], Any]) -> None:
        request = content.get("request")
        try:
            await in_thread(call)()
        except (RuleViolation, InvalidInput, InvalidTransition, PermissionDenied) as error:
            await self.send_json({"type": "error", "request": request, **error_message(error)})
            return
        await self.send_json({"type": "result", "request": request, "ok": True})


class MeetingConsoleConsumer(_LiveConsumer):
    """The host console of one meeting (ws/live/meetings/<id>/), for its controllers and the
    operators."""

    async def connect(self) -> None:
        self.user: User = self.scope.get("user")
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        allowed = await in_thread(self._allowed)()
        if not allowed:
            await self.close(code=4403)
            return
        await self.accept()
        await self.join_groups(broadcast.meeting_group(self.meeting_id))
        await self.send_state()

    def _allowed(self) -> bool:
        if self.user is None or not self.user.is_authenticated:
            return False
        if not two_factor.satisfied(self.user, self.scope.get("session")):
            return False
        meeting = Meeting.objects.filter(pk=self.meeting_id).select_related("host_agency").first()
        return meeting is not None and can_control(self.user, meeting)

    calls_under_way = False

    def state_sent(self, state: dict[str, Any]) -> dict[str, Any]:
        # The node's mixer agent is another process: with the in-process channel layer its
        # changes (ringing, answered…) reach this console only when it reads again.
        self.calls_under_way = any(call["active"] for call in state.get("calls", []))
        return state

    def refresh_seconds(self) -> float:
        return CALLS_REFRESH_SECONDS if self.calls_under_way else REFRESH_SECONDS

    def state(self) -> dict[str, Any]:
        return selectors.live_state(Meeting.objects.get(pk=self.meeting_id), user=self.user)

    async def live_told(self, event: dict[str, Any]) -> None:  # only for participants
        return

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        action = str(content.get("action", ""))
        handler = self.ACTIONS.get(action)
        contributed = extensions.action(action) if handler is None else None
        if handler is None and contributed is None:
            await self.send_json({"type": "error", "request": content.get("request"),
                                  "message": _("Unknown action.")})
            return
        if handler is not None:
            await self.run_action(content, lambda: handler(self, content))
        else:
            assert contributed is not None
            await self.run_action(
                content, lambda: contributed(self.user, self._meeting(), content))

    # Each action: the meeting and the participation are read again, inside the thread.
    def _meeting(self) -> Meeting:
        return Meeting.objects.select_related("host_agency").get(pk=self.meeting_id)

    def _participation(self, content: dict[str, Any]) -> Participation:
        try:
            return Participation.objects.get(pk=_pk(content.get("participation")),
                                             meeting_id=self.meeting_id)
        except (Participation.DoesNotExist, ValueError, TypeError):
            raise InvalidInput({"participation": [_("This endpoint is not connected.")]}
                               ) from None

    def _mute(self, content: dict[str, Any]) -> None:
        control.set_audio(self._participation(content), muted=True, actor=self.user)

    def _floor(self, content: dict[str, Any]) -> None:
        control.give_floor(self._participation(content), actor=self.user)

    def _lower(self, content: dict[str, Any]) -> None:
        control.lower_hand(self._participation(content), actor=self.user, by_host=True)

    def _mute_all(self, content: dict[str, Any]) -> None:
        control.mute_all(self._meeting(), actor=self.user)

    def _spotlight(self, content: dict[str, Any]) -> None:
        target = self._participation(content) if content.get("participation") else None
        control.set_spotlight(self._meeting(), target, actor=self.user)

    def _lock(self, content: dict[str, Any]) -> None:
        control.set_locked(self._meeting(), locked=bool(content.get("locked")), actor=self.user)

    def _kick(self, content: dict[str, Any]) -> None:
        control.kick(self._participation(content), actor=self.user)

    def _record(self, content: dict[str, Any]) -> None:
        control.set_recording(self._meeting(), recording=bool(content.get("on")),
                              actor=self.user)

    def _start(self, content: dict[str, Any]) -> None:
        session.start_session(self._meeting(), actor=self.user)

    def _end(self, content: dict[str, Any]) -> None:
        session.end_meeting(self._meeting(), actor=self.user)

    # SIP terminals and the upstream link (R23–R25)
    def _endpoint(self, content: dict[str, Any]) -> Endpoint:
        try:
            return Endpoint.objects.select_related("agency").get(
                pk=_pk(content.get("endpoint")))
        except (Endpoint.DoesNotExist, ValueError, TypeError):
            raise InvalidInput({"endpoint": [_("Choose an endpoint of the meeting.")]}
                               ) from None

    def _call(self, content: dict[str, Any]) -> None:
        sip.request_call(self._meeting(), self._endpoint(content), actor=self.user)

    def _hangup(self, content: dict[str, Any]) -> None:
        try:
            call = SipCall.objects.get(pk=_pk(content.get("call")),
                                       meeting_id=self.meeting_id)
        except (SipCall.DoesNotExist, ValueError, TypeError):
            raise InvalidInput({"call": [_("This call is not of this meeting.")]}) from None
        sip.request_hangup(call, actor=self.user)

    def _layout(self, content: dict[str, Any]) -> None:
        control.set_layout(self._meeting(), str(content.get("layout") or ""), actor=self.user)

    def _call_upstream(self, content: dict[str, Any]) -> None:
        sip.call_upstream(self._meeting(), actor=self.user)

    def _test_upstream(self, content: dict[str, Any]) -> None:
        sip.test_upstream_link(self._meeting(), actor=self.user)

    def _upstream_link(self, content: dict[str, Any]) -> None:
        interconnection.set_upstream_link(self._meeting(), str(content.get("uri") or ""),
                                          actor=self.user)

    def _escalate(self, content: dict[str, Any]) -> None:
        endpoint = content.get("endpoint")
        control.escalate(self._meeting(), description=str(content.get("description", "")),
                         actor=self.user, endpoint_id=int(endpoint) if endpoint else None)

    ACTIONS: dict[str, Callable[[MeetingConsoleConsumer, dict[str, Any]], None]] = {
        "mute": _mute,
        "give_floor": _floor,
        "lower_hand": _lower,
        "mute_all": _mute_all,
        "spotlight": _spotlight,
        "lock": _lock,
        "kick": _kick,
        "record": _record,
        "start": _start,
        "end": _end,
        "escalate": _escalate,
        "call": _call,
        "hangup": _hangup,
        "layout": _layout,
        "call_upstream": _call_upstream,
        "test_upstream": _test_upstream,
        "upstream_link": _upstream_link,
    }


class OperatorConsoleConsumer(_LiveConsumer):
    """All live meetings, node load, poor connections, open incidents (ws/live/operator/)."""

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        if not await in_thread(self._allowed)():
            await self.close(code=4403)
            return
        await self.accept()
        await self.join_groups(broadcast.OPERATORS_GROUP)
        await self.send_state()

    def _allowed(self) -> bool:
        user = self.user
        return bool(user is not None and user.is_authenticated and is_operator(user)
                    and two_factor.satisfied(user, self.scope.get("session")))

    def state(self) -> dict[str, Any]:
        return selectors.operator_overview_json()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """One action: the MCU calls an absent hardware terminal of a meeting (the same
        service as the host console's, which checks the operator's rights again)."""
        if not isinstance(content, dict):
            return
        if content.get("action") != "call":
            await self.send_json({"type": "error", "request": content.get("request"),
                                  "message": _("Unknown action.")})
            return
        await self.run_action(content, lambda: self._call(content))

    def _call(self, content: dict[str, Any]) -> None:
        meeting = Meeting.objects.select_related("host_agency").filter(
            pk=_pk(content.get("meeting"))).first()
        endpoint = Endpoint.objects.select_related("agency").filter(
            pk=_pk(content.get("endpoint"))).first()
        if meeting is None or endpoint is None:
            raise InvalidInput({"endpoint": [_("Choose an endpoint of the meeting.")]})
        sip.request_call(meeting, endpoint, actor=self.user)


class ParticipantConsumer(_LiveConsumer):
    """One connected endpoint's page (ws/live/participant/). Its first message is
    `{"action": "hello", "key": <the access key of its grant>}` (kept out of URLs and logs).
    Closing the socket ends the participation (the endpoint left or lost its line)."""

    participation_id: int | None = None

    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        action = str(content.get("action", ""))
        if self.participation_id is None:
            if action != "hello":
                await self.close(code=4401)
                return
            await self._hello(str(content.get("key", "")))
            return
        handler = self.ACTIONS.get(action)
        contributed = extensions.action(action) if handler is None else None
        if handler is None and contributed is None:
            await self.send_json({"type": "error", "request": content.get("request"),
                                  "message": _("Unknown action.")})
            return
        if handler is not None:
            await self.run_action(content, lambda: handler(self, content))
        else:
            assert contributed is not None
            await self.run_action(
                content, lambda: contributed(self.user, self._meeting(), content))

    async def _hello(self, key: str) -> None:
        try:
            participation = await in_thread(participations.participation_for_key)(key)
        except PermissionDenied as error:
            await self.send_json({"type": "error", **error_message(error)})
            await self.close(code=4403)
            return
        self.participation_id = participation.pk
        await self.join_groups(
            broadcast.participants_group(participation.meeting_id),
            broadcast.participant_group(participation.pk),
        )
        await self.send_state()

    @property
    def my_id(self) -> int:
        assert self.participation_id is not None, "only after hello"
        return self.participation_id

    def state(self) -> dict[str, Any]:
        return selectors.participant_view(Participation.objects.get(pk=self.my_id))

    async def live_told(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "told", "event": event.get("event"),
                              "reason": event.get("reason")})

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.participation_id is not None:
            await in_thread(self._lost)()

    def _lost(self) -> None:
        participation = Participation.objects.select_related("node").get(pk=self.my_id)
        if participation.left_at is None:
            participations.leave(participation, reason=LeaveReason.LOST)
            participations.kick_from_janus(participation)

    def _me(self) -> Participation:
        return Participation.objects.select_related("meeting", "node").get(pk=self.my_id)

    def _publisher(self, content: dict[str, Any]) -> None:
        grants.join_publisher(self._me(), session_id=_int(content, "session_id"),
                               handle_id=_int(content, "handle_id"))

    def _subscriber(self, content: dict[str, Any]) -> None:
        feeds = content.get("feeds") or []
        if not isinstance(feeds, list):
            raise InvalidInput({"feeds": [_("A list of pictures is expected.")]})
        grants.join_subscriber(self._me(), session_id=_int(content, "session_id"),
                                handle_id=_int(content, "handle_id"),
                                feeds=[int(f) for f in feeds])

    def _published(self, content: dict[str, Any]) -> None:
        grants.record_published(self._me(), audio_mid=str(content.get("audio_mid") or ""),
                                 video_mid=str(content.get("video_mid") or ""))

    def _raise(self, content: dict[str, Any]) -> None:
        control.raise_hand(self._me())

    def _lower(self, content: dict[str, Any]) -> None:
        control.lower_hand(self._me())

    def _mute_self(self, content: dict[str, Any]) -> None:
        control.mute_self(self._me())

    def _unmute_self(self, content: dict[str, Any]) -> None:
        control.unmute_self(self._me())

    def _yield_floor(self, content: dict[str, Any]) -> None:
        control.yield_floor(self._me())

    def _attendees(self, content: dict[str, Any]) -> None:
        telemetry.report_attendees(self._me(), _int(content, "count"))

    def _quality(self, content: dict[str, Any]) -> None:
        telemetry.report_quality(
            self._me(),
            rtt_ms=_optional_int(content.get("rtt_ms")),
            loss_percent=_optional_float(content.get("loss_percent")),
            bitrate_kbps=_optional_int(content.get("bitrate_kbps")),
        )

    def _leave(self, content: dict[str, Any]) -> None:
        # A page whose media server went away says so: the attendance shows a lost line.
        reason = LeaveReason.LOST if content.get("reason") == "lost" else LeaveReason.LEFT
        me = self._me()
        participations.leave(me, reason=reason)
        participations.kick_from_janus(me)

    ACTIONS: dict[str, Callable[[ParticipantConsumer, dict[str, Any]], None]] = {
        "publisher": _publisher,
        "subscriber": _subscriber,
        "published": _published,
        "raise_hand": _raise,
        "lower_hand": _lower,
        "mute_self": _mute_self,
        "unmute_self": _unmute_self,
        "yield_floor": _yield_floor,
        "attendees": _attendees,
        "quality": _quality,
        "leave": _leave,
    }


def _pk(value: Any) -> int:
    """An id from a message; 0 (found nowhere) for anything the database cannot hold."""
    text = str(value if value is not None else "")
    return int(text) if is_id(text) else 0


def _int(content: dict[str, Any], name: str) -> int:
    try:
        return int(content[name])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput({name: [_("A whole number is expected.")]}) from None


def _optional_int(value: Any) -> int | None:
    try:
        return None if value is None else int(float(value))
    except (TypeError, ValueError):
        return None


def _optional_float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
