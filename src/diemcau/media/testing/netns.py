"""A network namespace with a veth pair to the root namespace, and a TCP forwarder.

    with MediaNetwork.create() as net:          # needs root and iproute2's `ip`
        net.root_link          # "dmt<pid>r<n>": give it to Janus (`JanusConfig(interface=…)`)
        net.root_address       # 10.213.x.1, the root end; net.ns_address is 10.213.x.2
        forward = net.forward(8088)   # a TcpForwarder on root_address → 127.0.0.1:8088
        net.command(["python", "-m", …])   # ["ip", "netns", "exec", net.name, …]

Names carry the pid of the test process (`diemcau-t<pid>-<n>`, links `dmt<pid>r<n>` and
`dmt<pid>n<n>`), so `cleanup_stale()` (called by `create`) deletes what dead test processes
left behind. Deleting the namespace deletes both veth ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import itertools
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

NS_PREFIX = "diemcau-t"
LINK_PREFIX = "dmt"
NETWORK = ipaddress.IPv4Network("10.213.0.0/16")  # cut into /30s, one per namespace
LOCK_FILE = Path("/run/lock/diemcau-netns.lock")
_NS_NAME = re.compile(rf"^{NS_PREFIX}(\d+)-(\d+)$")
_LINK_NAME = re.compile(rf"^{LINK_PREFIX}(\d+)[rn](\d+)$")
_counter = itertools.count()


class NetnsError(RuntimeError):
    """An `ip` command failed."""


def unavailable_reason() -> str:
    """Why namespaces cannot be made here ("" when they can)."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is missing (apt-get install iproute2)"
    if os.geteuid() != 0:
        return "network namespaces need root (the media-plane tests run as root in CI)"
    return ""


def skip_unless_available() -> None:
    """pytest.skip with the reason when namespaces cannot be made."""
    reason = unavailable_reason()
    if reason:
        import pytest

        pytest.skip(f"media plane: {reason}")


def ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _namespaces() -> list[str]:
    # "name (id: 3)" or just "name"
    return [line.split()[0] for line in ip("netns", "list", check=False).splitlines() if line]


def _links() -> list[str]:
    names = []
    for line in ip("-o", "link", "show", check=False).splitlines():
        parts = line.split(":", 2)
        if len(parts) > 1:
            names.append(parts[1].strip().split("@", 1)[0])
    return names


def cleanup_stale() -> list[str]:
    """Delete namespaces and root-side links of test processes that no longer run."""
    removed = []
    for name in _namespaces():
        match = _NS_NAME.match(name)
        if match and not _alive(int(match.group(1))):
            ip("netns", "del", name, check=False)
            removed.append(name)
    for name in _links():
        match = _LINK_NAME.match(name)
        if match and not _alive(int(match.group(1))):
            ip("link", "del", name, check=False)
            removed.append(name)
    return removed


def _used_addresses() -> set[ipaddress.IPv4Address]:
    used = set()
    for line in ip("-o", "-4", "addr", "show", check=False).splitlines():
        match = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", line)
        if match:
            used.add(ipaddress.IPv4Address(match.group(1)))
    return used


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 of NETWORK that no interface of the root namespace uses (start from the pid)."""
    subnets = list(NETWORK.subnets(new_prefix=30))
    used = _used_addresses()
    start = (os.getpid() * 7) % len(subnets)
    for index in range(len(subnets)):
        subnet = subnets[(start + index) % len(subnets)]
        if not any(address in subnet for address in used):
            return subnet
    raise NetnsError(f"no free /30 left in {NETWORK}")


@contextlib.contextmanager
def _allocation_lock() -> Iterator[None]:
    """Serialise address picking between test processes running at once."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class MediaNetwork:
    """One namespace and its veth pair (root end `root_link`, namespace end `ns_link`)."""

    name: str
    root_link: str
    ns_link: str
    root_address: str
    ns_address: str
    prefix: int = 30
    forwarders: list[TcpForwarder] = field(default_factory=list)

    @classmethod
    def create(cls) -> MediaNetwork:
        reason = unavailable_reason()
        if reason:
            raise NetnsError(reason)
        cleanup_stale()
        pid, n = os.getpid(), next(_counter)
        with _allocation_lock():
            subnet = _free_subnet()
            root_address, ns_address = (str(host) for host in subnet.hosts())
            net = cls(
                name=f"{NS_PREFIX}{pid}-{n}",
                root_link=f"{LINK_PREFIX}{pid}r{n}",
                ns_link=f"{LINK_PREFIX}{pid}n{n}",
                root_address=root_address,
                ns_address=ns_address,
            )
            try:
                net._build()
            except BaseException:
                net.delete()
                raise
        return net

    def _build(self) -> None:
        cidr = f"/{self.prefix}"
        ip("netns", "add", self.name)
        ip("link", "add", self.root_link, "type", "veth", "peer", "name", self.ns_link)
        ip("link", "set", self.ns_link, "netns", self.name)
        ip("addr", "add", self.root_address + cidr, "dev", self.root_link)
        ip("link", "set", self.root_link, "up")
        ip("-n", self.name, "addr", "add", self.ns_address + cidr, "dev", self.ns_link)
        ip("-n", self.name, "link", "set", self.ns_link, "up")
        ip("-n", self.name, "link", "set", "lo", "up")

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def forward(self, target_port: int, target_host: str = "127.0.0.1") -> TcpForwarder:
        """A forwarder on root_address (a free port) to target_host:target_port."""
        forwarder = TcpForwarder(self.root_address, (target_host, target_port))
        forwarder.start()
        self.forwarders.append(forwarder)
        return forwarder

    def delete(self) -> None:
        for forwarder in self.forwarders:
            forwarder.stop()
        self.forwarders.clear()
        ip("netns", "del", self.name, check=False)  # takes both veth ends with it
        if self.root_link in _links():
            ip("link", "del", self.root_link, check=False)

    def __enter__(self) -> MediaNetwork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.delete()


class TcpForwarder:
    """Accepts TCP on listen_host (a free port) and pipes each connection to `target`:
    the reverse proxy of production, for clients in the namespace."""

    def __init__(self, listen_host: str, target: tuple[str, int], listen_port: int = 0):
        self.target = target
        self._server = socket.create_server((listen_host, listen_port), backlog=64)
        self.host, self.port = self._server.getsockname()[:2]
        self._sockets: set[socket.socket] = set()
        self._ended: dict[socket.socket, int] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="tcp-forwarder", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            self._forget(source, sink)

    def _forget(self, *sockets: socket.socket) -> None:
        # A pair is closed once both directions have ended (each pipe shuts its sink down).
        with self._lock:
            for sock in sockets:
                self._ended[sock] = self._ended.get(sock, 0) + 1
                if self._ended[sock] >= 2:
                    del self._ended[sock]
                    self._sockets.discard(sock)
                    sock.close()

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()
        self._thread.join(timeout=2)
