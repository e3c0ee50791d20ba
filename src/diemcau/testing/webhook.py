"""A real HTTP server on 127.0.0.1 standing in for a webhook bridge (Zalo/Telegram), for the
tests of what the system sends out."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


@dataclass
class WebhookServer:
    """A bridge stand-in: records each POST and answers with `status`; `stop()` makes the
    address refuse connections, `start()` brings it back on the same port."""

    status: int = 200
    requests: list[SimpleNamespace] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                owner.requests.append(
                    SimpleNamespace(
                        path=self.path, headers=dict(self.headers), body=self.rfile.read(length)
                    )
                )
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
