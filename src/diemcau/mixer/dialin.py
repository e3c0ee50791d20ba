"""Dial-in: a terminal calls `<meeting code>@<node address>` (R24).

The SIP front (`sipfront`, Kamailio on the node's port 5060) hands every INVITE to this
listener: a Janus SIP handle registered there, with helper handles so that several calls
can come in at once (Janus gives a call to a free helper when the master is busy). For each
`incomingcall`, `decide(IncomingCall)` returns `Admit(room, spec)` or `Refuse(code,
reason)`: the caller's SIP URI, the address it called from and the dialled user part (the
meeting code) are what the backend matches against the invited endpoints' registered VCS
addresses and SIP accounts. A refusal is a clear SIP answer (404 for an unknown meeting
code, 403 for a device that is not invited) with a Reason header, and the decision is the
backend's to audit.

Handles are kept for the listener's life: a call that ends gives its handle back.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .janus import SIP, Event, Handle, JanusError, JanusSession, JanusUnavailable, plugin_data
from .legs import LegSpec
from .roomapi import RoomAccess
from .sipfront import DIALLED_HEADER, FRONT_HEADER, HEADER_PREFIX, SOURCE_HEADER, FrontSettings
from .webrtc import NegotiationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingCall:
    caller: str  # the From URI, e.g. "sip:vcs@10.1.2.3"
    source: str  # the address the INVITE came from (set by the front, not by the caller)
    dialled: str  # the user part dialled: the meeting code
    display: str
    call_id: str


@dataclass(frozen=True)
class Admit:
    room: RoomAccess
    spec: LegSpec


@dataclass(frozen=True)
class Refuse:
    code: int
    reason: str


UNKNOWN_MEETING = Refuse(404, "Not Found")  # no meeting with that code here
NOT_INVITED = Refuse(403, "Forbidden")  # not an admitted endpoint invited to the meeting
NOT_THROUGH_FRONT = Refuse(403, "Forbidden")

Decision = Admit | Refuse


def _header(headers: dict[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def incoming_call(result: dict[str, Any], call_id: str) -> IncomingCall:
    headers = result.get("headers") or {}
    callee = str(result.get("callee") or "")
    dialled = _header(headers, DIALLED_HEADER) or callee.split(":", 1)[-1].split("@", 1)[0]
    return IncomingCall(str(result.get("username") or ""), _header(headers, SOURCE_HEADER),
                        dialled, str(result.get("displayname") or "").strip('"'), call_id)


class DialIn:
    def __init__(self, host: Any, decide: Callable[[IncomingCall], Decision], *,
                 front: FrontSettings, spare: int = 2,
                 on_refused: Callable[[IncomingCall, Refuse], None] | None = None) -> None:
        self.host = host
        self.decide = decide
        self.front = front
        self.spare = spare
        self.on_refused = on_refused
        self.free: list[Handle] = []
        self.busy: dict[int, Handle] = {}
        self._lock = threading.Lock()
        self._registered: dict[int, threading.Event] = {}
        self._master_id = 0
        self.session = JanusSession(host.janus).start()
        try:
            self.master = self._attach()
            self.master.message({
                "request": "register", "username": front.listener_uri,
                "secret": secrets.token_hex(8),  # the front does not challenge the node
                "proxy": front.registrar, "display_name": "diemcau dial-in",
                "incoming_header_prefixes": [HEADER_PREFIX], "register_ttl": 600})
            self._wait_registered(self.master)
            for _ in range(spare):
                self._add_helper()
        except BaseException:
            self.session.close()
            raise

    # ------------------------------------------------------------------ handles

    def _attach(self) -> Handle:
        handle = self.session.attach(SIP)
        handle.on_event = lambda event, h=handle: self._event(h, event)
        self._registered[handle.handle_id] = threading.Event()
        return handle

    def _wait_registered(self, handle: Handle) -> None:
        if not self._registered[handle.handle_id].wait(10):
            raise JanusError(0, "the dial-in listener did not register at the SIP front")
        with self._lock:
            self.free.append(handle)

    def _add_helper(self) -> None:
        helper = self._attach()
        helper.message({"request": "register", "type": "helper",
                        "username": self.front.listener_uri, "master_id": self._master_id,
                        "incoming_header_prefixes": [HEADER_PREFIX]})
        self._wait_registered(helper)

    def _release(self, handle: Handle) -> None:
        """A call ended: its handle takes calls again."""
        handle.on_event = lambda event, h=handle: self._event(h, event)
        with self._lock:
            self.busy.pop(handle.handle_id, None)
            if handle not in self.free:
                self.free.append(handle)

    # ------------------------------------------------------------------ calls

    def _event(self, handle: Handle, event: Event) -> None:
        data = plugin_data(event)
        result = data.get("result") or {}
        name = result.get("event")
        if name == "registered":
            if handle is getattr(self, "master", None) or not self._master_id:
                self._master_id = int(result.get("master_id") or self._master_id)
            self._registered[handle.handle_id].set()
        elif name == "registration_failed":
            log.error("dial-in: registration at the SIP front failed: %s", result)
        elif name == "incomingcall":
            jsep = event.get("jsep") or {}
            call = incoming_call(result, str(data.get("call_id") or result.get("call_id")))
            with self._lock:
                if handle in self.free:
                    self.free.remove(handle)
                self.busy[handle.handle_id] = handle
            threading.Thread(target=self._incoming, args=(handle, call, result, jsep),
                             daemon=True, name="dialin-call").start()

    def _incoming(self, handle: Handle, call: IncomingCall, result: dict[str, Any],
                  jsep: dict[str, Any]) -> None:
        headers = result.get("headers") or {}
        if _header(headers, FRONT_HEADER) != self.front.token:
            # It reached the listener's own port, around the front: nothing it says about
            # its address can be trusted.
            self._refuse(handle, call, NOT_THROUGH_FRONT)
            return
        try:
            decision = self.decide(call)
        except Exception:
            log.exception("dial-in: the decision failed")
            decision = Refuse(500, "Server Internal Error")
        if isinstance(decision, Refuse):
            self._refuse(handle, call, decision)
            return
        if jsep.get("type") != "offer":
            self._refuse(handle, call, Refuse(488, "Not Acceptable Here"))
            return
        try:
            mixer = self.host.mixer(decision.room)
            leg = mixer.new_leg(decision.spec)
            leg.release_handle = self._release
            leg.answer(handle, jsep["sdp"], call.caller)
        except (NegotiationError, JanusError, JanusUnavailable, ValueError, RuntimeError) as exc:
            log.warning("dial-in from %s: %s", call.caller, exc)
            self._refuse(handle, call, Refuse(488, "Not Acceptable Here"))
            return
        self._keep_spare()

    def _refuse(self, handle: Handle, call: IncomingCall, refusal: Refuse) -> None:
        try:
            handle.message({"request": "decline", "code": refusal.code,
                            "headers": {"Reason": f'SIP;cause={refusal.code};'
                                                  f'text="{refusal.reason}"'}})
        except (JanusError, JanusUnavailable) as exc:
            log.warning("dial-in: decline failed: %s", exc)
        self._release(handle)
        if self.on_refused is not None:
            self.on_refused(call, refusal)

    def _keep_spare(self) -> None:
        with self._lock:
            missing = self.spare - len(self.free)
        for _ in range(max(missing, 0)):
            try:
                self._add_helper()
            except (JanusError, JanusUnavailable) as exc:
                log.warning("dial-in: no new helper: %s", exc)
                return

    def close(self) -> None:
        self.session.close()
