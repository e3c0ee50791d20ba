"""A namespace, the forwarder to one Janus, and the endpoints a test starts on them.

    plane = MediaPlane(network, janus.access, log_dir)
    a = plane.endpoint("a")            # a fresh Janus token (admin `add_token`), started
    …
    plane.close()                      # every endpoint killed, tokens removed, forwarder shut
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

from diemcau.mcu.janus_client import (
    AdminClient,
    JanusAccess,
    JanusError,
    JanusUnavailable,
)

from .endpoint import MediaEndpoint, join_as_backend
from .netns import MediaNetwork


class MediaPlane:
    def __init__(self, network: MediaNetwork, access: JanusAccess, log_dir: Path) -> None:
        self.network = network
        self.access = access
        self.log_dir = log_dir
        url = urllib.parse.urlsplit(access.janus_url)
        self.forwarder = network.forward(url.port or 80, url.hostname or "127.0.0.1")
        # What the endpoints in the namespace use (the reverse proxy of production).
        self.janus_url = f"http://{self.forwarder.address}{url.path}"
        self.endpoints: list[MediaEndpoint] = []
        self.tokens: list[str] = []

    def new_token(self) -> str:
        """A stored token for the VideoRoom plugin, as the backend adds one per join."""
        token = secrets.token_urlsafe(16)
        AdminClient(self.access).add_token(token)
        self.tokens.append(token)
        return token

    def endpoint(self, name: str, *, token: str | None = None, start: bool = True,
                 **options: Any) -> MediaEndpoint:
        """A new endpoint (started unless start=False) with a fresh token unless given."""
        endpoint = MediaEndpoint(self.network.command, self.janus_url,
                                 self.new_token() if token is None else token, name=name,
                                 log_dir=self.log_dir, **options)
        self.endpoints.append(endpoint)
        if start:
            endpoint.start()
        return endpoint

    def join(self, attached: Any, *, room: int, pin: str, ptype: str = "publisher",
             **options: Any) -> float:
        """`join_as_backend` with this plane's Janus access."""
        return join_as_backend(self.access, attached.session_id, attached.handle_id,
                               room=room, pin=pin, ptype=ptype, **options)

    def close(self) -> None:
        endpoints, self.endpoints = self.endpoints, []
        for endpoint in endpoints:  # all at once: each closes its PeerConnections
            with contextlib.suppress(Exception):
                endpoint.send({"cmd": "stop"})
        deadline = time.monotonic() + 3
        for endpoint in endpoints:
            if endpoint.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    endpoint.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
            endpoint.kill()
        admin = AdminClient(self.access)
        for token in self.tokens:
            with contextlib.suppress(JanusError, JanusUnavailable):
                admin.remove_token(token)
        self.tokens.clear()
        self.forwarder.stop()
        with contextlib.suppress(ValueError):
            self.network.forwarders.remove(self.forwarder)


def handle_info(access: JanusAccess, session_id: int, handle_id: int) -> dict[str, Any]:
    """The admin API's `handle_info` of one handle (see AdminClient.handle_info)."""
    return AdminClient(access).handle_info(session_id, handle_id)
