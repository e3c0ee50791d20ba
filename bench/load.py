"""The Monday-morning rush on a real server: uvicorn with several worker processes, PostgreSQL,
Redis (channel layer and task queue), the Huey worker and a real Janus, all on 127.0.0.1.

For a bounded time (--duration) the benchmark sends, only to 127.0.0.1:
- N endpoints (--endpoints, 300) asking for join grants with their join links, spread over the
  first minute (or the first half of a shorter run); each then opens its participant WebSocket,
  says hello, reports its attendee count once and its line quality every 5 s, as the room page
  does;
- consoles on WebSockets (--consoles, 20): hosts' consoles of the live meetings, which read the
  state again on every change;
- registrations (the district office, through the API) and decisions (the operator accepts
  waiting registrations) at office pace (--office-every seconds each);
- public schedule reads (the page anyone may open), one a second;
- the baseline: a trivial authenticated call (`GET /api/v1/agencies?limit=1`) twice a second,
  measured in the same run under the same load.

It prints p50, p99 and max per call, the errors, and the database's lock waits: every 0.25 s
`pg_stat_activity` is read for backends waiting on a lock (and what they run).

    .venv/bin/python bench/load.py                       # 300 endpoints, 90 s
    .venv/bin/python bench/load.py --duration 60 --endpoints 100 --workers 2

The database (--database-url, default postgres://postgres@127.0.0.1:5432/diemcau_load) is
dropped and created again, and dropped at the end unless --keep. Redis is a redis-server of its
own on a free port (no data kept), Janus is started by `diemcau janus run` on free ports, in a
temporary folder. The province, its users and tokens and the background schedule are those of
`bench/scheduling.py` (--meetings, 10,000 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scheduling as province_bench  # bench/scheduling.py: the province and its schedule

HOST = "127.0.0.1"
PER_MEETING = 30  # live endpoints per meeting (the host and 29 invited)
TELEMETRY_EVERY = 5.0
REPLY_WITHIN = 30.0  # a page's wait for an answer (its first state, an action's result)
ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=90.0, help="seconds of load")
    parser.add_argument("--endpoints", type=int, default=300, help="endpoints joining")
    parser.add_argument("--join-within", type=float, default=60.0,
                        help="seconds over which the joins are spread (at most half the run)")
    parser.add_argument("--consoles", type=int, default=20, help="console WebSockets")
    parser.add_argument("--workers", type=int, default=3, help="uvicorn worker processes")
    parser.add_argument("--office-every", type=float, default=5.0,
                        help="seconds between registrations, and between decisions")
    parser.add_argument("--meetings", type=int, default=10_000,
                        help="meetings of the background schedule")
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/diemcau_load")
    parser.add_argument("--keep", action="store_true", help="keep the database and the folder")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.duration < 10 or args.endpoints < 1:
        parser.error("at least 10 s and 1 endpoint")
    args.join_within = min(args.join_within, args.duration / 2)
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.25)
    raise SystemExit(f"{what} did not come up within {timeout:.0f} s")


class Processes:
    """The server's processes, each stopped at the end by its own pid."""

    def __init__(self, var_dir: Path):
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logs = var_dir / "logs"
        self.logs.mkdir(exist_ok=True)

    def start(self, name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (kept open while it runs)
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=ROOT, **kwargs)
        self.started.append((name, process))
        return process

    def stop(self) -> None:
        for name, process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGINT if name == "huey" else signal.SIGTERM)
        for name, process in reversed(self.started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop; killed", file=sys.stderr)
                process.kill()

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() \
            else ""


# ---------------------------------------------------------------- the data


@dataclass
class World:
    operator_token: str
    district_token: str
    district: int
    district_endpoints: list[int]  # its own (a host's) endpoints
    district_family: list[int]  # with its communes' (participants)
    links: list[tuple[int, str]]  # (meeting, join-link token) per joining endpoint
    live_meetings: list[int]
    console_cookies: list[str]  # session cookies of the consoles' users
    waiting: list[int]  # submitted meetings the operator may accept
    public_path: str
    first_day: dt.date


def build_province(args: argparse.Namespace, rng: random.Random) -> tuple[Any, Any, Any]:
    """The province of bench/scheduling.py with its schedule (before Janus registers its node,
    so the province's nodes keep their ids)."""
    started = time.perf_counter()
    province = province_bench.design_province()
    tokens = province_bench.insert_province(province)
    schedule = province_bench.generate_schedule(province, args.meetings, 5, rng)
    for stage in (0, 1):
        province_bench.insert_meetings(schedule, province, stage, rng)
    print(f"province and {args.meetings} meetings in {time.perf_counter() - started:.0f} s",
          flush=True)
    return province, tokens, schedule


def build_world(args: argparse.Namespace, rng: random.Random, node_name: str,
                built: tuple[Any, Any, Any]) -> World:
    """The morning's live meetings on the real node, their join links and rooms (as the
    worker makes them before the day), and the consoles' sign-ins."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from diemcau.core.models import User
    from diemcau.directory.models import Endpoint
    from diemcau.mcu.models import McuNode
    from diemcau.media.services.join_links import issue_join_link
    from diemcau.media.services.rooms import ensure_room
    from diemcau.scheduling.choices import MeetingStatus
    from diemcau.scheduling.models import Meeting

    province, tokens, schedule = built
    node = McuNode.objects.get(name=node_name)
    n_meetings = math.ceil(args.endpoints / PER_MEETING)
    node.max_meetings = max(node.max_meetings, n_meetings + 10)
    node.max_endpoints = max(node.max_endpoints, args.endpoints * 2)
    node.save(update_fields=["max_meetings", "max_endpoints"])
    operator = User.objects.get(pk=province.operator)
    now = timezone.now()
    everyone = list(province.endpoint_agency)
    rng.shuffle(everyone)
    links: list[tuple[int, str]] = []
    live: list[int] = []
    max_pk = Meeting.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for m in range(n_meetings):
        chosen = everyone[m * PER_MEETING:(m + 1) * PER_MEETING]
        chosen = chosen[:max(0, min(PER_MEETING, args.endpoints - m * PER_MEETING))]
        host = Endpoint.objects.get(pk=chosen[0])
        meeting = Meeting.objects.create(
            pk=max_pk + 1 + m, title=f"Giao ban sáng thứ Hai {m + 1}",
            host_agency_id=host.agency_id, host_endpoint=host,
            starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(hours=3),
            place="Phòng họp trực tuyến", contact_name="Nguyễn Văn A",
            contact_phone="0912345678", status=MeetingStatus.ACCEPTED, registered_at=now,
            counted_from=now, decided_at=now, decided_by=operator, node=node,
            code=f"{rng.randrange(10**10):010d}", created_by=operator,
        )
        meeting.participants.set(chosen[1:])
        ensure_room(meeting)
        for endpoint in Endpoint.objects.filter(pk__in=chosen).select_related("agency"):
            links.append((meeting.pk, issue_join_link(meeting, endpoint, actor=operator)[1]))
        live.append(meeting.pk)
    province_bench.reset_sequences([Meeting])
    rng.shuffle(links)

    # The operator signs in with a second factor (TWO_FACTOR_ROLES): a confirmed device, and
    # sessions in which it was used, as after typing its code.
    device = TOTPDevice.objects.create(user=operator, name="diemcau", confirmed=True)
    cookies = []
    for _ in range(args.consoles):
        client = Client()
        client.force_login(operator)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}="
                       f"{client.cookies[settings.SESSION_COOKIE_NAME].value}")
    district_agency = next(a for a in province.agencies if a.pk == User.objects.get(
        pk=province.district_office).agency_id)
    waiting = [s.pk for s in schedule.specs
               if not (s.accepted or s.clash or s.victim)]
    rng.shuffle(waiting)
    return World(
        operator_token=tokens["operator"], district_token=tokens["district"],
        district=district_agency.pk,
        district_endpoints=province.endpoints[district_agency.pk],
        district_family=province.family_endpoints[district_agency.family],
        links=links, live_meetings=live, console_cookies=cookies, waiting=waiting,
        public_path=reverse("calendar:public_schedule"), first_day=schedule.first_day,
    )


# ---------------------------------------------------------------- measuring


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)

    def ok(self, call: str, seconds: float) -> None:
        self.times.setdefault(call, []).append(seconds * 1000)

    def error(self, call: str, what: str) -> None:
        kinds = self.errors.setdefault(call, {})
        kinds[what[:120]] = kinds.get(what[:120], 0) + 1


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


class Http:
    """A minimal HTTP/1.1 client on asyncio (one connection per request), so that a slow
    answer blocks nothing else."""

    def __init__(self, port: int):
        self.port = port

    async def request(self, method: str, path: str, *, body: Any = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}",
                 "Connection: close", f"Content-Length: {len(data)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        head, _, content = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        if b"transfer-encoding: chunked" in head.lower():
            content = _unchunk(content)
        return status, content


def _unchunk(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


async def timed(stats: Stats, call: str, work: Any, expect: tuple[int, ...]) -> Any:
    started = time.perf_counter()
    try:
        status, content = await work
    except Exception as exc:  # a refused or broken connection is an error of the run
        stats.error(call, f"{type(exc).__name__}: {exc}")
        return None
    if status not in expect:
        stats.error(call, f"HTTP {status}: {content[:100]!r}")
        return None
    stats.ok(call, time.perf_counter() - started)
    return content


class Load:
    def __init__(self, args: argparse.Namespace, world: World, port: int, rng: random.Random):
        self.args, self.world, self.port, self.rng = args, world, port, rng
        self.http = Http(port)
        self.stats = Stats()
        self.stop = asyncio.Event()
        self.sockets_open = 0
        self.console_messages = 0
        self.client_cpu = 0.0

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def until_stopped(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def baseline(self) -> None:
        while not self.stop.is_set():
            await timed(self.stats, "baseline GET /agencies?limit=1", self.http.request(
                "GET", "/api/v1/agencies?limit=1", headers=self.bearer(self.world.operator_token)
            ), (200,))
            await self.until_stopped(0.5)

    async def public_reads(self) -> None:
        while not self.stop.is_set():
            await timed(self.stats, "public schedule page", self.http.request(
                "GET", self.world.public_path), (200,))
            await self.until_stopped(1.0)

    async def endpoint(self, meeting: int, token: str, delay: float) -> None:
        import websockets

        if await self.until_stopped(delay):
            return
        content = await timed(self.stats, "join grant (link)", self.http.request(
            "POST", f"/j/{token}/grant/", body={}), (201,))
        if content is None:
            return
        key = json.loads(content)["key"]
        try:
            async with websockets.connect(
                f"ws://{HOST}:{self.port}/ws/live/participant/",
                origin=f"http://{HOST}:{self.port}", open_timeout=30,
            ) as ws:
                self.sockets_open += 1
                await self.participant(ws, key)
        except Exception as exc:
            self.stats.error("participant socket", f"{type(exc).__name__}: {exc}")

    async def participant(self, ws: Any, key: str) -> None:
        started = time.perf_counter()
        await ws.send(json.dumps({"action": "hello", "key": key}))
        if not await self.reply(ws, "state", "participant hello → state", started):
            return
        await self.action(ws, {"action": "attendees", "count": self.rng.randint(3, 40)},
                          "attendee count (audited)")
        first = self.rng.uniform(0, TELEMETRY_EVERY)
        if await self.until_stopped(first):
            return
        while not self.stop.is_set():
            await self.action(ws, {
                "action": "quality", "rtt_ms": self.rng.randint(20, 300),
                "loss_percent": round(self.rng.uniform(0, 3), 2),
                "bitrate_kbps": self.rng.randint(300, 1500),
            }, "line telemetry (5 s)")
            await self.until_stopped(TELEMETRY_EVERY)

    async def reply(self, ws: Any, kind: str, call: str, started: float,
                    request: int | None = None) -> bool:
        """Wait for the message of `kind` (and `request`), skipping the live updates, at most
        REPLY_WITHIN seconds in all, as a page does. A wait still under way when the load
        stops runs to its end (`run` waits longer than that): it is an answer or an error."""
        deadline = started + REPLY_WITHIN
        try:
            while True:
                left = max(0.001, deadline - time.perf_counter())
                message = json.loads(await asyncio.wait_for(ws.recv(), left))
                if message.get("type") == "error" and (request is None
                                                       or message.get("request") == request):
                    self.stats.error(call, str(message.get("message", message))[:100])
                    return False
                if message.get("type") == kind and (request is None
                                                    or message.get("request") == request):
                    self.stats.ok(call, time.perf_counter() - started)
                    return True
        except TimeoutError:
            self.stats.error(call, f"TimeoutError (no {kind} within {REPLY_WITHIN:.0f} s)")
            return False
        except Exception as exc:
            if not self.stop.is_set():
                self.stats.error(call, f"{type(exc).__name__}: {exc}")
            return False

    async def action(self, ws: Any, content: dict[str, Any], call: str) -> bool:
        request = self.rng.randrange(1 << 30)
        started = time.perf_counter()
        try:
            await ws.send(json.dumps({**content, "request": request}))
        except Exception as exc:
            self.stats.error(call, f"{type(exc).__name__}: {exc}")
            return False
        return await self.reply(ws, "result", call, started, request)

    async def console(self, meeting: int, cookie: str) -> None:
        import websockets

        started = time.perf_counter()
        try:
            async with websockets.connect(
                f"ws://{HOST}:{self.port}/ws/live/meetings/{meeting}/",
                origin=f"http://{HOST}:{self.port}", open_timeout=30,
                additional_headers={"Cookie": cookie},
            ) as ws:
                if not await self.reply(ws, "state", "console open → first state", started):
                    return
                while not self.stop.is_set():
                    try:
                        await asyncio.wait_for(ws.recv(), 1.0)
                        self.console_messages += 1
                    except TimeoutError:
                        continue
        except Exception as exc:
            if not self.stop.is_set():
                self.stats.error("console socket", f"{type(exc).__name__}: {exc}")

    async def registrations(self) -> None:
        """The district office registers a meeting of its own for a working day ahead."""
        n = 0
        while not await self.until_stopped(self.rng.uniform(0.5, 1.5) * self.args.office_every):
            n += 1
            day = self.world.first_day + dt.timedelta(days=30 + n % 200)
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            start = dt.datetime.combine(day, dt.time(14, 0), tzinfo=dt.timezone(
                dt.timedelta(hours=7)))
            host = self.rng.choice(self.world.district_endpoints)
            others = self.rng.sample([e for e in self.world.district_family if e != host], 3)
            body = {
                "title": f"Họp triển khai số {n}", "host_agency": self.world.district,
                "host_endpoint": host, "participants": others,
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
                "place": "Phòng họp trực tuyến", "contact_name": "Trần Thị B",
                "contact_phone": "0905111222",
            }
            await timed(self.stats, "registration (POST /meetings)", self.http.request(
                "POST", "/api/v1/meetings", body=body,
                headers=self.bearer(self.world.district_token)), (201,))

    async def decisions(self) -> None:
        """The operator accepts waiting registrations; a refusal by a rule is an answer (422),
        not an error of the server."""
        waiting = iter(self.world.waiting)
        while not await self.until_stopped(self.rng.uniform(0.5, 1.5) * self.args.office_every):
            meeting = next(waiting, None)
            if meeting is None:
                return
            await timed(self.stats, "decision (POST /accept)", self.http.request(
                "POST", f"/api/v1/meetings/{meeting}/accept", body={},
                headers=self.bearer(self.world.operator_token)), (200, 409, 422))

    async def run(self) -> float:
        tasks = [asyncio.create_task(self.baseline()),
                 asyncio.create_task(self.public_reads()),
                 asyncio.create_task(self.registrations()),
                 asyncio.create_task(self.decisions())]
        for i, cookie in enumerate(self.world.console_cookies):
            meeting = self.world.live_meetings[i % len(self.world.live_meetings)]
            tasks.append(asyncio.create_task(self.console(meeting, cookie)))
        for meeting, token in self.world.links[:self.args.endpoints]:
            delay = self.rng.uniform(0, self.args.join_within)
            tasks.append(asyncio.create_task(self.endpoint(meeting, token, delay)))
        started = time.perf_counter()
        await asyncio.sleep(self.args.duration)
        self.stop.set()
        await asyncio.wait(tasks, timeout=40)
        return time.perf_counter() - started


# ---------------------------------------------------------------- lock waits


class LockSampler(threading.Thread):
    """Every 0.25 s: the backends of this database that wait on a lock, and what they run."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.halt = url, threading.Event()
        self.samples = 0
        self.waiting: list[int] = []
        self.statements: dict[str, int] = {}
        self.kinds: dict[str, int] = {}

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.halt.wait(0.25):
                rows = conn.execute(
                    "SELECT wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                self.waiting.append(len(rows))
                for kind, query in rows:
                    self.kinds[kind] = self.kinds.get(kind, 0) + 1
                    self.statements[query] = self.statements.get(query, 0) + 1

    def report(self) -> list[str]:
        waited = [n for n in self.waiting if n]
        lines = [f"lock waits: {len(waited)} of {self.samples} samples (every 0.25 s) found a "
                 f"backend waiting; at most {max(self.waiting, default=0)} at once, "
                 f"{sum(self.waiting)} backend-samples in all"]
        if self.kinds:
            kinds = sorted(self.kinds.items(), key=lambda kv: -kv[1])
            lines.append("  by lock: " + ", ".join(f"{k} {v}" for k, v in kinds))
        for query, count in sorted(self.statements.items(), key=lambda kv: -kv[1])[:6]:
            lines.append(f"  {count:>5}  {query}")
        return lines


# ---------------------------------------------------------------- where the CPU goes


TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, str, float, float]]:
    """pid → (parent, name, own CPU seconds, reaped children's CPU seconds), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICKS,
                                  (int(fields[13]) + int(fields[14])) / TICKS)
    return table


def _machine_cpu() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICKS  # less idle and iowait


class CpuUse:
    """CPU seconds used during the load by each part: a tree of processes (the root's own
    time, its reaped children's and its live descendants', less the other parts' trees), the
    rest of the machine apart. `client`: this process alone (the server is its child)."""

    def __init__(self, roots: dict[str, int], client: str):
        self.roots, self.client = roots, client
        self.start: dict[str, float] = {}
        self.machine = 0.0

    def _postmaster(self, table: dict[int, tuple[int, str, float, float]]) -> int | None:
        return next((pid for pid, (parent, name, _, _) in table.items()
                     if name == "postgres" and table.get(parent, (0, ""))[1] != "postgres"),
                    None)

    def totals(self) -> dict[str, float]:
        table = _proc_table()
        roots = dict(self.roots)
        postmaster = self._postmaster(table)
        if postmaster is not None:
            roots["PostgreSQL (every database)"] = postmaster
        children: dict[int, list[int]] = {}
        for pid, (parent, _, _, _) in table.items():
            children.setdefault(parent, []).append(pid)
        totals = {}
        others = set(roots.values())
        for part, root in roots.items():
            if root not in table:
                continue
            if part == self.client:
                totals[part] = table[root][2]
                continue
            total, todo = table[root][3], [root]
            while todo:
                pid = todo.pop()
                total += table[pid][2]
                todo.extend(c for c in children.get(pid, []) if c not in others)
            totals[part] = total
        return totals

    def begin(self) -> None:
        self.start, self.machine = self.totals(), _machine_cpu()

    def report(self, seconds: float) -> list[str]:
        end, machine = self.totals(), _machine_cpu() - self.machine
        lines = [f"CPU during the load ({seconds:.0f} s, {os.cpu_count()} cores = "
                 f"{seconds * (os.cpu_count() or 1):.0f} core-seconds): the machine was busy "
                 f"{machine:.0f} s"]
        counted = 0.0
        for part in end:
            used = end[part] - self.start.get(part, 0.0)
            counted += used
            lines.append(f"  {part:<30}{used:>7.1f} s  {100 * used / machine:>4.0f} %")
        lines.append(f"  {'anything else on the machine':<30}{machine - counted:>7.1f} s  "
                     f"{100 * (machine - counted) / machine:>4.0f} %")
        return lines


# ---------------------------------------------------------------- main


def print_results(stats: Stats, seconds: float, load: Load, sampler: LockSampler) -> None:
    base = stats.times.get("baseline GET /agencies?limit=1", [])
    b50, b99 = pct(base, 50), pct(base, 99)
    header = (f"{'call':<32}{'n':>6}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
              f"{'× base p50':>12}{'× base p99':>12}")
    print(f"\n{header}\n{'-' * len(header)}")
    for call in sorted(set(stats.times) | set(stats.errors),
                       key=lambda c: (not c.startswith("baseline"), c)):
        times = stats.times.get(call, [])
        errors = sum(stats.errors.get(call, {}).values())
        print(f"{call:<32}{len(times):>6}{errors:>8}{pct(times, 50):>9.1f}{pct(times, 99):>9.1f}"
              f"{max(times, default=math.nan):>9.1f}{pct(times, 50) / b50:>12.1f}"
              f"{pct(times, 99) / b99:>12.1f}")
    total = sum(sum(k.values()) for k in stats.errors.values())
    print(f"\nerrors: {total}")
    for call, kinds in stats.errors.items():
        for what, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:4]:
            print(f"  {call}: {count} × {what}")
    print(f"participant sockets opened: {load.sockets_open}; console messages received: "
          f"{load.console_messages}; load ran {seconds:.0f} s")
    print(f"the benchmark's own client used {load.client_cpu:.1f} s of CPU "
          f"({100 * load.client_cpu / seconds:.0f} % of one core over the run)")
    print("\n".join(sampler.report()))
    grants = stats.times.get("join grant (link)", [])
    if grants:
        ratio = pct(grants, 99) / b99
        print(f"\ntarget: 0 errors ({'met' if total == 0 else 'NOT met'}); join grants' p99 "
              f"within 10× the baseline's p99: {ratio:.1f}× "
              f"({'met' if ratio <= 10 else 'NOT met'})")


def print_failures(name: str, log: str) -> None:
    """The exceptions a process logged, counted, with the innermost frame of each kind."""
    kinds: dict[str, int] = {}
    where: dict[str, str] = {}
    frame = ""
    for line in log.splitlines():
        if line.startswith('  File "/work') or line.startswith('  File "' + str(ROOT)):
            frame = line.strip()
        elif line and not line[0].isspace() and ("Error" in line or "Exception" in line) \
                and not line.startswith(("Traceback", "The above", "During")):
            kinds[line[:160]] = kinds.get(line[:160], 0) + 1
            where.setdefault(line[:160], frame)
    if kinds:
        print(f"\n{name}'s log: {sum(kinds.values())} exceptions")
        for line, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {count:>4} × {line}\n         last project frame: {where[line][:150]}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    var_dir = Path(tempfile.mkdtemp(prefix="diemcau-load-"))
    port, redis_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        DIEMCAU_VAR_DIR=str(var_dir), DIEMCAU_RULEBOOK=province_bench.RULEBOOK,
        DIEMCAU_DEBUG="0", DIEMCAU_HTTPS="0",  # plain HTTP on the loopback, as scripts/run.sh
        DIEMCAU_SECRET_KEY=secrets.token_urlsafe(40), DIEMCAU_AUDIT_KEY=secrets.token_hex(32),
        DIEMCAU_ALLOWED_HOSTS=f"{HOST},testserver", DIEMCAU_PUBLIC_URL=f"http://{HOST}:{port}",
        DIEMCAU_REDIS_URL=f"redis://{HOST}:{redis_port}/0", DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="diemcau.settings", DIEMCAU_LOG_LEVEL="WARNING",
        DIEMCAU_JANUS_NODE_NAME="mcu-load", DIEMCAU_EMAIL_BACKEND="console",
    )
    env.pop("DIEMCAU_HUEY_IMMEDIATE", None)
    os.environ.clear()
    os.environ.update(env)
    bin_dir = Path(sys.executable).parent
    processes = Processes(var_dir)
    print(f"diemcau load benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{province_bench.machine()}; load average before "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    import diemcau

    print(f"code: {Path(diemcau.__file__).parent}")
    print(f"{args.endpoints} endpoints joining within {args.join_within:.0f} s, "
          f"{args.consoles} consoles, {args.workers} uvicorn workers, {args.duration:.0f} s",
          flush=True)
    province_bench.postgres(args.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            "CREATE DATABASE {}")
    sampler = LockSampler(args.database_url.replace("postgres://", "postgresql://", 1))
    try:
        redis = processes.start("redis", ["redis-server", "--bind", HOST, "--port", str(redis_port),
                                  "--save", "", "--appendonly", "no"])
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        built = build_province(args, rng)
        janus = processes.start("janus", [str(bin_dir / "diemcau"), "janus", "run",
                                          "--register", "--rewrite", "--free-ports",
                                          "--debug-level", "3", "--supervised"], env=env)

        def node_up() -> bool:
            from diemcau.mcu.models import McuNode

            if janus.poll() is not None:
                raise SystemExit("Janus stopped:\n" + processes.tail("janus"))
            return McuNode.objects.filter(name="mcu-load").exists()

        wait_for("Janus (registered node)", node_up, 60)
        time.sleep(1.0)
        world = build_world(args, rng, "mcu-load", built)
        from django.db import connections

        connections.close_all()
        huey = processes.start("huey", [str(bin_dir / "diemcau"), "run_huey", "--workers", "2",
                                 "--flush-locks"], env=env)
        server = processes.start("uvicorn", [
            str(bin_dir / "uvicorn"), "diemcau.asgi:application", "--host", HOST,
            "--port", str(port), "--workers", str(args.workers), "--no-access-log",
            "--log-level", "warning"], env=env)

        def answers() -> bool:
            if server.poll() is not None:
                raise SystemExit("uvicorn stopped:\n" + processes.tail("uvicorn"))
            with socket.create_connection((HOST, port), timeout=1):
                return True

        wait_for("uvicorn", answers, 60)
        time.sleep(2.0)  # every worker process up
        print(f"server up on {HOST}:{port}; load average "
              f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
        sampler.start()
        load = Load(args, world, port, rng)
        client = "this benchmark's client"
        cpu = CpuUse({"uvicorn (all workers)": server.pid, "Huey": huey.pid,
                      "Janus": janus.pid, "Redis": redis.pid, client: os.getpid()}, client)
        cpu.begin()
        cpu_before = time.process_time()
        seconds = asyncio.run(load.run())
        load.client_cpu = time.process_time() - cpu_before
        cpu_lines = cpu.report(seconds)
        sampler.halt.set()
        sampler.join(timeout=5)
        print(f"load average after the run {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print_results(load.stats, seconds, load, sampler)
        print("\n".join(cpu_lines))
        for name in ("uvicorn", "huey"):
            print_failures(name, (processes.logs / f"{name}.log").read_text(errors="replace"))
    finally:
        sampler.halt.set()
        processes.stop()
        if args.keep:
            print(f"kept: {var_dir} {args.database_url}")
        else:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:
                pass
            province_bench.postgres(args.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
