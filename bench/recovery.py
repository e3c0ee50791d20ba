"""Recovery benchmark: Janus killed mid-meeting, N times, with two real browsers in the room.

Debian's Chromium (Playwright, its fake camera and microphone) opens two room pages of one
meeting — the host district's endpoint and a commune's — against a real Janus on this
machine's default-route interface, the real ASGI server (uvicorn, WebSockets) and the node
watch the worker runs (`media.watch`). A supervisor starts Janus again `--restart-delay`
seconds after it dies, as `diemcau janus run --keep-running` does (scripts/run.sh and the
systemd unit run it so). `--via-django` starts it through a Python that runs `django.setup()`
first and then execs Janus, as a restart of the whole command (without --keep-running) does.

Each trial waits until both pages play (connected, the other endpoint's picture decoded and
advancing), sends SIGKILL to Janus, and times from the kill:

- Janus answers again (its `info`);
- the watch has recreated the room and told the pages (its "back" event);
- each page plays again: its state is "connected" (its own media reached Janus, every picture
  asked for delivered a frame) and the other endpoint's video has a size and advances.

The target is every trial within 10 s (bench/README.md, "Recovery").

    .venv/bin/python bench/recovery.py                     # 10 kills
    .venv/bin/python bench/recovery.py --kills 3 --restart-delay 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import machine  # bench/machine.py, beside this script

# Every picture of the page is decoded and advancing, and the page says it is connected.
PLAYS = """() => {
  const root = document.getElementById('live-room');
  if (!root || root.dataset.state !== 'connected') return false;
  const videos = Array.from(document.querySelectorAll('figure[data-feed] video'));
  if (!videos.length) return false;
  const now = videos.map(v => v.currentTime);
  const sized = videos.every(v => v.videoWidth > 0 && !v.paused);
  return new Promise(resolve => setTimeout(() => resolve(
    sized && videos.every((v, i) => v.currentTime > now[i])), 150));
}"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="trials (default 10)")
    parser.add_argument("--restart-delay", type=float, default=1.0,
                        help="seconds between Janus dying and its supervisor starting it "
                             "again (default 1, as scripts/run.sh and the systemd unit)")
    parser.add_argument("--via-django", action="store_true",
                        help="start Janus through a Python that sets Django up first, as "
                             "`diemcau janus run` without --keep-running does")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="a trial gives up after this long (default 60 s)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds both pages play before the next kill (default 3)")
    return parser.parse_args(argv)


def prepare_environment() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="diemcau-bench-recovery-"))
    os.environ.update(
        DIEMCAU_VAR_DIR=str(var_dir),
        DIEMCAU_RULEBOOK="khanh-hoa-2023",
        DIEMCAU_DEBUG="0",
        DIEMCAU_SECRET_KEY=secrets.token_urlsafe(40),
        DIEMCAU_HUEY_IMMEDIATE="1",
        DIEMCAU_HTTPS="0",
        DIEMCAU_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="diemcau.settings",
        # Playwright's sync API runs an event loop in the main thread, which reads the ORM.
        DJANGO_ALLOW_ASYNC_UNSAFE="true",
    )
    os.environ.setdefault("DIEMCAU_LOG_LEVEL", "WARNING")
    os.environ.pop("DATABASE_URL", None)
    return var_dir


# What `diemcau janus run` does before it becomes Janus (exec): Python starts, Django is
# set up. The supervisor's restarts go through the same, then exec the same Janus command.
VIA_DJANGO = """
import os, sys
import django
django.setup()
os.execv(sys.argv[1], sys.argv[1:])
"""


class Supervisor:
    """Starts Janus again `delay` seconds after it dies, through a Python that sets Django up
    first as `diemcau janus run` does (unless `direct`); remembers when it answered."""

    def __init__(self, janus: Any, delay: float, direct: bool = False) -> None:
        self.janus = janus
        self.delay = delay
        self.direct = direct
        self.stop = threading.Event()
        self.answered_at = 0.0
        self.thread = threading.Thread(target=self.run, name="janus-supervisor", daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            process = self.janus.process
            if process is not None and process.poll() is not None:
                self.janus.process = None
                if self.stop.wait(self.delay):
                    return
                if self.direct:
                    self.janus.start()  # returns once Janus answers `info` and the admin ping
                else:
                    self.start_via_django()
                self.answered_at = time.monotonic()
            self.stop.wait(0.2)

    def start_via_django(self) -> None:
        import subprocess

        from django.conf import settings

        from diemcau.mcu import janus_config
        from diemcau.mcu.janus_client import JanusUnavailable

        command = janus_config.janus_command(self.janus.config, settings.JANUS_BINARY)
        with open(self.janus.log_path, "ab") as log:
            self.janus.process = subprocess.Popen(
                [sys.executable, "-c", VIA_DJANGO, *command], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        while not self.stop.is_set():
            try:
                self.janus.client().info()
                self.janus.admin().ping()
                return
            except JanusUnavailable:
                time.sleep(0.05)


class Watch:
    """The worker's node watch, in a thread of this process (the in-memory channel layer
    reaches the pages served by the uvicorn thread)."""

    def __init__(self) -> None:
        from diemcau.media.watch import WATCH_SECONDS, NodeWatch

        self.watch = NodeWatch()
        self.seconds = WATCH_SECONDS
        self.stop = threading.Event()
        self.back_at = 0.0
        self.thread = threading.Thread(target=self.run, name="node-watch", daemon=True)

    def run(self) -> None:
        from django.db import close_old_connections

        while not self.stop.is_set():
            started = time.monotonic()
            close_old_connections()
            try:
                for event in self.watch.tick():
                    if event.kind == "back":
                        self.back_at = time.monotonic()
            except Exception as exc:  # keep watching, as the worker does
                print(f"watch round failed: {exc}", file=sys.stderr)
            self.stop.wait(max(0.0, self.seconds - (time.monotonic() - started)))


def serve() -> tuple[str, Any, threading.Thread]:
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config("diemcau.asgi:application", host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def plays(page: Any) -> bool:
    try:
        return bool(page.evaluate(PLAYS))
    except Exception:  # the page is reloading
        return False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from diemcau.testing.browser import CHROMIUM, CHROMIUM_ARGS, FAKE_MEDIA_ARGS

    if not os.access(settings.JANUS_BINARY, os.X_OK):
        print("the janus Debian package is not installed (apt-get install janus)",
              file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"Debian's chromium is not installed ({CHROMIUM})", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from diemcau.core.roles import Role
    from diemcau.mcu.services import poll_health, register_node
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.media.tests.live_fixtures import live_meeting
    from diemcau.scheduling.choices import Classification
    from diemcau.testing.browser import sign_in
    from diemcau.testing.factories import AgencyFactory, UserFactory

    call_command("migrate", verbosity=0, interactive=False)
    how = (" through a Python start with Django" if args.via_django
           else " (Janus itself, as `diemcau janus run --keep-running` does)")
    print(f"diemcau recovery benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{machine.describe()}\n{args.kills} kills (SIGKILL) of Janus, started again "
          f"{args.restart_delay:.0f} s after it dies{how}; two Chromium pages in the room",
          flush=True)
    janus = JanusProcess(var_dir / "janus")
    janus.config.directory.mkdir(parents=True, exist_ok=True)
    janus.start()
    supervisor = Supervisor(janus, args.restart_delay, direct=not args.via_django)
    watch = Watch()
    base, server, server_thread = serve()
    rows: list[dict[str, float]] = []
    try:
        operator = UserFactory(role=Role.OPERATOR)
        node = register_node(janus.node_input("mcu-recovery"), actor=operator)
        poll_health(node)
        district = AgencyFactory(kind="district_people_committee")
        commune = AgencyFactory(kind="commune_people_committee", parent=district)
        setup = live_meeting(node, district, [commune], classification=Classification.INTERNAL)
        UserFactory(role=Role.TECHNICIAN, agency=district, username="bench.host")
        UserFactory(role=Role.TECHNICIAN, agency=commune, username="bench.commune")
        supervisor.thread.start()
        watch.thread.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=[*CHROMIUM_ARGS, *FAKE_MEDIA_ARGS])
            pages = []
            for username in ("bench.host", "bench.commune"):
                context = browser.new_context(locale="vi-VN")
                context.grant_permissions(["camera", "microphone"], origin=base)
                page = context.new_page()
                page.set_default_timeout(30_000)
                sign_in(page, base, username)
                page.goto(f"{base}/live/meetings/{setup.meeting.pk}/join/")
                page.wait_for_selector("[data-check=janus][data-state=success], "
                                       "[data-check=janus][data-state=warning]")
                page.click("#join-button")
                page.wait_for_url("**/room/**")
                pages.append(page)
            for trial in range(1, args.kills + 1):
                wait_all(pages, args.timeout, "before the kill")
                time.sleep(args.settle)
                row = kill_and_time(janus, supervisor, watch, pages, args.timeout)
                rows.append(row)
                print(f"kill {trial}: Janus answers {row['janus']:.1f} s, room back and pages "
                      f"told {row['told']:.1f} s, pages play {row['page0']:.1f} s / "
                      f"{row['page1']:.1f} s → all {row['all']:.1f} s", flush=True)
            browser.close()
    finally:
        supervisor.stop.set()
        watch.stop.set()
        server.should_exit = True
        server_thread.join(timeout=10)
        janus.stop(kill=True)
    print_table(rows)
    return 0


def wait_all(pages: list[Any], timeout: float, what: str) -> list[float]:
    """Until every page plays; when each one did (monotonic)."""
    deadline = time.monotonic() + timeout
    done: dict[int, float] = {}
    while len(done) < len(pages):
        for index, page in enumerate(pages):
            if index not in done and plays(page):
                done[index] = time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit(f"pages {sorted(set(range(len(pages))) - set(done))} never played "
                             f"({what}) within {timeout:.0f} s")
    return [done[i] for i in range(len(pages))]


def kill_and_time(janus: Any, supervisor: Supervisor, watch: Watch, pages: list[Any],
                  timeout: float) -> dict[str, float]:
    assert janus.process is not None
    watch.back_at = 0.0
    killed = time.monotonic()
    os.kill(janus.process.pid, signal.SIGKILL)
    # Until the pages notice: a page that still plays the picture it had is not "back".
    deadline = killed + timeout
    while any(plays(page) for page in pages) and time.monotonic() < deadline:
        time.sleep(0.05)
    played = wait_all(pages, timeout, "after the kill")
    return {
        "janus": supervisor.answered_at - killed,
        "told": (watch.back_at - killed) if watch.back_at else float("nan"),
        "page0": played[0] - killed,
        "page1": played[1] - killed,
        "all": max(played) - killed,
    }


def print_table(rows: list[dict[str, float]]) -> None:
    if not rows:
        return
    print()
    print("| kill | Janus answers, s | room back, pages told, s | host page plays, s | "
          "commune page plays, s | all play, s |")
    print("|---|---|---|---|---|---|")
    for index, row in enumerate(rows, 1):
        print(f"| {index} | {row['janus']:.1f} | {row['told']:.1f} | {row['page0']:.1f} | "
              f"{row['page1']:.1f} | {row['all']:.1f} |")
    alls = [row["all"] for row in rows]
    print(f"\nall play again: median {statistics.median(alls):.1f} s, max {max(alls):.1f} s; "
          f"{sum(a <= 10 for a in alls)}/{len(alls)} within 10 s")


if __name__ == "__main__":
    sys.exit(main())
