"""A real Janus from a generated configuration, on free ports, in a folder of its own: for
the tests (fixtures in media/tests/conftest.py) and the media benchmark (bench/media.py)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from diemcau.mcu import janus_config
from diemcau.mcu.janus_client import AdminClient, JanusAccess, JanusClient, JanusUnavailable
from diemcau.mcu.services import NodeInput

NOT_INSTALLED = "the janus Debian package is not installed (apt-get install janus)"


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (the sockets stay open until all are picked)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class JanusProcess:
    """One Janus on its own generated folder and ports."""

    def __init__(self, directory: Path, interface: str | None = None) -> None:
        """`interface`: the one ICE may use (default: the default route's)."""
        http_port, admin_port, ws_port = free_ports(3)
        low = 40000 + (os.getpid() % 200) * 100  # media ports: unused here, but distinct
        self.config = janus_config.JanusConfig(
            directory=directory,
            secrets=janus_config.load_or_create_secrets(directory),
            interface=(janus_config.default_route_interface() if interface is None
                       else interface),
            rtp_port_range=(low, low + 99),
            http_port=http_port,
            admin_port=admin_port,
            ws_port=ws_port,
            lib_dir=Path(settings.JANUS_LIB_DIR),
            recordings_dir=directory / "recordings",
            server_name="diemcau-test",
            event_loops=settings.JANUS_EVENT_LOOPS,  # as `diemcau janus config` writes it
        )
        janus_config.write_config(self.config)
        self.log_path = directory / "janus.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def access(self) -> JanusAccess:
        secrets = self.config.secrets
        return JanusAccess(
            janus_url=self.config.janus_url,
            admin_url=self.config.admin_url,
            api_secret=secrets.api_secret,
            admin_secret=secrets.admin_secret,
            admin_key=secrets.room_admin_secret,
        )

    def client(self) -> JanusClient:
        return JanusClient(self.access)

    def admin(self) -> AdminClient:
        return AdminClient(self.access)

    def node_input(self, name: str = "mcu-test", **extra: Any) -> NodeInput:
        secrets = self.config.secrets
        data: dict[str, Any] = dict(
            name=name,
            max_meetings=10,
            max_endpoints=100,
            janus_url=self.config.janus_url,
            admin_url=self.config.admin_url,
            ws_url=self.config.ws_url,
            api_secret=secrets.api_secret,
            admin_secret=secrets.admin_secret,
            room_admin_secret=secrets.room_admin_secret,
        )
        data.update(extra)
        return NodeInput(**data)

    def start(self, timeout: float = 20.0) -> None:
        assert self.process is None, "already running"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                janus_config.janus_command(self.config, settings.JANUS_BINARY),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # our signals only reach this Janus
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RuntimeError(f"Janus exited ({code}) at start:\n{self.log_tail()}")
            try:
                self.client().info()
                self.admin().ping()
                return
            except JanusUnavailable:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Janus did not answer within {timeout}s:\n{self.log_tail()}")

    def stop(self, *, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _die_with_parent() -> None:
    """Linux: Janus gets SIGKILL if the test process dies before its finalizers run."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
