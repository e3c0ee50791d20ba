"""Media benchmark: N synthetic endpoints in one meeting on one Janus node.

Each endpoint is an aiortc process in a network namespace made for the run (ICE never uses
loopback), granted and joined through the services exactly as a browser is: a per-join Janus
token, the backend's `join` with the PIN, muted entry. It publishes Opus audio and a 320x240
VP8 picture at 15 fps and subscribes to every other endpoint, so Janus forwards
N x (N - 1) pictures and as many sounds. For each N the run prints:

- Janus CPU: % of one core (utime + stime of the Janus process over a window) with the media
  flowing, less the idle baseline measured in the same run, and that per forwarded stream;
- join to first frame: from the newest endpoint's grant (the join link or login step) to the
  first picture of it that another endpoint decodes, and to the first picture of every other
  endpoint that it decodes itself;
- mute to stop: from the host's `set_audio(muted=True)` service call to the last sound frame
  of that endpoint decoded by the host (frames are 20 ms); and the service call alone.

Needs root (network namespaces), iproute2 and the janus Debian package.

    .venv/bin/python bench/media.py                 # N = 2, 4, 6
    .venv/bin/python bench/media.py --sizes 2,3 --seconds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import machine  # bench/machine.py, beside this script


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,4,6",
                        help="endpoint counts, comma-separated (default 2,4,6)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="CPU measuring window per size (default 10)")
    parser.add_argument("--mutes", type=int, default=3, help="mute samples per size")
    args = parser.parse_args(argv)
    args.sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    if any(n < 2 for n in args.sizes):
        parser.error("every size must be at least 2 endpoints")
    return args


def prepare_environment() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="diemcau-bench-media-"))
    os.environ.update(
        DIEMCAU_VAR_DIR=str(var_dir),
        DIEMCAU_RULEBOOK="khanh-hoa-2023",
        DIEMCAU_DEBUG="0",
        DIEMCAU_SECRET_KEY=secrets.token_urlsafe(40),
        DIEMCAU_HUEY_IMMEDIATE="1",
        DJANGO_SETTINGS_MODULE="diemcau.settings",
    )
    os.environ.setdefault("DIEMCAU_LOG_LEVEL", "WARNING")
    os.environ.pop("DATABASE_URL", None)
    return var_dir


def janus_cpu_percent(pid: int, seconds: float) -> float:
    start_cpu, start = machine.cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (machine.cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench/media.py needs root: it creates a network namespace", file=sys.stderr)
        return 2
    var_dir = prepare_environment()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if not os.access(settings.JANUS_BINARY, os.X_OK):
        print("the janus Debian package is not installed (apt-get install janus)",
              file=sys.stderr)
        return 2
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.media.testing.netns import MediaNetwork
    from diemcau.media.testing.plane import MediaPlane

    call_command("migrate", verbosity=0, interactive=False)
    print(f"diemcau media benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{machine.describe()}\nsizes {args.sizes}; CPU window {args.seconds:.0f} s; "
          f"{args.mutes} mutes per size; endpoints publish 320x240 VP8 @ 15 fps + Opus",
          flush=True)
    network = MediaNetwork.create()
    janus = JanusProcess(var_dir / "janus", interface=network.root_link)
    janus.config.directory.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    try:
        janus.start()
        assert janus.process is not None
        pid = janus.process.pid
        idle = janus_cpu_percent(pid, args.seconds)
        print(f"baseline: idle Janus {idle:.2f} % of one core", flush=True)
        for size in args.sizes:
            plane = MediaPlane(network, janus.access, var_dir)
            started = time.monotonic()
            try:
                row = run_size(size, plane, janus, pid, idle, args)
            finally:
                plane.close()
            rows.append(row)
            print(f"N={size}: Janus {row['cpu']:.2f} % of a core for {row['streams']} streams, "
                  f"join → seen {ms(row['seen_by_others'])} ms "
                  f"({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        janus.stop(kill=True)
        network.delete()
    print_table(rows, idle)
    return 0


def run_size(size: int, plane: Any, janus: Any, pid: int, idle: float,
             args: argparse.Namespace) -> dict[str, Any]:
    from diemcau.core.roles import Role
    from diemcau.mcu.services import register_node
    from diemcau.media.services import control, grants
    from diemcau.media.tests.live_fixtures import live_meeting
    from diemcau.testing.factories import AgencyFactory, UserFactory

    operator = UserFactory(role=Role.OPERATOR)
    node = register_node(janus.node_input(f"mcu-bench-{size}", max_endpoints=500),
                         actor=operator)
    host_agency = AgencyFactory(kind="district_people_committee")
    others = [AgencyFactory(kind="commune_people_committee", parent=host_agency)
              for _ in range(size - 1)]
    setup = live_meeting(node, host_agency, others)
    technician = UserFactory(role=Role.TECHNICIAN, agency=host_agency)
    endpoints = [setup.host_endpoint, *setup.participants]

    connected: list[tuple[Any, Any]] = []  # (grant, MediaEndpoint)

    def join(index: int) -> tuple[float, Any, Any]:
        started = time.time()
        grant = grants.grant_by_login(setup.meeting, endpoints[index], actor=technician)
        media = plane.endpoint(f"n{size}-{index}", token=grant.janus_token)
        attached = media.attached["publisher"]
        grants.join_publisher(grant.participation, session_id=attached.session_id,
                               handle_id=attached.handle_id)
        media.wait_joined()
        media.publish()
        grants.record_published(grant.participation)
        return started, grant, media

    def subscribe(grant: Any, media: Any, feeds: list[int]) -> None:
        """One subscriber handle per picture: aiortc decodes only the first feed of a
        multi-feed subscription (browsers take one handle with them all)."""

        def backend_join(attached: Any, feed_ids: list[int]) -> None:
            grants.join_subscriber(grant.participation, session_id=attached.session_id,
                                    handle_id=attached.handle_id, feeds=feed_ids)

        for feed in feeds:
            media.subscribe([feed], backend_join)

    # Everyone but the newest joins and watches the others.
    for index in range(size - 1):
        _, grant, media = join(index)
        connected.append((grant, media))
    for grant, media in connected:
        feeds = [g.janus_id for g, _ in connected if g is not grant]
        if feeds:
            subscribe(grant, media, feeds)
    # The newest joins into the running meeting: timed from its grant.
    started, new_grant, new_media = join(size - 1)
    first_watcher_grant, first_watcher = connected[0]
    subscribe(first_watcher_grant, first_watcher, [new_grant.janus_id])
    seen_by_others = first_watcher.wait_frames(new_grant.janus_id, "video", more_than=0,
                                               timeout=30).first_at - started
    subscribe(new_grant, new_media, [g.janus_id for g, _ in connected])
    firsts = [new_media.wait_frames(g.janus_id, "video", more_than=0, timeout=30).first_at
              for g, _ in connected]
    sees_others = max(firsts) - started
    for grant, media in connected[1:]:
        subscribe(grant, media, [new_grant.janus_id])
    connected.append((new_grant, new_media))
    for grant, media in connected:  # every picture flows before CPU is measured
        for other, _ in connected:
            if other is not grant:
                media.wait_frames(other.janus_id, "video", more_than=10, timeout=30)

    cpu = janus_cpu_percent(pid, args.seconds) - idle
    streams = size * (size - 1) * 2

    # Mute to stop: the host hears a participant given the floor, then mutes it.
    host_grant, host_media = connected[0]
    speaker_grant = connected[1][0]
    speaker = speaker_grant.janus_id
    mute_to_stop: list[float] = []
    call_time: list[float] = []
    for _ in range(args.mutes):
        control.give_floor(speaker_grant.participation, actor=technician)
        flowing = host_media.frames(speaker, "audio")
        host_media.wait_frames(speaker, "audio", more_than=flowing + 25, timeout=15)
        before = time.time()
        control.set_audio(speaker_grant.participation, muted=True, actor=technician)
        call_time.append(time.time() - before)
        last = settle(host_media, speaker)
        mute_to_stop.append(max(0.0, last - before))
    return {
        "size": size,
        "streams": streams,
        "cpu": cpu,
        "per_stream": cpu / streams,
        "seen_by_others": seen_by_others,
        "sees_others": sees_others,
        "mute_to_stop": mute_to_stop,
        "call": call_time,
    }


def settle(media: Any, feed: int) -> float:
    """When the last sound frame of `feed` arrived, once none came for a second."""
    return float(media.wait_quiet(feed, "audio", quiet=1.0, timeout=15).last_at)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def print_table(rows: list[dict[str, Any]], idle: float) -> None:
    print()
    print("| N | forwarded streams (a+v) | Janus CPU, % of a core (less idle) | "
          "per stream | join → seen by others, ms | join → sees all others, ms | "
          "mute → sound stops, ms (median / max) | mute service call, ms (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['size']} | {row['streams']} | {row['cpu']:.2f} | "
              f"{row['per_stream']:.3f} | {ms(row['seen_by_others'])} | "
              f"{ms(row['sees_others'])} | {ms(statistics.median(row['mute_to_stop']))} / "
              f"{ms(max(row['mute_to_stop']))} | {ms(statistics.median(row['call']))} |")
    print(f"\nbaseline (idle Janus, same run): {idle:.2f} % of one core")


if __name__ == "__main__":
    sys.exit(main())
