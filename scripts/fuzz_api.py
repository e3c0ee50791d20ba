#!/usr/bin/env python3
"""Fuzz the REST API with schemathesis against a real server (`make fuzz-api`; CI runs it).

What it does:

1. a fresh database with the demo (SQLite in a temporary folder; with ``--database-url
   postgres://…/NAME`` a database ``NAME_fuzz`` on that server, dropped and made again);
2. an API token for the MCU operator (``vanhanh``) and one for a commune's endpoint
   technician (``kythuat``);
3. uvicorn serving the site on a free port of 127.0.0.1 (``DIEMCAU_DEBUG=0``, as deployed);
4. schemathesis on ``/api/v1/openapi.json`` once per token, each run bounded by
   ``--max-time`` seconds: examples, coverage (boundary values, wrong types, values beyond
   every documented limit) and random fuzzing, positive and negative.

It fails on any 5xx, any response that does not match the documented schema (body, status
code, content type, headers), schema-invalid input that is accepted, a wrong method not
refused, an operation that answers without the token, and any server error in the log. It
prints, per token, how many requests were sent and their status codes; ``--report-dir``
keeps schemathesis' reports (JUnit and its event log).

    python scripts/fuzz_api.py [--max-time 90] [--database-url URL] [--report-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROLES = {"operator": "vanhanh", "commune-technician": "kythuat"}
# Any 5xx; any answer the document does not describe (body, status code, content type,
# headers); schema-invalid input accepted; a wrong method not refused with 405 and Allow; an
# operation answering without the token.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "ignored_auth",
    ]
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fuzz_database_url(url: str) -> str:
    """A database of its own next to the one named (never that one): NAME → NAME_fuzz,
    dropped and created again."""
    import psycopg

    base, _, name = url.rpartition("/")
    name = name.split("?")[0] or "diemcau"
    fuzz_name = f"{name}_fuzz"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fuzz_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{fuzz_name}"')
    return f"{base}/{fuzz_name}"


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, load the demo and make one token per role, in a child process with `env`."""
    code = (
        "import json, django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from diemcau.directory.demo import load_demo\n"
        "load_demo()\n"
        "from diemcau.core.models import User\n"
        "from diemcau.core.services.tokens import create_api_token\n"
        f"roles = {ROLES!r}\n"
        "tokens = {}\n"
        "for role, name in roles.items():\n"
        "    user = User.objects.get(username=name)\n"
        "    tokens[role] = create_api_token(user, 'fuzz', actor=user)[1]\n"
        "print('TOKENS=' + json.dumps(tokens))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"fuzz-api: preparing the database failed:\n{done.stderr}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("TOKENS="))
    tokens: dict[str, str] = json.loads(line.removeprefix("TOKENS="))
    return tokens


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "uvicorn"), "diemcau.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server stopped at start:\n{log.read_text()}")
                with (
                    contextlib.suppress(urllib.error.URLError, OSError),
                    urllib.request.urlopen(url, timeout=30) as response,
                ):
                    if response.status == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not answer within 120 s")
                time.sleep(0.2)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def count_requests(ndjson: Path) -> tuple[int, Counter[int]]:
    """Requests sent and their status codes, from schemathesis' event log (each finished
    scenario records its interactions: one request and its response each)."""
    statuses: Counter[int] = Counter()
    if ndjson.exists():
        for line in ndjson.read_text().splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                recorder = event.get("ScenarioFinished", {}).get("recorder", {})
                for interaction in (recorder.get("interactions") or {}).values():
                    response = interaction.get("response") or {}
                    statuses[int(response.get("status_code") or 0)] += 1
    return sum(statuses.values()), statuses


def run(
    role: str, token: str, port: int, args: argparse.Namespace, reports: Path
) -> dict[str, Any]:
    ndjson = reports / f"{role}.ndjson"
    command = [
        str(BIN / "schemathesis"), "run", f"http://127.0.0.1:{port}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--header", "Accept-Language: en",
        "--checks", args.checks,
        "--max-time", str(args.max_time),
        "--workers", str(args.workers),
        "--seed", str(args.seed),
        "--request-timeout", "30",
        "--max-examples", str(args.max_examples),
        "--report", "junit,ndjson",
        "--report-junit-path", str(reports / f"{role}.xml"),
        "--report-ndjson-path", str(ndjson),
        "--output-truncate", "true",
        "--suppress-health-check", "all",
        "--no-color",
    ]
    started = time.monotonic()
    print(f"== schemathesis as the {role} ({ROLES[role]}), at most {args.max_time} s", flush=True)
    result = subprocess.run(command, cwd=reports)
    elapsed = time.monotonic() - started
    requests, statuses = count_requests(ndjson)
    return {
        "role": role,
        "exit": result.returncode,
        "requests": requests,
        "statuses": statuses,
        "seconds": round(elapsed),
    }


def server_errors(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if re.search(r"Traceback|Internal Server Error", line)]


def tracebacks(log: Path) -> list[str]:
    """Each traceback of the log, from its first line to the exception's line."""
    blocks: list[str] = []
    current: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            current = [line]
        elif current:
            current.append(line)
            if not line.startswith((" ", "During handling", "The above exception")) and line:
                blocks.append("\n".join(current))
                current = []
    return blocks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("FUZZ_MAX_TIME", 90)),
                        help="seconds per token (default 90, or FUZZ_MAX_TIME)")
    parser.add_argument("--max-examples", type=int, default=50, help="per operation and phase")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 9)))
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL", ""),
                        help="postgres://…/NAME: fuzz a database NAME_fuzz on that server")
    parser.add_argument("--report-dir", default="", help="keep the reports here")
    parser.add_argument("--checks", default=CHECKS, help=f"schemathesis checks (default {CHECKS})")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="diemcau-fuzz-"))
    reports = Path(args.report_dir).resolve() if args.report_dir else workdir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "diemcau.settings",
        "DIEMCAU_VAR_DIR": str(workdir / "var"),
        "DIEMCAU_DEBUG": "0",
        # Plain HTTP on the loopback: without TLS in front, production's HTTPS redirect would
        # answer every request with a 301.
        "DIEMCAU_HTTPS": "0",
        "DIEMCAU_SECRET_KEY": "fuzz-" + os.urandom(16).hex(),
        "DIEMCAU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DIEMCAU_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DIEMCAU_WEBHOOK_URL": "",
        "DIEMCAU_JANUS": "0",
        "DIEMCAU_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
        ),
    }
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = fuzz_database_url(args.database_url)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"== fuzz-api: a fresh {database} database with the demo", flush=True)
    try:
        tokens = prepare(env)
        port = free_port()
        log = workdir / "server.log"
        results = []
        with server(env, port, log):
            for role, token in tokens.items():
                results.append(run(role, token, port, args, reports))
        errors = server_errors(log)
        if errors:
            print("== the server's errors (each traceback, up to five)")
            print("\n\n".join(tracebacks(log)[:5]))
    finally:
        if not args.report_dir:
            shutil.rmtree(workdir, ignore_errors=True)

    failed = False
    print(f"== fuzz-api summary ({database})")
    for result in results:
        verdict = "ok" if result["exit"] == 0 else "FAILED"
        failed |= result["exit"] != 0
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result["statuses"].items()))
        print(f"   {result['role']:<20} {result['requests']:>6} requests "
              f"in {result['seconds']:>4} s: {verdict}  ({statuses})")
    if errors:
        failed = True
        print(f"   server log: {len(errors)} error lines, first: {errors[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
