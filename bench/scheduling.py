"""Scheduling benchmark: the accept decision and the week calendar on a province-sized schedule.

A synthetic province (243 agencies, 3,000 approved endpoints, 8 MCU nodes of 60 meetings /
600 endpoints) gets meetings over two years of working days, written with `bulk_create` (this
arranges data; it does not test the services). About 90 % are accepted and hold their bookings;
the generator assigns endpoints and nodes greedily, so the data itself keeps every endpoint out
of two overlapping windows and every node within the rulebook's 80 % cap. The rest are
submitted. Everything is measured twice in one run: with a tenth of --meetings, then with all.

Measured (p50/p99/mean ms, SQL queries per call, p50 and p99 as multiples of the baseline's
p50 and p99, and each call's own p99/p50):
- baseline: `GET /api/v1/agencies?limit=1` with an API token, a trivial authenticated call;
- accept decision: `lifecycle.accept_meeting` on a submitted meeting, inside a savepoint that is
  rolled back after each sample, so the data never changes; `planning.plan` alone;
  `notices.accepted` alone (the recipients of the "accepted" notice, part of the decision);
  accept of a UBND tỉnh meeting that must revoke one commune meeting (KH Đ12.4b), and the
  search for the revoked meeting's free slots that the worker runs after it commits;
- week calendar: `GET /api/v1/calendar?start=&end=` for a random week, same token (province-wide
  operator) and a district office's token (scoped).

    .venv/bin/python bench/scheduling.py --quick        # 10,000 meetings, 50 samples
    .venv/bin/python bench/scheduling.py                # 100,000 meetings, 200 samples
    .venv/bin/python bench/scheduling.py --quick --database-url \\
        postgres://postgres@127.0.0.1:5432/diemcau_bench  # recreated, dropped at the end
    .venv/bin/python bench/scheduling.py --build-only   # build 100,000 meetings once, keep them
    .venv/bin/python bench/scheduling.py --reuse DIR    # measure them (again) at full size
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import pickle
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

RULEBOOK = "khanh-hoa-2023"
DAYS = 730  # two years
SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
N_ENDPOINTS = 3000
N_NODES = 8
NODE_MAX_MEETINGS, NODE_MAX_ENDPOINTS = 60, 600
ACCEPTED_SHARE = 0.9
REHEARSAL_SHARE = 0.15  # a 1-hour rehearsal on the working day before
MAX_PARTICIPANTS = 20  # besides the host endpoint
DURATIONS = [(2, 40), (3, 20), (4, 25), (6, 15)]  # (length in 30-min slots, weight)
HOST_KINDS = [  # who hosts (weights)
    ("commune_people_committee", 35),
    ("district_people_committee", 20),
    ("department", 25),
    ("department_unit", 10),
    ("province_people_committee", 5),
    ("province_party_committee", 5),
]
ENDPOINTS_PER_KIND = {  # communes get the rest, up to N_ENDPOINTS
    "province_people_committee": 20,
    "province_party_committee": 10,
    "province_people_council": 10,
    "province_front": 10,
    "department": 20,
    "department_unit": 5,
    "district_people_committee": 50,
    "commune_people_committee": 11,
}
CHUNK = 5000  # meetings per insert transaction
COUNT_RUNS = 5  # calls whose queries are counted (they also warm up); not timed
BUDGET_SECONDS = 180  # a measurement stops after this long once it has MIN_SAMPLES
MIN_SAMPLES = 20

Call = Callable[[int], tuple[float, Any]]  # sample index → (seconds, outcome)


class Rollback(Exception):
    """Raised to roll back a timed sample's savepoint."""


# ---------------------------------------------------------------- environment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=100_000, help="meetings at full size")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per measurement")
    parser.add_argument("--quick", action="store_true", help="10,000 meetings, 50 samples")
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/name: run on PostgreSQL (recreated)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--build-only", action="store_true",
                        help="build the data, measure nothing, keep it (for --reuse)")
    parser.add_argument("--reuse", metavar="DIR", default="",
                        help="measure the data a --keep or --build-only run left in DIR (its "
                             "database URL is remembered there); nothing is built or dropped")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.quick:
        args.meetings, args.samples = 10_000, 50
    if args.build_only:
        args.keep = True
    if args.reuse:
        state = load_state(Path(args.reuse))
        if args.database_url and args.database_url != state["database_url"]:
            parser.error(f"{args.reuse} was built on {state['database_url'] or 'SQLite'}")
        args.database_url, args.meetings, args.keep = state["database_url"], state["meetings"], True
    args.state = state if args.reuse else None
    if args.meetings < 1000 or args.samples < 5:
        parser.error("at least 1000 meetings and 5 samples")
    return args


STATE = "bench-state.pickle"  # what a later --reuse needs: the schedule, the tokens


def save_state(var_dir: Path, **state: Any) -> None:
    with (var_dir / STATE).open("wb") as f:
        pickle.dump(state, f)


def load_state(var_dir: Path) -> dict[str, Any]:
    try:
        with (var_dir / STATE).open("rb") as f:
            state: dict[str, Any] = pickle.load(f)  # our own file, written by --keep
    except FileNotFoundError:
        raise SystemExit(f"{var_dir} holds no {STATE}: build it with --build-only") from None
    return state


def prepare_environment(args: argparse.Namespace) -> Path:
    """Point the settings at a throw-away database before Django reads them (or, with
    --reuse, at the one a kept run left)."""
    var_dir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="diemcau-bench-"))
    os.environ.update(
        DIEMCAU_VAR_DIR=str(var_dir),
        DIEMCAU_RULEBOOK=RULEBOOK,
        DIEMCAU_DEBUG="0",  # production's query path: no debug cursor outside the counts
        # The same key for a reused database (API tokens and sessions may depend on it).
        DIEMCAU_SECRET_KEY=args.state["secret_key"] if args.state else secrets.token_urlsafe(40),
        DIEMCAU_ALLOWED_HOSTS="testserver",  # the host name of django.test.Client
        DIEMCAU_HTTPS="0",  # the test client speaks plain HTTP in process: no redirect to TLS
        DJANGO_SETTINGS_MODULE="diemcau.settings",
    )
    os.environ.setdefault("DIEMCAU_LOG_LEVEL", "WARNING")
    os.environ.pop("DATABASE_URL", None)
    if args.database_url:
        if not args.reuse:
            postgres(args.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                     "CREATE DATABASE {}")
        os.environ["DATABASE_URL"] = args.database_url
    return var_dir


def postgres(url: str, *statements: str) -> None:
    """Run statements about the database of `url` from the maintenance database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url needs a database name")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


# ---------------------------------------------------------------- the synthetic province


@dataclass
class AgencySpec:
    pk: int
    name: str
    kind: str
    abbreviation: str
    parent: int | None
    path: str
    family: int  # its district or department (communes and units belong to their parent's)


@dataclass
class Province:
    agencies: list[AgencySpec] = field(default_factory=list)  # agency pk = index + 1
    endpoints: dict[int, list[int]] = field(default_factory=dict)  # agency → its endpoints
    endpoint_agency: dict[int, int] = field(default_factory=dict)
    family_endpoints: dict[int, list[int]] = field(default_factory=dict)
    users: list[tuple[int, str, str, int]] = field(default_factory=list)  # pk, name, role, agency
    registrar: dict[int, int] = field(default_factory=dict)  # host agency → registering user
    operator: int = 1
    district_office: int = 0
    nodes: list[int] = field(default_factory=lambda: list(range(1, N_NODES + 1)))

    def add(self, name: str, kind: str, abbreviation: str, parent: AgencySpec | None
            ) -> AgencySpec:
        pk = len(self.agencies) + 1
        top = parent is None or parent.kind == "province_people_committee"
        spec = AgencySpec(pk, name, kind, abbreviation, parent.pk if parent else None,
                          f"{parent.path if parent else '/'}{pk}/", pk if top else parent.family)
        self.agencies.append(spec)
        return spec


def design_province() -> Province:
    """Khánh Hòa-like: UBND tỉnh, 3 provincial bodies, 30 departments with 2 units each,
    9 districts with 140 communes; 3,000 endpoints; an office user for every agency above the
    communes, a technician for every district and commune, and the operator."""
    p = Province()
    top = p.add("UBND tỉnh Khánh Hòa (bench)", "province_people_committee", "", None)
    p.add("Tỉnh ủy (bench)", "province_party_committee", "TU", top)
    p.add("HĐND tỉnh (bench)", "province_people_council", "HDND", top)
    p.add("UBMTTQ tỉnh (bench)", "province_front", "MTTQ", top)
    for d in range(1, 31):
        department = p.add(f"Sở Thử nghiệm {d}", "department", f"So.TN{d}", top)
        for u in (1, 2):
            p.add(f"Đơn vị {u} thuộc Sở {d}", "department_unit", f"DV{d}.{u}", department)
    for d, communes in enumerate([16] * 5 + [15] * 4, start=1):
        district = p.add(f"UBND huyện Thử nghiệm {d}", "district_people_committee", f"H{d}", top)
        for c in range(1, communes + 1):
            p.add(f"UBND xã Thử nghiệm {d}.{c}", "commune_people_committee", f"X{d}.{c}",
                  district)
    counts = {a.pk: ENDPOINTS_PER_KIND[a.kind] for a in p.agencies}
    communes = [a.pk for a in p.agencies if a.kind == "commune_people_committee"]
    for i in range(N_ENDPOINTS - sum(counts.values())):
        counts[communes[i % len(communes)]] += 1
    endpoint = 0
    for agency in p.agencies:
        p.endpoints[agency.pk] = list(range(endpoint + 1, endpoint + 1 + counts[agency.pk]))
        endpoint += counts[agency.pk]
        for pk in p.endpoints[agency.pk]:
            p.endpoint_agency[pk] = agency.pk
            p.family_endpoints.setdefault(agency.family, []).append(pk)
    p.users.append((1, "bench-operator", "operator", p.agencies[4].pk))  # at a department
    for agency in p.agencies:
        if agency.kind not in {"department_unit", "commune_people_committee"}:
            p.users.append((len(p.users) + 1, f"bench-office-{agency.pk}", "office", agency.pk))
            p.registrar[agency.pk] = len(p.users)
            if agency.kind == "district_people_committee" and not p.district_office:
                p.district_office = len(p.users)
    for agency in p.agencies:
        if agency.kind in {"district_people_committee", "commune_people_committee"}:
            p.users.append((len(p.users) + 1, f"bench-tech-{agency.pk}", "technician",
                            agency.pk))
    for agency in p.agencies:  # communes register through their district (KH Đ12.2)
        p.registrar.setdefault(agency.pk, p.registrar.get(agency.parent or 0, p.operator))
    return p


# ---------------------------------------------------------------- the schedule


@dataclass
class MeetingSpec:
    day: int  # days after the first day
    start: int  # slot of the day
    end: int
    rehearsal: tuple[int, int, int] | None  # day, start slot, end slot
    host_agency: int
    want: int = 0  # participants wanted
    accepted: bool = False
    stage: int = 1  # 0: also in the smaller data size
    pk: int = 0
    host_endpoint: int = 0
    participants: list[int] = field(default_factory=list)
    node: int | None = None
    victim: MeetingSpec | None = None  # a priority meeting: the meeting it must revoke
    clash: bool = False  # submitted although no endpoint of its host was free

    def windows(self) -> list[tuple[int, int, int]]:
        return [*([self.rehearsal] if self.rehearsal else []), (self.day, self.start, self.end)]


class Occupancy:
    """What the accepted meetings hold so far: endpoint windows, and each node's load per
    30-minute slot from the technical check before a window to its end (KH Đ12.4a, Đ13.2b).
    The services hold the node only for the windows and each check's own half hour; counting
    the whole stretch between keeps the data within the caps either way."""

    def __init__(self, nodes: list[int], check_slots: int, caps: tuple[int, int]):
        self.busy: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self.load = {n: ([0] * (DAYS * SLOTS_PER_DAY), [0] * (DAYS * SLOTS_PER_DAY))
                     for n in nodes}
        self.check_slots, self.caps = check_slots, caps

    def free(self, endpoint: int, windows: list[tuple[int, int, int]]) -> bool:
        return not any(s < end and start < e for day, start, end in windows
                       for s, e in self.busy.get((endpoint, day), ()))

    def node_slots(self, windows: list[tuple[int, int, int]]) -> list[int]:
        slots: set[int] = set()  # a set: overlapping windows of a meeting count once (merge())
        for day, start, end in windows:
            base = day * SLOTS_PER_DAY
            slots.update(range(base + max(0, start - self.check_slots - 1), base + end))
        return sorted(slots)

    def pick_node(self, slots: list[int], endpoints: int) -> int | None:
        """The least loaded node that stays within both caps, as `planning.plan` prefers."""
        fitting = []
        for node, (meetings, connected) in self.load.items():
            top_meetings = max(meetings[s] for s in slots)
            top_endpoints = max(connected[s] for s in slots)
            if top_meetings < self.caps[0] and top_endpoints + endpoints <= self.caps[1]:
                fitting.append((top_endpoints, node))
        return min(fitting)[1] if fitting else None

    def hold(self, spec: MeetingSpec, slots: list[int]) -> None:
        assert spec.node is not None
        meetings, connected = self.load[spec.node]
        for s in slots:
            meetings[s] += 1
            connected[s] += 1 + len(spec.participants)
        for endpoint in [spec.host_endpoint, *spec.participants]:
            for day, start, end in spec.windows():
                self.busy.setdefault((endpoint, day), []).append((start, end))

    def peaks(self) -> tuple[int, int]:
        return (max(max(m) for m, _ in self.load.values()),
                max(max(c) for _, c in self.load.values()))


@dataclass
class Schedule:
    specs: list[MeetingSpec]
    first_day: dt.date
    tz: Any
    seconds: float
    peaks: tuple[int, int]
    caps: tuple[int, int]

    def local(self, day: int, slot: int) -> dt.datetime:
        midnight = dt.datetime.combine(self.first_day, dt.time(0), tzinfo=self.tz)
        return midnight + dt.timedelta(days=day, minutes=SLOT_MINUTES * slot)


def generate_schedule(p: Province, n_meetings: int, n_priority: int,
                      rng: random.Random) -> Schedule:
    """Meetings in office periods of the working days from next Monday on; accepted ones are
    assigned in order of time, greedily, so the data keeps the invariants of the services."""
    from django.utils import timezone

    from diemcau.core.calendar import WorkCalendar
    from diemcau.rulebooks import active_rulebook

    started = time.perf_counter()
    rulebook = active_rulebook()
    work = WorkCalendar.for_rulebook(rulebook)
    today = timezone.localtime(timezone.now(), work.tz).date()
    first_day = today + dt.timedelta(days=7 - today.weekday())
    working = [d for d in range(DAYS) if work.is_working_day(first_day + dt.timedelta(days=d))]

    def slot(hhmm: str) -> int:
        hours, minutes = hhmm.split(":")
        return (int(hours) * 60 + int(minutes)) // SLOT_MINUTES

    periods = [(slot(a), slot(b)) for a, b in rulebook.office_hours.periods]
    cap = rulebook.capacity.cap_percent
    caps = (math.floor(NODE_MAX_MEETINGS * cap / 100), math.floor(NODE_MAX_ENDPOINTS * cap / 100))
    check_slots = math.ceil(rulebook.technical_check.hours_before * 60 / SLOT_MINUTES)
    occupancy = Occupancy(p.nodes, check_slots, caps)
    by_kind: dict[str, list[AgencySpec]] = {}
    for agency in p.agencies:
        by_kind.setdefault(agency.kind, []).append(agency)
    everyone = list(p.endpoint_agency)

    specs = []
    for _ in range(n_meetings - n_priority):
        index = rng.randrange(len(working))
        first, last = rng.choice(periods)
        length = min(rng.choices(*zip(*DURATIONS, strict=True))[0], last - first)
        start = rng.randrange(first, last - length + 1)
        rehearsal = None
        if index > 0 and rng.random() < REHEARSAL_SHARE:
            rehearsal = (working[index - 1], start, start + 2)
        kind = rng.choices(*zip(*HOST_KINDS, strict=True))[0]
        specs.append(MeetingSpec(
            working[index], start, start + length, rehearsal, rng.choice(by_kind[kind]).pk,
            want=rng.randint(1, MAX_PARTICIPANTS), accepted=rng.random() < ACCEPTED_SHARE,
            stage=0 if rng.random() < 0.1 else 1,
        ))
    specs.sort(key=lambda s: (s.day, s.start))

    def choose_endpoints(spec: MeetingSpec, must_be_free: bool) -> bool:
        windows = spec.windows()
        hosts = rng.sample(p.endpoints[spec.host_agency], len(p.endpoints[spec.host_agency]))
        host = next((e for e in hosts if occupancy.free(e, windows)), None)
        if host is None and must_be_free:
            return False
        spec.clash = host is None  # kept as a waiting registration, never timed
        host = host or hosts[0]
        family = p.family_endpoints[p.agencies[spec.host_agency - 1].family]
        chosen = {host}
        for attempt in range(spec.want * 4):
            candidate = rng.choice(family if attempt % 3 else everyone)  # mostly its own family
            if candidate not in chosen and occupancy.free(candidate, windows):
                chosen.add(candidate)
                if len(chosen) > spec.want:
                    break
        spec.host_endpoint, spec.participants = host, sorted(chosen - {host})
        return True

    for spec in specs:  # the accepted meetings, in order of time
        if spec.accepted and choose_endpoints(spec, must_be_free=True):
            slots = occupancy.node_slots(spec.windows())
            spec.node = occupancy.pick_node(slots, 1 + len(spec.participants))
            if spec.node is not None:
                occupancy.hold(spec, slots)
        spec.accepted = spec.node is not None
    for spec in specs:  # the submitted ones, against everything accepted
        if not spec.accepted:
            choose_endpoints(spec, must_be_free=False)

    # Priority (KH Đ12.4b): a provincial meeting needs the room that a commune meeting holds.
    higher = [a.pk for a in p.agencies if a.kind in {"province_people_committee", "department"}]
    victims = [s for s in specs if s.accepted and s.stage == 0 and s.rehearsal is None
               and p.agencies[s.host_agency - 1].kind == "commune_people_committee"]
    added = 0
    for victim in rng.sample(victims, len(victims)):
        window = [(victim.day, victim.start, victim.end)]
        hosts = [(a, e) for a in higher for e in p.endpoints[a] if occupancy.free(e, window)]
        others = [e for e in rng.sample(everyone, 40)
                  if e not in [h for _, h in hosts[:1]] and occupancy.free(e, window)]
        if hosts and len(others) >= 3 and added < n_priority:
            added += 1
            specs.append(MeetingSpec(
                victim.day, victim.start, victim.end, None, hosts[0][0], stage=0,
                host_endpoint=hosts[0][1], participants=sorted({victim.host_endpoint, *others[:3]}),
                victim=victim,
            ))
    for pk, spec in enumerate(specs, start=1):
        spec.pk = pk
    peaks = occupancy.peaks()
    assert peaks[0] <= caps[0] and peaks[1] <= caps[1]
    return Schedule(specs, first_day, work.tz, time.perf_counter() - started, peaks, caps)


# ---------------------------------------------------------------- writing it


def insert_province(p: Province) -> dict[str, str]:
    """Agencies, endpoints, nodes, users, and API tokens (raw, by label) for two of them."""
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from diemcau.core.api_auth import generate_token
    from diemcau.core.models import ApiToken, User
    from diemcau.directory.models import Agency, Endpoint
    from diemcau.mcu.models import McuNode

    unusable = make_password(None)
    with transaction.atomic():
        Agency.objects.bulk_create(
            Agency(pk=a.pk, name=a.name, kind=a.kind, abbreviation=a.abbreviation,
                   parent_id=a.parent, path=a.path) for a in p.agencies
        )
        Endpoint.objects.bulk_create((
            Endpoint(pk=pk, agency_id=agency, name=f"BENCH.{agency}.{pk}", terminal_kind="vcs",
                     network="tslcd", bandwidth_mbps=Decimal(10), dedicated_line=True,
                     vcs_ip=f"10.{pk // 62500}.{pk // 250 % 250}.{pk % 250 + 1}",
                     room_meets_standard=True, status="approved", security_check_due=False,
                     account_username=f"bench-ep-{pk}")
            for pk, agency in p.endpoint_agency.items()
        ), batch_size=500)
        McuNode.objects.bulk_create(
            McuNode(pk=pk, name=f"mcu-bench-{pk}", max_meetings=NODE_MAX_MEETINGS,
                    max_endpoints=NODE_MAX_ENDPOINTS) for pk in p.nodes
        )
        User.objects.bulk_create(
            User(pk=pk, username=name, email=f"{name}@example.gov.vn", role=role,
                 agency_id=agency, password=unusable) for pk, name, role, agency in p.users
        )
        tokens = {}
        for label, user in (("operator", p.operator), ("district", p.district_office)):
            raw, prefix, key_hash = generate_token()
            ApiToken.objects.create(user_id=user, name=f"bench {label}", prefix=prefix,
                                    key_hash=key_hash)
            tokens[label] = raw
    reset_sequences([Agency, Endpoint, McuNode, User])
    return tokens


def reset_sequences(models: list[Any]) -> None:
    """PostgreSQL: explicit primary keys leave the sequences behind; move them on."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def insert_meetings(schedule: Schedule, p: Province, stage: int, rng: random.Random) -> float:
    """One stage's meetings, their participants and, when accepted, their bookings: a node row
    per window and per technical check (its half hour ending `hours_before` before the window),
    and a row per endpoint and window, as `holdings.hold` writes them."""
    from django.db import connection, transaction

    from diemcau.rulebooks import active_rulebook
    from diemcau.scheduling.choices import HoldKind, MeetingStatus, WindowKind
    from diemcau.scheduling.models import Booking, Meeting

    started = time.perf_counter()
    rule = active_rulebook().technical_check
    check = dt.timedelta(hours=rule.hours_before)
    check_length = dt.timedelta(minutes=rule.check_minutes)
    now = dt.datetime.now(dt.UTC)
    specs = [s for s in schedule.specs if s.stage == stage]
    codes = iter(rng.sample(range(10**10), len(specs)))
    through = Meeting.participants.through
    for offset in range(0, len(specs), CHUNK):
        meetings, members, bookings = [], [], []
        for spec in specs[offset:offset + CHUNK]:
            windows = [
                (WindowKind.REHEARSAL if w is spec.rehearsal else WindowKind.SESSION,
                 schedule.local(w[0], w[1]), schedule.local(w[0], w[2]))
                for w in spec.windows()
            ]
            (_, starts_at, ends_at), rehearsal = windows[-1], windows[:-1]
            if spec.accepted:
                registered = starts_at - dt.timedelta(days=rng.randint(3, 30),
                                                      minutes=rng.randint(0, 600))
                status, code, decided = MeetingStatus.ACCEPTED, f"{next(codes):010d}", registered
            else:
                registered = now - dt.timedelta(minutes=rng.randint(5, 600))
                status, code, decided = MeetingStatus.SUBMITTED, None, None
            meetings.append(Meeting(
                pk=spec.pk, title=f"Họp {p.agencies[spec.host_agency - 1].abbreviation or 'UBT'}"
                f" số {spec.pk}", host_agency_id=spec.host_agency,
                host_endpoint_id=spec.host_endpoint, starts_at=starts_at, ends_at=ends_at,
                rehearsal_starts_at=rehearsal[0][1] if rehearsal else None,
                rehearsal_ends_at=rehearsal[0][2] if rehearsal else None,
                place="Phòng họp trực tuyến", contact_name="Nguyễn Văn A",
                contact_phone="0912345678", status=status, registered_at=registered,
                counted_from=registered, reply_due_at=registered + dt.timedelta(hours=3),
                decided_at=decided, decided_by_id=p.operator if decided else None,
                node_id=spec.node, code=code, created_by_id=p.registrar[spec.host_agency],
            ))
            members += [through(meeting_id=spec.pk, endpoint_id=e) for e in spec.participants]
            if not spec.accepted:
                continue
            held = [*windows, *((HoldKind.CHECK, s - check - check_length, s - check)
                                for _, s, _ in windows)]
            bookings += [
                Booking(meeting_id=spec.pk, kind=kind, node_id=spec.node,
                        starts_at=s, ends_at=e, endpoints_count=1 + len(spec.participants))
                for kind, s, e in held
            ]
            bookings += [
                Booking(meeting_id=spec.pk, kind=kind, node_id=spec.node, endpoint_id=endpoint,
                        starts_at=s, ends_at=e, endpoints_count=1)
                for kind, s, e in windows for endpoint in [spec.host_endpoint, *spec.participants]
            ]
        with transaction.atomic():
            Meeting.objects.bulk_create(meetings, batch_size=1000)
            through.objects.bulk_create(members, batch_size=5000)
            Booking.objects.bulk_create(bookings, batch_size=5000)
    reset_sequences([Meeting])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum does soon after a bulk load
    return time.perf_counter() - started


def table_sizes() -> dict[str, int]:
    from diemcau.scheduling.models import Booking, Meeting

    return {
        "meetings": Meeting.objects.count(),
        "accepted": Meeting.objects.filter(status="accepted").count(),
        "submitted": Meeting.objects.filter(status="submitted").count(),
        "participant rows": Meeting.participants.through.objects.count(),
        "booking rows": Booking.objects.count(),
    }


def verify_sample(schedule: Schedule, stage: int, rng: random.Random, n: int = 100) -> str:
    """The product's own planning functions on a sample of accepted meetings: no other held
    meeting has their endpoints, and their node stays within the cap."""
    from diemcau.mcu.models import McuNode
    from diemcau.rulebooks import active_rulebook
    from diemcau.scheduling import capacity, planning
    from diemcau.scheduling.models import Meeting
    from diemcau.scheduling.windows import node_windows

    rulebook = active_rulebook()
    cap = rulebook.capacity.cap_percent
    nodes = {node.pk: node for node in McuNode.objects.all()}
    pool = [s.pk for s in schedule.specs if s.accepted and s.stage <= stage]
    for pk in rng.sample(pool, min(n, len(pool))):
        meeting = Meeting.objects.select_related("host_agency").get(pk=pk)
        conflicts = planning.endpoint_conflicts(meeting)
        assert not conflicts, f"meeting {pk} double-books {conflicts[0]}"
        node, windows = nodes[meeting.node_id], node_windows(meeting, rulebook)
        top = capacity.peak(planning.node_loads(node, windows, exclude_meeting=0), windows)
        assert top.meetings <= node.meeting_cap(cap) and top.endpoints <= node.endpoint_cap(cap)
    return f"{min(n, len(pool))} accepted meetings: no double booking, within the {cap:g} % cap"


# ---------------------------------------------------------------- measuring


@dataclass
class Result:
    name: str
    times_ms: list[float]
    queries: list[int]
    outcome: str = ""

    def pct(self, p: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def queries_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


def measure(name: str, call: Call, samples: int,
            describe: Callable[[list[Any], list[float]], str] | None) -> Result:
    """The first COUNT_RUNS calls count SQL queries (and warm up); the next `samples` calls
    (fewer if BUDGET_SECONDS run out after MIN_SAMPLES) are timed, without query capture."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries = []
    for i in range(COUNT_RUNS):
        connection.queries_log.clear()  # it keeps 9,000 queries: start every count empty
        with CaptureQueriesContext(connection) as captured:
            call(i)
        assert len(captured) < (connection.queries_log.maxlen or math.inf), "log overflow"
        queries.append(len(captured))
    times, outcomes = [], []
    started = time.perf_counter()
    for i in range(samples):
        seconds, outcome = call(COUNT_RUNS + i)
        times.append(seconds * 1000)
        outcomes.append(outcome)
        if i + 1 >= MIN_SAMPLES and time.perf_counter() - started > BUDGET_SECONDS:
            break
    print(f"  {name}: {len(times)} samples in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)
    return Result(name, times, queries, describe(outcomes, times) if describe else "")


def tally(outcomes: list[Any], times_ms: list[float] | None = None) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def decision_calls(schedule: Schedule, p: Province, stage: int, samples: int,
                   rng: random.Random) -> list[tuple[str, Call, int, Any]]:
    from django.db import transaction

    from diemcau.core.errors import InvalidInput, InvalidTransition, RuleViolation
    from diemcau.core.models import User
    from diemcau.rulebooks import active_rulebook
    from diemcau.scheduling import notices, planning, selectors
    from diemcau.scheduling.models import Meeting
    from diemcau.scheduling.services.lifecycle import accept_meeting

    operator = User.objects.get(pk=p.operator)
    rulebook = active_rulebook()
    submitted = [s.pk for s in schedule.specs
                 if not (s.accepted or s.clash or s.victim) and s.stage <= stage]
    picks = rng.sample(submitted, min(len(submitted), COUNT_RUNS + samples))
    priority = [s for s in schedule.specs if s.victim is not None]

    def rolled_back(work: Callable[[], Any]) -> tuple[float, Any]:
        """Time `work` inside a savepoint that is always rolled back (nothing is committed,
        the on_commit notifications are dropped, the data size stays the same)."""
        outcome: Any = None
        seconds = 0.0
        try:
            with transaction.atomic():
                started = time.perf_counter()
                try:
                    outcome = work()
                except (InvalidInput, InvalidTransition, RuleViolation) as exc:
                    outcome = getattr(exc, "code", "") or {
                        InvalidInput: "refused: endpoints busy"}.get(type(exc), type(exc).__name__)
                seconds = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        return seconds, outcome

    def accept(i: int) -> tuple[float, Any]:
        meeting = Meeting.objects.get(pk=picks[i % len(picks)])
        return rolled_back(lambda: accept_meeting(meeting, actor=operator) and "accepted")

    def accept_revoking(i: int) -> tuple[float, Any]:
        spec = priority[i % len(priority)]
        meeting = Meeting.objects.get(pk=spec.pk)
        assert spec.victim is not None
        return rolled_back(lambda: accept_meeting(
            meeting, actor=operator, confirm_revocations=[spec.victim.pk]
        ) and "accepted, 1 revoked")

    def plan_only(i: int) -> tuple[float, Any]:
        meeting = Meeting.objects.select_related("host_agency").get(pk=picks[i % len(picks)])
        started = time.perf_counter()
        plan = planning.plan(meeting, rulebook)
        return time.perf_counter() - started, "possible" if plan.possible else "not possible"

    def recipients(i: int) -> tuple[float, Any]:
        meeting = Meeting.objects.select_related("host_agency").get(pk=picks[i % len(picks)])
        return rolled_back(lambda: notices.accepted(meeting))

    calls: list[tuple[str, Call, int, Any]] = [
        ("accept decision", accept, samples, tally),
        ("plan only", plan_only, samples, tally),
        ("  of which notices.accepted", recipients, max(MIN_SAMPLES, samples // 4), None),
    ]
    if priority:
        calls.append(("accept + 1 revocation", accept_revoking, max(5, samples // 20), tally))

        # The free slots offered to the revoked host: searched by the worker after the
        # decision commits (tasks.offer_free_slots), never inside it.
        def free_slots_after(i: int) -> tuple[float, Any]:
            spec = priority[i % len(priority)]
            assert spec.victim is not None
            victim = Meeting.objects.select_related("host_agency", "host_endpoint").get(
                pk=spec.victim.pk)
            started = time.perf_counter()
            found = selectors.free_slots(victim, count=3)
            return time.perf_counter() - started, f"{len(found)} slots"

        calls.append(("  worker: free slots after it", free_slots_after,
                      max(5, samples // 20), tally))
    return calls


def api_calls(schedule: Schedule, p: Province, tokens: dict[str, str], samples: int,
              rng: random.Random) -> tuple[list[tuple[str, Call, int, Any]], str]:
    """The baseline and the week calendar through Django's test client, in process."""
    from django.test import Client
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    from diemcau.core.models import User

    clients = {label: Client(headers={"authorization": f"Bearer {raw}"})
               for label, raw in tokens.items()}
    weeks = [schedule.local(7 * w, 0) for w in range(DAYS // 7)]  # Mondays 00:00, local
    starts = [rng.choice(weeks) for _ in range(COUNT_RUNS + samples)]

    def get(client: Client, url: str, query: dict[str, str]) -> tuple[float, Any]:
        started = time.perf_counter()
        response = client.get(url, query, secure=True)  # as behind the TLS proxy
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.content[:300]!r}")
        return seconds, response

    def baseline(i: int) -> tuple[float, Any]:
        return get(clients["operator"], "/api/v1/agencies", {"limit": "1"})[0], None

    try:
        resolve("/api/v1/calendar")
        url, how = "/api/v1/calendar", "GET /api/v1/calendar (API token)"
    except Resolver404:  # the API is not there: the pages' JSON feed, with a session
        try:
            url, how = reverse("calendar:events"), "calendar:events (session; no API)"
        except NoReverseMatch:
            return [("baseline GET /agencies?limit=1", baseline, samples, None)], "none found"
        for label, user in (("operator", p.operator), ("district", p.district_office)):
            clients[label] = Client()
            clients[label].force_login(User.objects.get(pk=user))

    def week(label: str) -> Call:
        def call(i: int) -> tuple[float, Any]:
            query = {"start": starts[i].isoformat(),
                     "end": (starts[i] + dt.timedelta(days=7)).isoformat()}
            seconds, response = get(clients[label], url, query)
            data = json.loads(response.content)
            items = data.get("items", data) if isinstance(data, dict) else data
            return seconds, (len(items), len(response.content))
        return call

    def describe(outcomes: list[Any], times_ms: list[float]) -> str:
        events = [n for n, _ in outcomes]
        size = statistics.median(b for _, b in outcomes) / 1024
        per_event = statistics.median(t / max(1, n) for t, n in zip(times_ms, events, strict=True))
        return (f"{statistics.median(events):.0f} events/week (max {max(events)}), "
                f"{size:.0f} KiB, {per_event * 1000:.0f} µs/event")

    return [
        ("baseline GET /agencies?limit=1", baseline, samples, None),
        ("week calendar, operator", week("operator"), samples, describe),
        ("week calendar, district office", week("district"), samples, describe),
    ], how


# The targets (issue 15): every call within 10× the baseline (p50 against its p50, p99 against
# its p99); accept with a revocation within 20×; the province-wide week is exempt (it answers
# about 1,000 events) and is read per event instead.
TARGET = 10.0
TARGETS = {"accept + 1 revocation": 20.0, "week calendar, operator": math.inf}


def print_table(title: str, results: list[Result]) -> None:
    """Each call's p50 and p99 with their ratios to the trivial call's p50 and p99 (the first
    row), whether that meets its target, and its own p99 over its p50 (the tail)."""
    base = results[0]
    header = (f"{'call':<32}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'queries/call':>14}"
              f"{'× base p50':>12}{'× base p99':>12}{'target':>10}{'p99/p50':>8}{'n':>5}  outcome")
    print(f"{title}\n{header}\n{'-' * len(header)}")
    for r in results:
        p50, p99 = r.pct(50) / base.pct(50), r.pct(99) / base.pct(99)
        limit = TARGETS.get(r.name.strip(), TARGET)
        target = "exempt" if math.isinf(limit) else (
            f"{'ok' if max(p50, p99) <= limit else 'OVER'} {limit:g}×")
        print(f"{r.name:<32}{r.pct(50):>9.2f}{r.pct(99):>9.2f}{statistics.fmean(r.times_ms):>9.2f}"
              f"{r.queries_text:>14}{p50:>12.1f}{p99:>12.1f}{target:>10}"
              f"{r.pct(99) / r.pct(50):>8.1f}{len(r.times_ms):>5}  {r.outcome}")
    print(flush=True)


def machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = os.getloadavg()[0]
    return f"{cpu}, {os.cpu_count()} cores (load {load:.1f}), Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    rng = random.Random(args.seed)
    engine = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor, "?")
    print(f"diemcau scheduling benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{machine()}\n"
          f"database: {engine} {connection.settings_dict['NAME']}; rulebook {RULEBOOK}; "
          f"samples {args.samples}; seed {args.seed}", flush=True)
    summary: list[tuple[int, list[Result]]] = []
    try:
        if args.state:  # --reuse: the data is there; measure it at its full size only
            province, tokens, schedule = (args.state["province"], args.state["tokens"],
                                          args.state["schedule"])
            rng.setstate(args.state["rng"])
            call_command("migrate", verbosity=0, interactive=False)  # a no-op unless code moved
            print(f"reusing {args.reuse}: {args.meetings} meetings built "
                  f"{args.state['built']}", flush=True)
            stages: tuple[int, ...] = (1,)
        else:
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            province = design_province()
            tokens = insert_province(province)
            print(f"migrate + province ({len(province.agencies)} agencies, {N_ENDPOINTS} "
                  f"endpoints, {N_NODES} nodes of {NODE_MAX_MEETINGS} meetings/"
                  f"{NODE_MAX_ENDPOINTS} endpoints, {len(province.users)} users): "
                  f"{time.perf_counter() - started:.1f} s")
            schedule = generate_schedule(province, args.meetings, max(5, args.samples // 10), rng)
            print(f"schedule of {args.meetings} meetings generated in {schedule.seconds:.1f} s; "
                  f"busiest node slot {schedule.peaks[0]}/{schedule.caps[0]} meetings, "
                  f"{schedule.peaks[1]}/{schedule.caps[1]} endpoints (the 80 % caps); "
                  f"{sum(s.clash for s in schedule.specs)} submitted ones clash (host busy, not "
                  f"timed), {sum(bool(s.victim) for s in schedule.specs)} need a revocation",
                  flush=True)
            stages = (0, 1)
        build = 0.0
        for stage in stages:
            if not args.state:
                seconds = insert_meetings(schedule, province, stage, rng)
                build += seconds
                if args.build_only and stage == 0:
                    continue
            sizes = table_sizes()
            if not args.state:
                print(f"\ninserted in {seconds:.1f} s: "
                      + ", ".join(f"{v} {k}" for k, v in sizes.items()))
                print("verified: " + verify_sample(schedule, stage, rng))
            else:
                print("\n" + ", ".join(f"{v} {k}" for k, v in sizes.items()))
            if args.keep and not args.state and stage == 1:
                save_state(var_dir, province=province, tokens=tokens, schedule=schedule,
                           rng=rng.getstate(), database_url=args.database_url,
                           meetings=args.meetings, secret_key=os.environ["DIEMCAU_SECRET_KEY"],
                           built=f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}")
            if args.build_only:
                break
            # The benchmark's own objects (the schedule: a million at full size) are moved out
            # of the collector's reach: a full collection during a timed call would otherwise
            # walk them all (hundreds of ms, the p99), which a server process never holds.
            gc.collect()
            gc.freeze()
            api, how = api_calls(schedule, province, tokens, args.samples, rng)
            print(f"calendar: {how}", flush=True)
            calls = [api[0], *decision_calls(schedule, province, stage, args.samples, rng),
                     *api[1:]]
            results = [measure(name, call, n, describe) for name, call, n, describe in calls]
            load = " ".join(f"{v:.2f}" for v in os.getloadavg())
            print_table(f"data: {N_ENDPOINTS} endpoints, {N_NODES} nodes, {sizes['meetings']} "
                        f"meetings, {sizes['booking rows']} booking rows ({engine}); "
                        f"load average after it {load}", results)
            summary.append((sizes["meetings"], results))
        if build:
            print(f"build time of the meetings (both stages): {build:.1f} s")
        if not summary:
            return 0
        ratio = {n: (results[0].pct(50), results[0].pct(99)) for n, results in summary}
        for label, value in (("queries/call", lambda r, n: r.queries_text),
                             ("p50 ms", lambda r, n: f"{r.pct(50):.2f}"),
                             ("p50 × trivial p50", lambda r, n: f"{r.pct(50) / ratio[n][0]:.1f}"),
                             ("p99 × trivial p99", lambda r, n: f"{r.pct(99) / ratio[n][1]:.1f}")):
            print(f"{label:<32}" + "".join(f"{n:>12}" for n, _ in summary))
            for index, result in enumerate(summary[0][1]):
                print(f"  {result.name:<30}"
                      + "".join(f"{value(results[index], n):>12}" for n, results in summary))
    finally:
        connection.close()
        if args.keep:
            print(f"kept: {var_dir} {args.database_url}"
                  + ("" if args.reuse else f" (measure it again: --reuse {var_dir})"))
        else:
            if args.database_url:
                postgres(args.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
