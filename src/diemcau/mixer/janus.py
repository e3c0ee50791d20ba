"""The mixer's Janus sessions: the backend's HTTP API with the api_secret, plus what the
mixer needs beyond `JanusClient`: JSEP in messages, trickle, and a long-poll thread that
hands each event to its handle's callback.

This module is the mixer's one touch point with `media.janus_client` (JanusAccess and
JanusClient), so moving that client elsewhere changes one import.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from diemcau.mcu.janus_client import (
    VIDEOROOM,
    JanusAccess,
    JanusClient,
    JanusError,
    JanusUnavailable,
)

__all__ = ["SIP", "VIDEOROOM", "Handle", "JanusAccess", "JanusError", "JanusSession",
           "JanusUnavailable"]

SIP = "janus.plugin.sip"
KEEPALIVE_SECONDS = 25.0  # Janus's session_timeout is 60 s in our config

log = logging.getLogger(__name__)

Event = dict[str, Any]


class _Client(JanusClient):
    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._post(path, body)


@dataclass
class Handle:
    session: JanusSession
    handle_id: int
    plugin: str
    on_event: Callable[[Event], None] | None = None

    def message(self, body: dict[str, Any], jsep: dict[str, Any] | None = None
                ) -> dict[str, Any]:
        """A plugin request; the plugin's data of a synchronous answer ({} for an ack: the
        result comes as an event). Plugin errors raise JanusError."""
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        answer = self.session.client.post(f"/{self.session.session_id}/{self.handle_id}",
                                          request)
        if answer["janus"] == "ack":
            return {}
        data = dict(answer.get("plugindata", {}).get("data", {}))
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "")))
        return data

    def trickle_completed(self) -> None:
        self.session.client.post(f"/{self.session.session_id}/{self.handle_id}",
                                 {"janus": "trickle", "candidate": {"completed": True}})

    def detach(self) -> None:
        self.session.handles.pop(self.handle_id, None)
        with contextlib.suppress(JanusError, JanusUnavailable):
            self.session.client.post(f"/{self.session.session_id}/{self.handle_id}",
                                     {"janus": "detach"})


@dataclass
class JanusSession:
    """One Janus session with a thread polling its events."""

    access: JanusAccess
    client: _Client = field(init=False)
    session_id: int = 0
    handles: dict[int, Handle] = field(default_factory=dict)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = _Client(self.access)

    def start(self) -> JanusSession:
        self.session_id = self.client.create_session()
        for target, name in ((self._poll, "janus-poll"), (self._keepalive, "janus-keepalive")):
            thread = threading.Thread(target=target, name=f"{name}-{self.session_id}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def attach(self, plugin: str, on_event: Callable[[Event], None] | None = None) -> Handle:
        handle = Handle(self, self.client.attach(self.session_id, plugin), plugin, on_event)
        self.handles[handle.handle_id] = handle
        return handle

    def close(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        with contextlib.suppress(JanusError, JanusUnavailable):
            self.client.destroy_session(self.session_id)

    @property
    def closed(self) -> bool:
        return self._stopped.is_set()

    def _poll(self) -> None:
        while not self._stopped.is_set():
            try:
                events = self.client.events(self.session_id)
            except JanusError as exc:
                log.warning("janus session %s: %s", self.session_id, exc)
                if exc.code == 458:  # no such session: Janus restarted or it timed out
                    self._stopped.set()
                    self._dispatch({"janus": "session_gone"})
                    return
                time.sleep(0.5)
                continue
            except JanusUnavailable as exc:
                if self._stopped.is_set():
                    return
                log.warning("janus session %s: %s", self.session_id, exc)
                time.sleep(0.5)
                continue
            for event in events:
                self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        sender = int(event.get("sender") or 0)
        targets = [self.handles[sender]] if sender in self.handles else (
            list(self.handles.values()) if not sender else [])
        for handle in targets:
            if handle.on_event is not None:
                try:
                    handle.on_event(event)
                except Exception:  # a callback's bug must not stop the poll
                    log.exception("janus event handler failed")

    def _keepalive(self) -> None:
        while not self._stopped.wait(KEEPALIVE_SECONDS):
            with contextlib.suppress(JanusError, JanusUnavailable):
                self.client.keepalive(self.session_id)


def plugin_data(event: Event) -> dict[str, Any]:
    return dict(event.get("plugindata", {}).get("data") or {})
