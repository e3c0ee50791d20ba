"""Reports benchmark: a province's yearly report over 100,000 meetings, beside a trivial call.

The province of `bench/scheduling.py` (243 agencies shaped like Khánh Hòa, 3,000 endpoints,
8 MCU nodes, its users and API tokens) gets a past year of meetings — and a tenth as many in
the year before it, which the report compares with — written with `bulk_create` (arranged
data, not the services): hosts weighted by kind, 1–8 invited endpoints, outcomes (held 80 %,
refused, cancelled, revoked, accepted, waiting), a node row per meeting that used a node,
attendance rows (85 % of the invited connect, one in ten twice), technical checks for a tenth
of the meetings, incidents for one in a hundred, and admission events in the audit log.

Measured in one run (p50/p99/mean ms, SQL queries per call, ratio to the baseline's p50):
- baseline: `GET /api/v1/agencies?limit=1` with the operator's API token;
- the yearly report's figures (`figures.compute`), the province as the operator sees it;
- the same through `GET /api/v1/reports/figures?period=YYYY` (figures, tables, JSON);
- a district office's yearly report (its district and communes), and a half-year;
- once each: the yearly XLSX and the PDF (`--pdf`; a province's year is long to draw).

    .venv/bin/python bench/reports.py --quick          # 10,000 meetings, 5 samples
    .venv/bin/python bench/reports.py                  # 100,000 meetings, 10 samples
    .venv/bin/python bench/reports.py --quick --database-url \\
        postgres://postgres@127.0.0.1:5432/diemcau_bench_reports  # recreated, then dropped
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import random
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

_spec = importlib.util.spec_from_file_location(
    "bench_scheduling", Path(__file__).with_name("scheduling.py"))
assert _spec and _spec.loader
base = importlib.util.module_from_spec(_spec)
sys.modules["bench_scheduling"] = base
_spec.loader.exec_module(base)

PARTICIPANTS = (1, 8)
OUTCOMES = [("ended", 80), ("refused", 6), ("cancelled", 6), ("revoked", 2), ("accepted", 3),
            ("submitted", 3)]
REFUSAL_REASONS = [
    "Điều 12.4a Quy chế KH: No MCU node has room at that time within 80% of its capacity.",
    "Điều 13.2a Quy chế KH: đăng ký không đủ thời gian trước phiên họp.",
    "Trùng lịch họp của UBND tỉnh.",
]
ATTEND_SHARE, RECONNECT_SHARE, CHECK_SHARE, INCIDENT_SHARE = 0.85, 0.1, 0.1, 0.01
CHUNK = 5000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=100_000,
                        help="meetings in the reported year")
    parser.add_argument("--samples", type=int, default=10, help="timed calls per measurement")
    parser.add_argument("--quick", action="store_true", help="10,000 meetings, 5 samples")
    parser.add_argument("--pdf", action="store_true", help="also time the yearly PDF once")
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/name: run on PostgreSQL (recreated)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.quick:
        args.meetings, args.samples = 10_000, 5
    if args.meetings < 1000 or args.samples < 3:
        parser.error("at least 1000 meetings and 3 samples")
    return args


def insert_year(p: Any, year: int, n: int, rng: random.Random, first_pk: int) -> dict[str, int]:
    """`n` meetings in `year` (local time) with what the report reads; returns row counts."""
    from django.db import transaction

    from diemcau.core.models import AuditEvent
    from diemcau.media.models import Participation
    from diemcau.rulebooks import active_rulebook
    from diemcau.scheduling.models import Booking, Incident, Meeting, TechnicalCheck

    zone = ZoneInfo(active_rulebook().timezone)
    by_kind: dict[str, list[Any]] = {}
    for agency in p.agencies:
        by_kind.setdefault(agency.kind, []).append(agency)
    statuses = [s for s, _ in OUTCOMES]
    weights = [w for _, w in OUTCOMES]
    kinds = [k for k, _ in base.HOST_KINDS]
    kind_weights = [w for _, w in base.HOST_KINDS]
    everyone = list(p.endpoint_agency)
    days = [dt.date(year, 1, 1) + dt.timedelta(days=d) for d in range(365)]
    days = [d for d in days if d.weekday() < 5]
    through = Meeting.participants.through
    counts = {"meetings": 0, "participants": 0, "attendance": 0, "bookings": 0, "checks": 0,
              "incidents": 0}
    pk = first_pk
    janus = 0
    for offset in range(0, n, CHUNK):
        meetings, members, bookings, rows, checks, incidents = [], [], [], [], [], []
        for _ in range(min(CHUNK, n - offset)):
            pk += 1
            host = rng.choice(by_kind[rng.choices(kinds, kind_weights)[0]])
            host_endpoint = rng.choice(p.endpoints[host.pk])
            family = p.family_endpoints[p.agencies[host.pk - 1].family]
            invited = {rng.choice(family if rng.random() < 0.7 else everyone)
                       for _ in range(rng.randint(*PARTICIPANTS))} - {host_endpoint}
            day = rng.choice(days)
            start = dt.datetime.combine(day, dt.time(rng.choice([7, 8, 9, 10, 13, 14, 15]),
                                                     rng.choice([0, 30])), tzinfo=zone)
            end = start + dt.timedelta(minutes=rng.choice([60, 90, 120, 180]))
            status = rng.choices(statuses, weights)[0]
            registered = start - dt.timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 9))
            late = rng.random() < 0.05
            decided = None if status in ("submitted", "cancelled") else registered + dt.timedelta(
                hours=rng.uniform(0.2, 5 if late else 2.9))
            used = status in ("ended", "accepted")
            node = rng.choice(p.nodes) if used or status == "revoked" else None
            meetings.append(Meeting(
                pk=pk, title=f"Họp số {pk}", host_agency_id=host.pk,
                host_endpoint_id=host_endpoint, starts_at=start, ends_at=end,
                place="Phòng họp", contact_name="Nguyễn Văn A", contact_phone="0912345678",
                status=status, registered_at=registered, counted_from=registered,
                reply_due_at=registered + dt.timedelta(hours=3), decided_at=decided,
                sla_breached_at=registered + dt.timedelta(hours=3) if late else None,
                decided_by_id=p.operator if decided else None, node_id=node,
                created_by_id=p.registrar[host.pk], recording_requested=rng.random() < 0.2,
                meeting_type=rng.choice(["working", "briefing", "thematic", "training"]),
                urgency=rng.choices(["normal", "urgent", "emergency"], [90, 8, 2])[0],
                decision_reason=rng.choice(REFUSAL_REASONS) if status == "refused" else "",
            ))
            members += [through(meeting_id=pk, endpoint_id=e) for e in invited]
            if used:
                bookings.append(Booking(
                    meeting_id=pk, kind="session", node_id=node,
                    starts_at=start - dt.timedelta(hours=2), ends_at=end,
                    endpoints_count=1 + len(invited), holds=status == "accepted"))
            if status == "ended":
                for endpoint in [host_endpoint, *invited]:
                    if rng.random() > ATTEND_SHARE:
                        continue
                    pieces = 2 if rng.random() < RECONNECT_SHARE else 1
                    length = (end - start) / pieces
                    for piece in range(pieces):
                        janus += 1
                        joined = start + piece * length + dt.timedelta(minutes=rng.randint(0, 5))
                        rows.append(Participation(
                            meeting_id=pk, endpoint_id=endpoint, node_id=node,
                            display="bench", janus_id=janus, key_hash=f"k{pk}-{janus}",
                            janus_token_secret="t", joined_at=joined,
                            left_at=start + (piece + 1) * length, left_reason="ended"))
                if rng.random() < CHECK_SHARE:
                    for endpoint in [host_endpoint, *invited]:
                        ok = rng.random() < 0.9
                        checks.append(TechnicalCheck(
                            meeting_id=pk, endpoint_id=endpoint, kind="session",
                            due_at=start - dt.timedelta(hours=2),
                            status="passed" if ok else "failed",
                            results={"terminal": True, "connection": ok, "power": True,
                                     "sound": ok or rng.random() < 0.5, "picture": True}))
                if rng.random() < INCIDENT_SHARE:
                    incidents.append(Incident(
                        meeting_id=pk, endpoint_id=host_endpoint, description="bench",
                        opened_by_id=p.operator, status="closed", resolution="ok",
                        closed_at=start + dt.timedelta(minutes=rng.randint(10, 300))))
        with transaction.atomic():
            Meeting.objects.bulk_create(meetings, batch_size=1000)
            through.objects.bulk_create(members, batch_size=5000)
            Booking.objects.bulk_create(bookings, batch_size=5000)
            Participation.objects.bulk_create(rows, batch_size=5000)
            TechnicalCheck.objects.bulk_create(checks, batch_size=5000)
            Incident.objects.bulk_create(incidents, batch_size=1000)
        counts["meetings"] += len(meetings)
        counts["participants"] += len(members)
        counts["attendance"] += len(rows)
        counts["bookings"] += len(bookings)
        counts["checks"] += len(checks)
        counts["incidents"] += len(incidents)
    # Admission changes in the audit log (rows arranged directly: not a verified chain).
    first = AuditEvent.objects.count()
    events = [
        AuditEvent(seq=first + i + 1, at=dt.datetime.combine(rng.choice(days), dt.time(9),
                                                              tzinfo=zone),
                   action=rng.choice(["endpoint.approve", "endpoint.suspend",
                                      "endpoint.report_repair"]),
                   object_type="directory.endpoint", object_id=str(rng.choice(everyone)),
                   prev_hash="0" * 64, hash=secrets.token_hex(32))
        for i in range(max(50, n // 50))
    ]
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return counts


def timed(name: str, call: Callable[[], Any], samples: int) -> Any:
    """One call with its SQL queries counted (and warming up), then `samples` timed calls.
    Queries are counted by a wrapper around the cursor: a request through the test client
    empties Django's query log when it starts."""
    from django.db import connection

    captured: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *a: (captured.append(sql),
                                                               execute(sql, *a))[1]):
        call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {name}: {samples} samples", file=sys.stderr, flush=True)
    return base.Result(name, times, [len(captured)])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench_args = argparse.Namespace(database_url=args.database_url)
    var_dir = base.prepare_environment(bench_args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from diemcau.core.models import User
    from diemcau.reports import figures, periods
    from diemcau.reports.basis import Basis
    from diemcau.reports.scope import ReportScope

    rng = random.Random(args.seed)
    engine = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor, "?")
    year = dt.date.today().year - 1
    print(f"diemcau reports benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{base.machine()}\ndatabase: {engine}; rulebook {base.RULEBOOK}; year {year}; "
          f"samples {args.samples}; seed {args.seed}", flush=True)
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        province = base.design_province()
        tokens = base.insert_province(province)
        built = time.perf_counter()
        current = insert_year(province, year, args.meetings, rng, 0)
        before = insert_year(province, year - 1, max(1, args.meetings // 10), rng,
                             args.meetings)
        from diemcau.scheduling.models import Meeting

        base.reset_sequences([Meeting])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"migrate + province: {built - started:.1f} s; data inserted in "
              f"{time.perf_counter() - built:.1f} s: year {year}: "
              + ", ".join(f"{v} {k}" for k, v in current.items())
              + f"; year {year - 1}: {before['meetings']} meetings", flush=True)

        operator = User.objects.get(pk=province.operator)
        district = User.objects.select_related("agency").get(pk=province.district_office)
        whole_year = periods.parse(str(year))
        half = periods.parse(f"{year}-H2")
        client = Client(headers={"authorization": f"Bearer {tokens['operator']}"})

        def api(url: str) -> Callable[[], Any]:
            def call() -> Any:
                response = client.get(url)
                assert response.status_code == 200, response.content[:300]
                return response
            return call

        def report(user: Any, period: Any) -> Callable[[], Any]:
            def call() -> Any:
                return figures.compute(Basis(period, ReportScope.for_user(user), user=user))
            return call

        data = report(operator, whole_year)()
        samples = args.samples
        results = [
            timed("baseline GET /agencies?limit=1", api("/api/v1/agencies?limit=1"),
                  max(50, samples)),
            timed("yearly report, operator", report(operator, whole_year), samples),
            timed("  GET /api/v1/reports/figures", api(f"/api/v1/reports/figures?period={year}"),
                  samples),
            timed("yearly report, district office", report(district, whole_year), samples),
            timed("half-year report, operator", report(operator, half), samples),
        ]
        from django.utils import translation

        from diemcau.reports.exports import xlsx
        from diemcau.reports.presentation import present

        with translation.override("vi"):
            results.append(timed("  of which the XLSX", lambda: xlsx.workbook(present(data)), 1))
            if args.pdf:
                from diemcau.reports.exports import pdf
                from diemcau.reports.services import letterhead

                head = letterhead(Basis(whole_year, ReportScope()), None, "",
                                  dt.date.today())
                results.append(timed("  of which the PDF",
                                     lambda: pdf.document(present(data), head), 1))
        base.print_table(
            f"data: {current['meetings']} meetings in {year} (+{before['meetings']} in "
            f"{year - 1}), {current['participants']} invitations, {current['attendance']} "
            f"attendance rows, {current['bookings']} node rows ({engine})", results)
        total = data["meetings"]["total"]["total"]
        print(f"check: the report counts {total[0]} meetings in {year} and {total[1]} in "
              f"{year - 1}; {data['attendance']['total']['invited'][0]} invitations to held "
              f"meetings; peak on the busiest node "
              f"{max(n['peak_meetings'][0] for n in data['nodes']['nodes'])} meetings")
    finally:
        connection.close()
        if args.keep:
            print(f"kept: {var_dir} {args.database_url}")
        else:
            if args.database_url:
                base.postgres(args.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
