"""`diemcau janus run --keep-running`: a Janus that dies is started again by the command
itself, without Python and Django starting again; SIGTERM ends both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from diemcau.mcu.janus_client import JanusAccess, JanusClient, JanusUnavailable
from diemcau.mcu.testing.janus import free_ports

pytestmark = [
    pytest.mark.janus,
    pytest.mark.skipif(not os.access(settings.JANUS_BINARY, os.X_OK),
                       reason="the janus Debian package is not installed (apt-get install janus)"),
]


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def until(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("never came")
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        JanusClient(JanusAccess(url, "", timeout=1)).info()
    except JanusUnavailable:
        return False
    return True


def test_a_killed_janus_is_started_again_by_the_command(tmp_path):
    folder = tmp_path / "janus"
    http, admin, ws = free_ports(3)
    low = 41000 + (os.getpid() % 100) * 50
    env = {**os.environ, "DIEMCAU_VAR_DIR": str(tmp_path)}
    # This checkout's code, whatever the environment's install points at.
    source = str(Path(__file__).resolve().parents[3])
    start = (f"import runpy, sys; sys.path.insert(0, {source!r}); "
             "runpy.run_module('diemcau.manage', run_name='__main__')")
    command = [sys.executable, "-c", start, "janus", "run", "--keep-running",
               "--dir", str(folder), "--http-port", str(http), "--admin-port", str(admin),
               "--ws-port", str(ws), "--rtp-range", f"{low}-{low + 40}",
               "--debug-level", "2"]
    runner = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        node_file = folder / "node.json"
        until(node_file.exists, timeout=60)
        url = json.loads(node_file.read_text())["janus_url"]
        until(lambda: answers(url), timeout=30)
        first = until(lambda: children(runner.pid))[0]

        os.kill(first, signal.SIGKILL)  # Janus dies; the command is still there
        until(lambda: children(runner.pid) and children(runner.pid)[0] != first)
        until(lambda: answers(url))
        assert runner.poll() is None

        runner.send_signal(signal.SIGTERM)  # ends Janus, then the command
        assert runner.wait(timeout=20) == 0
        assert not answers(url)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert b"starting it again" in runner.stderr.read()
