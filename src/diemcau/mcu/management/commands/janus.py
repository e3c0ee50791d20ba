"""`diemcau janus config|run`: write the project's safe Janus config folder, and run Janus on
it in the foreground (for systemd or a terminal), optionally registering it as an MCU node."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from diemcau.core.errors import InvalidInput
from diemcau.mcu import janus_config
from diemcau.mcu.models import McuNode, mixers_for_this_machine
from diemcau.mcu.services import NodeInput, register_local_node

NOT_INSTALLED = "the janus Debian package is not installed (apt-get install janus)"
_CONFIG_OPTIONS = ("dir", "interface", "rtp_range", "http_port", "admin_port", "ws_port")
# How far `--free-ports` looks above each configured port.
_PORT_SEARCH = 100
# `run --keep-running`: Janus is started again this long after it dies.
RESTART_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Janus for this machine: `config` writes the config folder (APIs on 127.0.0.1, "
        "secrets, no public STUN, one ICE interface, a fixed RTP port range); `run` writes it "
        "if missing and runs Janus in the foreground."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, text in (("config", "write the config folder"),
                           ("run", "run Janus on the config folder (foreground)")):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--dir", help=f"config folder (default {settings.JANUS_DIR})")
            cmd.add_argument("--interface", help="the one interface ICE may use (e.g. eth0)")
            cmd.add_argument("--rtp-range", help="UDP port range for media, e.g. 20000-20200")
            cmd.add_argument("--node", help=f"MCU node name (default {settings.JANUS_NODE_NAME})")
            cmd.add_argument("--http-port", type=int)
            cmd.add_argument("--admin-port", type=int)
            cmd.add_argument("--ws-port", type=int)
        run = sub.choices["run"]  # type: ignore[attr-defined]
        run.add_argument("--register", action="store_true",
                         help="create or update the MCU node row for this Janus first")
        run.add_argument("--max-meetings", type=int, help="capacity when registering")
        run.add_argument("--max-endpoints", type=int, help="capacity when registering")
        run.add_argument("--rewrite", action="store_true",
                         help="write the config again even if it exists")
        run.add_argument("--free-ports", action="store_true",
                         help="when an API port is taken (another Janus, a second checkout), "
                              "use the next free one")
        run.add_argument("--debug-level", type=int, choices=range(8),
                         help="Janus log level on stdout (default: the config's, 4)")
        run.add_argument("--keep-running", action="store_true",
                         help="stay as Janus's parent and start it again "
                              f"{RESTART_SECONDS:.0f} s after it dies, without starting Python "
                              "and Django again (a meeting waits for its media server)")
        run.add_argument("--supervised", action="store_true",
                         help="started by a supervisor script (scripts/run.sh): Janus gets "
                              "its own session, and SIGTERM when the supervisor dies")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "config":
            config = self._config(options)
            self._write(config)
            return
        self._run(options)

    def _config(self, options: dict[str, Any]) -> janus_config.JanusConfig:
        try:
            return janus_config.config_from_settings(
                Path(options["dir"]) if options["dir"] else None,
                interface=options["interface"],
                rtp_port_range=options["rtp_range"],
                http_port=options["http_port"],
                admin_port=options["admin_port"],
                ws_port=options["ws_port"],
                server_name=options["node"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def _write(self, config: janus_config.JanusConfig) -> None:
        for path in [*janus_config.write_config(config), *janus_config.write_extensions(config)]:
            self.stdout.write(f"wrote {path}")
        if not config.interface:
            self.stderr.write("warning: no ICE interface chosen (no default route found); "
                              "media will not flow until --interface is given")
        self.stdout.write(_urls(config))

    def _run(self, options: dict[str, Any]) -> None:
        binary = settings.JANUS_BINARY
        if not os.access(binary, os.X_OK):
            raise CommandError(NOT_INSTALLED)
        config = self._config(options)
        given = any(options[name] for name in _CONFIG_OPTIONS if name != "dir")
        if options["free_ports"]:
            moved = _with_free_ports(config)
            given = given or moved != config
            config = moved
        if options["rewrite"] or given or not config.main_file.exists():
            self._write(config)
        else:
            self.stdout.write(_urls(config))
        if options["register"]:
            self._register(config, options)
        command = janus_config.janus_command(config, binary)
        if options["debug_level"] is not None:
            command += ["--debug-level", str(options["debug_level"])]
        self.stdout.write("running " + " ".join(command))
        self.stdout.flush()
        connections.close_all()
        if options["supervised"]:
            _detach_from_terminal_signals()
        if options["keep_running"]:
            self._keep_running(binary, command)
            return
        os.execv(binary, command)

    def _keep_running(self, binary: str, command: list[str]) -> None:
        """Janus as a child, started again RESTART_SECONDS after it dies: a restart then
        costs Janus's own start, not Python's and Django's as well (seconds on a busy
        machine). SIGTERM and SIGINT are passed on to Janus, and end the loop."""
        stopping = False
        child = 0

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True
            if child:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            child = os.fork()
            if child == 0:  # Janus; it dies with this process
                with contextlib.suppress(OSError):
                    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
                os.execv(binary, command)
            _pid, status = os.waitpid(child, 0)  # retried after our signal handler (PEP 475)
            child = 0
            if stopping:
                break
            self.stderr.write(f"Janus stopped ({_exit_text(status)}); starting it again in "
                              f"{RESTART_SECONDS:.0f} s")
            self.stderr.flush()
            _sleep_unless(lambda: stopping, RESTART_SECONDS)

    def _register(self, config: janus_config.JanusConfig, options: dict[str, Any]) -> None:
        written = janus_config.read_node_file(config.directory)
        name = options["node"] or written.get("server_name") or settings.JANUS_NODE_NAME
        existing = McuNode.objects.filter(name=name).first()
        host = janus_config.sip_host(config)
        data = NodeInput(
            name=name,
            max_meetings=options["max_meetings"] or (existing.max_meetings if existing else 20),
            max_endpoints=options["max_endpoints"]
            or (existing.max_endpoints if existing else 200),
            janus_url=written["janus_url"],
            admin_url=written["admin_url"],
            ws_url=settings.JANUS_PUBLIC_WS_URL or written["ws_url"],
            api_secret=config.secrets.api_secret,
            admin_secret=config.secrets.admin_secret,
            room_admin_secret=config.secrets.room_admin_secret,
            max_mixers=existing.max_mixers if existing else mixers_for_this_machine(),
            # R24: what terminals dial; empty when this Janus takes no SIP terminals.
            sip_address=f"{host}:{settings.SIP_PORT}" if host else "",
        )
        try:
            node = register_local_node(data)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"MCU node {node.name} registered ({node.max_meetings} meetings, "
                          f"{node.max_endpoints} endpoints, {node.max_mixers} mixers)"
                          + (f"; SIP terminals dial {node.sip_address}" if node.sip_address
                             else ""))


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


def _sleep_unless(stopped: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not stopped() and time.monotonic() < deadline:
        time.sleep(0.05)


def _detach_from_terminal_signals() -> None:
    """Janus 1.1.2's signal handler is not async-signal-safe: a second SIGINT/SIGTERM that
    arrives while it handles the first (Ctrl+C reaches the whole process group, then the
    supervisor sends its own) deadlocks it for good. In its own session only the supervisor's
    one signal reaches it; the parent-death signal stops it if the supervisor is killed."""
    with contextlib.suppress(OSError):  # already a group leader: keep the group
        os.setsid()
    with contextlib.suppress(OSError):  # not Linux with glibc
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG, kept across execv


def _urls(config: janus_config.JanusConfig) -> str:
    return (
        f"Janus API {config.janus_url} (info: {config.janus_url}/info), admin "
        f"{config.admin_url}, WebSockets {config.ws_url}; ICE on {config.interface or '-'}, "
        f"RTP ports {config.rtp_port_range[0]}-{config.rtp_port_range[1]}; secrets in "
        f"{config.directory / janus_config.SECRETS_FILE}"
    )


def _with_free_ports(config: janus_config.JanusConfig) -> janus_config.JanusConfig:
    """The config with each API port moved up to the first free one. Janus runs without a
    transport whose port is taken, so a second `make run` (another checkout, or a Janus left
    over) would otherwise start a Janus the backend cannot reach."""
    http_port = _free_port(config.http_port, set())
    admin_port = _free_port(config.admin_port, {http_port})
    ws_port = _free_port(config.ws_port, {http_port, admin_port})
    return replace(config, http_port=http_port, admin_port=admin_port, ws_port=ws_port)


def _free_port(start: int, taken: set[int]) -> int:
    for port in range(start, min(start + _PORT_SEARCH, 65536)):
        if port not in taken and _can_listen(port):
            return port
    raise CommandError(f"no free port in {start}-{start + _PORT_SEARCH - 1} on "
                       f"{janus_config.LOOPBACK}")


def _can_listen(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like Janus's own listeners: a port whose last connections are in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((janus_config.LOOPBACK, port))
            sock.listen(1)
        except OSError:
            return False
    return True
