"""A small synchronous client for the Janus HTTP API and admin API (urllib + json).

Only the backend talks to Janus this way: it holds the `api_secret`, the `admin_secret` and
the VideoRoom `admin_key`. Browsers use janus.js over WebSockets with a stored token.

Errors: a Janus or plugin error becomes `JanusError(code, reason)`; a Janus that cannot be
reached (refused, timed out, not JSON) becomes `JanusUnavailable`.
"""

from __future__ import annotations

import builtins
import http.client
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

# Janus's HTTP transport ends a long poll after 30 s with a keepalive.
LONG_POLL_SECONDS = 30.0
TIMEOUT = 5.0
VIDEOROOM = "janus.plugin.videoroom"


class JanusUnavailable(Exception):
    """Janus could not be reached or did not answer with Janus JSON."""


class JanusError(Exception):
    """Janus (or a plugin) refused a request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


# Codes seen from Janus 1.1.2 (janus.c and janus_videoroom.c).
UNAUTHORIZED_API = 403  # missing/wrong apisecret or token, or admin_secret
NO_SUCH_SESSION = 458  # Janus restarted, or the session timed out
NO_SUCH_HANDLE = 459
ROOM_NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
ROOM_NO_SUCH_FEED = 428
ROOM_MISSING_ELEMENT = 429  # e.g. no admin_key when one is configured
ROOM_INVALID_ELEMENT = 430
ROOM_UNAUTHORIZED = 433  # wrong pin, secret or admin_key


@dataclass(frozen=True)
class JanusAccess:
    """Where a node is and the secrets the backend uses with it."""

    janus_url: str
    admin_url: str
    api_secret: str = ""
    admin_secret: str = ""
    admin_key: str = ""
    timeout: float = TIMEOUT


def _transaction() -> str:
    return secrets.token_hex(8)


class _TimedOut(JanusUnavailable):
    """No answer within the timeout (a long poll without events ends this way too)."""


def _fetch(url: str, body: dict[str, Any] | None, timeout: float) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    label = url.split("?", 1)[0]  # messages never carry the query (it may hold apisecret)
    try:
        request = urllib.request.Request(
            url,
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
    except ValueError as exc:  # not a URL urllib can use
        raise JanusUnavailable(f"{label!r}: {exc}") from exc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read()  # Janus may put its JSON error in a non-200 answer
        if not raw:
            raise JanusUnavailable(f"{label}: HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise _TimedOut(f"{label}: timed out") from exc
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise _TimedOut(f"{label}: timed out") from exc
        raise JanusUnavailable(f"{label}: {reason}") from exc
    except http.client.HTTPException as exc:
        # A long poll cut mid-answer (its session destroyed, Janus stopping) ends in
        # IncompleteRead: Janus is not answering, the pollers' loops go on.
        raise JanusUnavailable(f"{label}: {type(exc).__name__}") from exc
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise JanusUnavailable(f"{label}: not a Janus answer") from exc


def _checked(url: str, answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict) or "janus" not in answer:
        raise JanusUnavailable(f"{url.split('?', 1)[0]}: not a Janus answer")
    if answer["janus"] == "error":
        error = answer.get("error") or {}
        raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
    return answer


def _call(url: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
    return _checked(url, _fetch(url, body, timeout))


class JanusClient:
    """The Janus API: sessions, handles, plugin messages."""

    def __init__(self, access: JanusAccess) -> None:
        self.access = access

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": _transaction()}
        if self.access.api_secret:
            body["apisecret"] = self.access.api_secret
        return _call(self.access.janus_url.rstrip("/") + path, body, self.access.timeout)

    def info(self) -> dict[str, Any]:
        return _call(self.access.janus_url.rstrip("/") + "/info", None, self.access.timeout)

    def create_session(self) -> int:
        return int(self._post("", {"janus": "create"})["data"]["id"])

    def attach(self, session_id: int, plugin: str = VIDEOROOM) -> int:
        answer = self._post(f"/{session_id}", {"janus": "attach", "plugin": plugin})
        return int(answer["data"]["id"])

    def keepalive(self, session_id: int) -> None:
        self._post(f"/{session_id}", {"janus": "keepalive"})

    def destroy_session(self, session_id: int) -> None:
        self._post(f"/{session_id}", {"janus": "destroy"})

    def message(self, session_id: int, handle_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Send a plugin request; return the plugin's data of a synchronous answer, or the
        `ack` of an asynchronous one (its result comes as an event)."""
        answer = self._post(f"/{session_id}/{handle_id}", {"janus": "message", "body": body})
        if answer["janus"] == "ack":
            return {}
        data = answer.get("plugindata", {}).get("data", {})
        _raise_plugin_error(data)
        return dict(data)

    def events(self, session_id: int, max_events: int = 10) -> list[dict[str, Any]]:
        """Long-poll the session's events; empty when none came (Janus answers a long poll
        within LONG_POLL_SECONDS, with a keepalive if nothing happened).

        The wait must outlast Janus's: a poll given up earlier stays pending inside Janus,
        which hands the next event to it — on a closed connection, so that event is lost
        (a dial-in's `incomingcall` after a quiet spell, for one)."""
        query = f"/{session_id}?maxev={max_events}&rid={_transaction()}"
        if self.access.api_secret:
            query += f"&apisecret={self.access.api_secret}"
        url = self.access.janus_url.rstrip("/") + query
        try:
            answer = _fetch(url, None, max(self.access.timeout, LONG_POLL_SECONDS + 10))
        except _TimedOut:
            return []
        items = answer if isinstance(answer, list) else [answer]
        return [_checked(url, item) for item in items if item.get("janus") != "keepalive"]

    @contextmanager
    def videoroom(self) -> Iterator[VideoRoom]:
        """A session with one VideoRoom handle, destroyed on leaving."""
        session_id = self.create_session()
        try:
            handle_id = self.attach(session_id, VIDEOROOM)
            yield VideoRoom(self, session_id, handle_id, self.access.admin_key)
        finally:
            # If this fails, the session times out on its own (session_timeout).
            with suppress(JanusError, JanusUnavailable):
                self.destroy_session(session_id)


def _raise_plugin_error(data: dict[str, Any]) -> None:
    if "error_code" in data:
        raise JanusError(int(data["error_code"]), str(data.get("error", "")))


class VideoRoom:
    """The VideoRoom requests the backend makes on one attached handle."""

    def __init__(self, client: JanusClient, session_id: int, handle_id: int, admin_key: str):
        self.client = client
        self.session_id = session_id
        self.handle_id = handle_id
        self.admin_key = admin_key

    def request(self, body: dict[str, Any], *, with_admin_key: bool = False) -> dict[str, Any]:
        if with_admin_key and self.admin_key:
            body = {**body, "admin_key": self.admin_key}
        return self.client.message(self.session_id, self.handle_id, body)

    def create(
        self,
        room: int,
        *,
        description: str,
        pin: str,
        secret: str,
        publishers: int = 30,
        record: bool = False,
        rec_dir: str = "",
        is_private: bool = True,
        **options: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "request": "create",
            "room": room,
            "description": description,
            "publishers": publishers,
            "pin": pin,
            "secret": secret,
            "is_private": is_private,
            "record": record,
            # Rooms live only in memory; the database is the source of truth (reconcile).
            "permanent": False,
            **options,
        }
        if rec_dir:
            body["rec_dir"] = rec_dir
        return self.request(body, with_admin_key=True)

    def exists(self, room: int) -> bool:
        return bool(self.request({"request": "exists", "room": room}).get("exists"))

    def list(self) -> builtins.list[dict[str, Any]]:
        """Every room, private ones too (only with the admin_key)."""
        return list(self.request({"request": "list"}, with_admin_key=True).get("list", []))

    def listparticipants(self, room: int) -> builtins.list[dict[str, Any]]:
        answer = self.request({"request": "listparticipants", "room": room})
        return list(answer.get("participants", []))

    def destroy(self, room: int, *, secret: str) -> None:
        self.request({"request": "destroy", "room": room, "secret": secret, "permanent": False})

    def edit(self, room: int, *, secret: str, **changes: Any) -> dict[str, Any]:
        """Change a room: `new_description`, `new_pin`, `new_secret`, `new_publishers`…"""
        body = {"request": "edit", "room": room, "secret": secret, "permanent": False, **changes}
        return self.request(body)

    def moderate(self, room: int, *, secret: str, participant: int, mid: str,
                 mute: bool) -> None:
        """Mute or unmute one stream (`mid`) of one participant."""
        self.request({"request": "moderate", "room": room, "secret": secret,
                      "id": participant, "mid": mid, "mute": mute})

    def kick(self, room: int, *, secret: str, participant: int) -> None:
        self.request({"request": "kick", "room": room, "secret": secret, "id": participant})

    def enable_recording(self, room: int, *, secret: str, record: bool) -> None:
        self.request({"request": "enable_recording", "room": room, "secret": secret,
                      "record": record})


class _KeptVideoRoom(VideoRoom):
    """A backend VideoRoom handle kept open between requests. A request that finds its
    session gone (Janus restarted, or it timed out) opens a new one and is sent again, once."""

    def __init__(self, access: JanusAccess) -> None:
        client = JanusClient(access)
        super().__init__(client, 0, 0, access.admin_key)
        self._open()

    def _open(self) -> None:
        self.session_id = self.client.create_session()
        try:
            self.handle_id = self.client.attach(self.session_id, VIDEOROOM)
        except (JanusError, JanusUnavailable):
            self.close()
            raise

    def request(self, body: dict[str, Any], *, with_admin_key: bool = False) -> dict[str, Any]:
        try:
            return super().request(body, with_admin_key=with_admin_key)
        except JanusError as exc:
            if exc.code not in (NO_SUCH_SESSION, NO_SUCH_HANDLE):
                raise
        self._open()
        return super().request(body, with_admin_key=with_admin_key)

    def close(self) -> None:
        with suppress(JanusError, JanusUnavailable):
            self.client.destroy_session(self.session_id)


class VideoRoomPool:
    """Backend VideoRoom handles kept per node by this process, so a mute or a grant costs
    one request to Janus instead of four (create a session, attach, the request, destroy).
    Nothing is shared between processes: each keeps its own, as it keeps its database
    connections. A handle idle longer than IDLE_SECONDS is dropped, well before Janus's
    session_timeout; one whose node stopped answering is never reused."""

    IDLE_SECONDS = 20.0

    def __init__(self) -> None:
        self._idle: dict[JanusAccess, list[tuple[float, _KeptVideoRoom]]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def handle(self, access: JanusAccess) -> Iterator[VideoRoom]:
        kept = self._take(access)
        try:
            yield kept
        except JanusUnavailable:
            kept.close()
            raise
        with self._lock:
            self._idle.setdefault(access, []).append((time.monotonic(), kept))

    def _take(self, access: JanusAccess) -> _KeptVideoRoom:
        stale = []
        found = None
        with self._lock:
            entries = self._idle.get(access, [])
            while entries:
                used_at, kept = entries.pop()
                if time.monotonic() - used_at < self.IDLE_SECONDS:
                    found = kept
                    break
                stale.append(kept)
        for kept in stale:
            kept.close()
        return found if found is not None else _KeptVideoRoom(access)


class AdminClient:
    """The admin API (needs the admin_secret)."""

    def __init__(self, access: JanusAccess) -> None:
        self.access = access

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": _transaction()}
        if self.access.admin_secret:
            body["admin_secret"] = self.access.admin_secret
        return _call(self.access.admin_url, body, self.access.timeout)

    def ping(self) -> None:
        answer = self._post({"janus": "ping"})
        if answer.get("janus") != "pong":
            raise JanusUnavailable(f"{self.access.admin_url}: no pong")

    def get_status(self) -> dict[str, Any]:
        """Core settings; unlike `ping`, it needs the right admin_secret."""
        return dict(self._post({"janus": "get_status"}).get("status", {}))

    def handle_info(self, session_id: int, handle_id: int) -> dict[str, Any]:
        """One handle's details. For a VideoRoom publisher, `plugin_specific.streams` lists
        its streams with `type` and `mid`: what `moderate` needs, learnt without trusting
        the browser."""
        body = {"janus": "handle_info", "transaction": _transaction()}
        if self.access.admin_secret:
            body["admin_secret"] = self.access.admin_secret
        url = f"{self.access.admin_url.rstrip('/')}/{session_id}/{handle_id}"
        return dict(_call(url, body, self.access.timeout).get("info", {}))

    def list_sessions(self) -> list[int]:
        return [int(s) for s in self._post({"janus": "list_sessions"}).get("sessions", [])]

    def add_token(self, token: str, plugins: list[str] | None = None) -> None:
        """Allow one stored token on the Janus API (`token_auth`), for some plugins only."""
        self._post({"janus": "add_token", "token": token, "plugins": plugins or [VIDEOROOM]})

    def remove_token(self, token: str) -> None:
        self._post({"janus": "remove_token", "token": token})

    def list_tokens(self) -> list[str]:
        answer = self._post({"janus": "list_tokens"})
        return [t["token"] for t in answer.get("data", {}).get("tokens", [])]
