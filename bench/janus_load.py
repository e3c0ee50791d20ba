"""Janus load benchmark: forwarded streams per core, and what diemcau adds to raw Janus.

No frame is encoded or decoded per stream, and none in Python:

- **Sending:** one GStreamer pipeline encodes a 640x360 VP8 picture at about 500 kbit/s and
  25 fps, plus Opus, once (`vp8enc`, `opusenc`, in C), and sends the same RTP to every
  publisher: each publisher is a VideoRoom *remote publisher* (`add_remote_publisher`, plain
  RTP on 127.0.0.1), so Janus receives P independent streams and forwards each one as if a
  browser had sent it.
- **Receiving:** each subscriber is a GStreamer `webrtcbin` (ICE, DTLS, SRTP in C) that
  subscribes to every publisher on one handle; each stream it receives ends in a `fakesink`
  after the jitter buffer, never depayloaded nor decoded. A pad probe counts buffers.

Forwarded streams = subscribers × publishers × 2 (audio + video). For each step the run adds
subscribers and prints Janus's CPU (utime + stime of its process over a window, less the idle
Janus measured first), as % of one core and per forwarded stream, and whether every stream
flowed during the window.

Then, on the same Janus, what diemcau adds (a diemcau meeting room with the same remote
publishers):

- **join → first frame:** a subscriber's session, handle, `join`, negotiation and first video
  buffer: through diemcau (the grant `grants.grant_by_login`, a session with the grant's
  one-off token, the backend's join `grants.join_subscriber`), against the same done directly
  on Janus with the api_secret and the room's PIN;
- **mute → silence:** from the host's `control.set_audio(muted=True)` to the last sound buffer
  a subscriber receives of that publisher, against a raw VideoRoom `moderate` on another
  publisher of the same room.

Janus on this machine's default-route interface (ICE never uses loopback; Chromium and
webrtcbin reach it there as a browser on the network would). Needs the janus Debian package,
GStreamer 1.22 with webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice) and PyGObject.

    .venv/bin/python bench/janus_load.py                               # 5 publishers
    .venv/bin/python bench/janus_load.py --publishers 5 --steps 5,10,20 --seconds 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import machine  # bench/machine.py, beside this script

ROOM = 424242


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=5, help="publishers (default 5)")
    parser.add_argument("--steps", default="5,10,20,30,50",
                        help="subscriber counts, ascending (default 5,10,20,30,50)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="CPU window per step (default 10)")
    parser.add_argument("--samples", type=int, default=5,
                        help="join and mute samples per path (default 5)")
    parser.add_argument("--video-kbps", type=int, default=500)
    parser.add_argument("--forwards", default="",
                        help="after the subscribers, forwarded-stream counts made of SRTP "
                             "rtp_forwarders (a lower bound of a subscriber's cost), e.g. "
                             "200,500,1000")
    parser.add_argument("--part", choices=("all", "load", "overhead"), default="all",
                        help="the load steps, the diemcau overhead, or both (default)")
    args = parser.parse_args(argv)
    args.steps = [int(n) for n in args.steps.split(",") if n.strip()]
    args.forwards = [int(n) for n in args.forwards.split(",") if n.strip()]
    return args


def prepare_environment() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="diemcau-bench-janus-"))
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


def cpu_percent(pid: int, seconds: float) -> tuple[float, float]:
    """(% of one core used by `pid`, % by this process) over `seconds`."""
    me = os.getpid()
    start, mine, at = machine.cpu_seconds(pid), machine.cpu_seconds(me), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - at
    return (100 * (machine.cpu_seconds(pid) - start) / elapsed,
            100 * (machine.cpu_seconds(me) - mine) / elapsed)


# ----------------------------------------------------------------------- GStreamer parts


def sender(pipeline_text_kbps: int, ports: list[int]) -> Any:
    """One encode of each medium, sent to every remote publisher's port (Janus tells audio
    and video apart by SSRC: 1000 and 1010)."""
    from diemcau.mixer.gst import Gst

    clients = ",".join(f"127.0.0.1:{port}" for port in ports)
    text = (
        # Moving colour bars: the encoder comes close to its target (about 460 of 500 kbit/s
        # here), as a camera's picture does; a still pattern comes out far below it, and
        # noise far above.
        "videotestsrc is-live=true pattern=smpte horizontal-speed=4 ! "
        "video/x-raw,width=640,height=360,framerate=25/1 ! "
        f"vp8enc target-bitrate={pipeline_text_kbps * 1000} end-usage=cbr deadline=1 "
        "cpu-used=8 keyframe-max-dist=50 threads=1 ! "
        f"rtpvp8pay pt=96 ssrc=1010 mtu=1200 ! multiudpsink clients={clients} sync=false "
        "audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=48000,channels=2 ! "
        "opusenc bitrate=32000 ! rtpopuspay pt=111 ssrc=1000 ! "
        f"multiudpsink clients={clients} sync=false"
    )
    pipeline = Gst().parse_launch(text)
    pipeline.set_state(Gst().State.PLAYING)
    return pipeline


@dataclass
class Counter:
    buffers: int = 0
    bytes: int = 0
    first_at: float = 0.0
    last_at: float = 0.0

    def probe(self, _pad: Any, info: Any) -> Any:
        from diemcau.mixer.gst import Gst

        now = time.monotonic()
        if not self.buffers:
            self.first_at = now
        self.last_at = now
        self.buffers += 1
        buffer = info.get_buffer()
        if buffer is not None:
            self.bytes += buffer.get_size()
        return Gst().PadProbeReturn.OK


@dataclass
class Subscriber:
    """One webrtcbin subscribed to some feeds on one VideoRoom handle."""

    name: str
    counters: dict[str, list[Counter]] = field(default_factory=lambda: {"audio": [],
                                                                        "video": []})
    offer: dict[str, Any] | None = None
    offered: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    peer: Any = None
    handle: Any = None

    def on_event(self, event: dict[str, Any]) -> None:
        data = event.get("plugindata", {}).get("data", {})
        if "error" in data:
            self.error = str(data["error"])
            self.offered.set()
        if event.get("jsep"):
            self.offer = event["jsep"]
            self.offered.set()

    def on_stream(self, received: Any) -> None:
        from diemcau.mixer.gst import Gst, make

        counter = Counter()
        self.counters.setdefault(received.kind, []).append(counter)
        sink = make("fakesink", sync=False, async_=False)
        self.peer.pipeline.add(sink)
        sink.sync_state_with_parent()
        received.pad.link(sink.get_static_pad("sink"))
        sink.get_static_pad("sink").add_probe(Gst().PadProbeType.BUFFER, counter.probe)

    def first_video(self) -> float:
        firsts = [c.first_at for c in self.counters["video"] if c.buffers]
        return min(firsts) if firsts else 0.0

    def buffers(self) -> int:
        return sum(c.buffers for kind in self.counters.values() for c in kind)

    def video_bytes(self) -> int:
        return sum(c.bytes for c in self.counters["video"])


def subscribe(session: Any, pipeline: Any, loop: Any, name: str, join: Any,
              timeout: float = 20.0) -> Subscriber:
    """Attach, have `join(handle)` send the subscriber join, answer Janus's offer, start."""
    from diemcau.mixer.janus import VIDEOROOM
    from diemcau.mixer.webrtc import WebRtcPeer

    sub = Subscriber(name)
    sub.peer = WebRtcPeer(pipeline, loop, name, on_stream=sub.on_stream)
    sub.handle = session.attach(VIDEOROOM, sub.on_event)
    join(sub.handle)
    if not sub.offered.wait(timeout) or sub.offer is None:
        raise RuntimeError(f"{name}: no offer from Janus ({sub.error})")
    sub.peer.set_offer(sub.offer["sdp"])
    answer = sub.peer.create_answer()
    sub.handle.message({"request": "start"}, jsep={"type": "answer", "sdp": answer})
    sub.handle.trickle_completed()
    return sub


def wait_video(sub: Subscriber, timeout: float = 20.0) -> float:
    deadline = time.monotonic() + timeout
    while not sub.first_video():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{sub.name}: no picture within {timeout:.0f} s")
        time.sleep(0.005)
    return sub.first_video()


# ----------------------------------------------------------------------- sessions


def token_session(access: Any, token: str) -> Any:
    """A Janus session opened with a grant's one-off token, as a browser opens it."""
    from diemcau.mcu.janus_client import JanusError, _checked, _fetch
    from diemcau.mixer.janus import JanusSession, _Client

    class TokenClient(_Client):
        def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
            url = self.access.janus_url.rstrip("/") + path
            body = {**body, "transaction": secrets.token_hex(6), "token": token}
            return _checked(url, _fetch(url, body, self.access.timeout))

        def events(self, session_id: int, max_events: int = 10) -> list[dict[str, Any]]:
            url = (self.access.janus_url.rstrip("/")
                   + f"/{session_id}?maxev={max_events}&token={token}")
            try:
                with urllib.request.urlopen(urllib.request.Request(url), timeout=40) as answered:
                    answer = json.loads(answered.read())
            except (OSError, ValueError) as exc:  # the session closed, Janus gone
                raise JanusError(458, str(exc)) from exc
            items = answer if isinstance(answer, list) else [answer]
            return [i for i in items if i.get("janus") != "keepalive"]

    session = JanusSession(access)
    session.client = TokenClient(access)
    return session.start()


# ----------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    var_dir = prepare_environment()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from diemcau.mixer.gst import unavailable_reason

    if not os.access(settings.JANUS_BINARY, os.X_OK):
        print("the janus Debian package is not installed (apt-get install janus)",
              file=sys.stderr)
        return 2
    missing = unavailable_reason()
    if missing:
        print(f"GStreamer cannot run here: {missing}", file=sys.stderr)
        return 2
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.mixer.gst import Gst, MainLoop
    from diemcau.mixer.janus import VIDEOROOM, JanusSession

    call_command("migrate", verbosity=0, interactive=False)
    print(f"diemcau Janus load benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{machine.describe()}\n{args.publishers} remote publishers (640x360 VP8 "
          f"~{args.video_kbps} kbit/s @ 25 fps + Opus 32 kbit/s, one encode shared), "
          f"subscribers {args.steps} (webrtcbin → fakesink, no decoding); "
          f"CPU window {args.seconds:.0f} s", flush=True)
    janus = JanusProcess(var_dir / "janus")
    janus.config.directory.mkdir(parents=True, exist_ok=True)
    janus.start()
    assert janus.process is not None
    pid = janus.process.pid
    loop = MainLoop("bench-loop")
    pipeline = Gst().Pipeline.new("subscribers")
    pipeline.set_state(Gst().State.PLAYING)
    senders: list[Any] = []
    session = JanusSession(janus.access).start()
    rows: list[dict[str, Any]] = []
    forward_rows: list[dict[str, Any]] = []
    overhead: dict[str, list[float]] = {}
    try:
        idle, _mine = cpu_percent(pid, args.seconds)
        print(f"idle Janus: {idle:.2f} % of one core", flush=True)
        admin = session.attach(VIDEOROOM)
        admin.message({"request": "create", "room": ROOM, "publishers": args.publishers + 5,
                       "admin_key": janus.access.admin_key, "secret": "s",
                       "permanent": False, "fir_freq": 2})
        feeds = [ROOM * 10 + i for i in range(1, args.publishers + 1)]
        ports = [remote_publisher(admin, ROOM, "s", feed) for feed in feeds]
        if args.part != "overhead":
            senders.append(sender(args.video_kbps, ports))
        subs: list[Subscriber] = []

        def raw_join(feed_ids: list[int]) -> Any:
            return lambda handle: handle.message({
                "request": "join", "ptype": "subscriber", "room": ROOM,
                "streams": [{"feed": f} for f in feed_ids]})

        for step in args.steps if args.part != "overhead" else []:
            started = time.monotonic()
            while len(subs) < step:
                sub = subscribe(session, pipeline, loop, f"load-{len(subs)}",
                                raw_join(feeds))
                subs.append(sub)
            for sub in subs:
                wait_video(sub, timeout=30)
            time.sleep(1.0)
            before = [sub.buffers() for sub in subs]
            video_before = sum(sub.video_bytes() for sub in subs)
            window = time.monotonic()
            cpu, mine = cpu_percent(pid, args.seconds)
            received = sum(sub.buffers() for sub in subs) - sum(before)
            # Packets per stream per second: when it falls below the first step's, the
            # load generator (or Janus) no longer keeps up and the step's CPU is understated.
            rate = received / (time.monotonic() - window) / (step * args.publishers * 2)
            kbps = ((sum(sub.video_bytes() for sub in subs) - video_before) * 8 / 1000
                    / (time.monotonic() - window) / (step * args.publishers))
            flowing = sum(1 for sub, b in zip(subs, before, strict=True)
                          if sub.buffers() > b and all(
                              c.last_at > time.monotonic() - 2
                              for kind in sub.counters.values() for c in kind))
            streams = step * args.publishers * 2
            row = {"subscribers": step, "streams": streams, "cpu": cpu - idle,
                   "per_stream": (cpu - idle) / streams, "flowing": flowing, "mine": mine,
                   "load": os.getloadavg()[0], "rate": rate, "kbps": kbps,
                   "delivered": rate / rows[0]["rate"] if rows else 1.0}
            rows.append(row)
            print(f"{step} subscribers, {streams} forwarded streams: Janus "
                  f"{row['cpu']:.1f} % of a core ({row['per_stream']:.3f} % per stream), "
                  f"{flowing}/{step} subscribers flowing, {rate:.1f} packets/s per stream "
                  f"({100 * row['delivered']:.0f} % of the first step's), video "
                  f"{kbps:.0f} kbit/s per stream; "
                  f"load generator {mine:.0f} %; "
                  f"load {row['load']:.1f} ({time.monotonic() - started:.0f} s)", flush=True)
        for sub in subs:
            sub.handle.detach()
            sub.peer.close()
        if args.part != "overhead" and args.forwards:
            forward_rows = forward_load(args, admin, janus, feeds, pid, idle)
        for pipe in senders:  # the overhead is measured without the load
            pipe.set_state(Gst().State.NULL)
        if args.part != "load":
            overhead = measure_overhead(args, janus, session, pipeline, loop)
    finally:
        for pipe in senders:
            pipe.set_state(Gst().State.NULL)
        pipeline.set_state(Gst().State.NULL)
        session.close()
        loop.stop()
        janus.stop(kill=True)
    print_tables(rows, overhead, idle)
    print_forwards(forward_rows)
    return 0


def udp_drops(port: int) -> int:
    """Packets the kernel dropped for our unread socket on `port` (/proc/net/udp)."""
    wanted = f":{port:04X}"
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(wanted):
            return int(fields[-1])
    return 0


def forward_load(args: argparse.Namespace, admin: Any, janus: Any, feeds: list[int],
                 pid: int, idle: float) -> list[dict[str, Any]]:
    """SRTP `rtp_forward`s of the same publishers to one UDP socket nobody reads (the kernel
    drops the packets, and counts them: proof they were sent). Janus encrypts and sends
    each packet once per forwarded stream, as for a subscriber, without the ICE and DTLS
    around it: a lower bound of a subscriber's cost, for counts the subscribers here cannot
    reach."""
    import base64
    import socket

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    crypto = base64.b64encode(os.urandom(30)).decode()
    rows: list[dict[str, Any]] = []
    made = 0
    try:
        for step in args.forwards:
            while made * 2 < step:
                admin.message({
                    "request": "rtp_forward", "room": ROOM, "secret": "s",
                    "admin_key": janus.access.admin_key,
                    "publisher_id": feeds[made % len(feeds)], "host": "127.0.0.1",
                    "host_family": "ipv4", "srtp_suite": 80, "srtp_crypto": crypto,
                    "streams": [{"mid": "0", "port": port}, {"mid": "1", "port": port}]})
                made += 1
            time.sleep(1.0)
            dropped, at = udp_drops(port), time.monotonic()
            cpu, mine = cpu_percent(pid, args.seconds)
            rate = (udp_drops(port) - dropped) / (time.monotonic() - at) / (made * 2)
            row = {"streams": made * 2, "cpu": cpu - idle, "per_stream": (cpu - idle) / (made * 2),
                   "rate": rate, "load": os.getloadavg()[0]}
            rows.append(row)
            print(f"{made * 2} forwarded streams by SRTP rtp_forward: Janus {row['cpu']:.1f} % "
                  f"of a core ({row['per_stream']:.3f} % per stream), {rate:.1f} packets/s "
                  f"per stream sent; load {row['load']:.1f}", flush=True)
    finally:
        sink.close()
    return rows


def print_forwards(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print()
    print("| forwarded streams (SRTP rtp_forward) | Janus CPU, % of a core (less idle) | "
          "per stream, % | packets/s per stream sent | load average |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['streams']} | {row['cpu']:.1f} | {row['per_stream']:.3f} | "
              f"{row['rate']:.1f} | {row['load']:.1f} |")


def remote_publisher(handle: Any, room: int, secret: str, feed: int) -> int:
    answer = handle.message({
        "request": "add_remote_publisher", "room": room, "secret": secret, "id": feed,
        "display": f"load {feed}", "iface": "127.0.0.1",
        "streams": [{"type": "audio", "mid": "0", "mindex": 0, "codec": "opus"},
                    {"type": "video", "mid": "1", "mindex": 1, "codec": "vp8"}]})
    return int(answer["port"])


def measure_overhead(args: argparse.Namespace, janus: Any, session: Any, pipeline: Any,
                     loop: Any) -> dict[str, list[float]]:
    """join → first frame and mute → silence, through diemcau and raw, in a diemcau room."""
    from diemcau.core.roles import Role
    from diemcau.mcu.services import poll_health, register_node
    from diemcau.media.models import Participation, Transport
    from diemcau.media.services import control, grants
    from diemcau.media.services.rooms import ensure_room
    from diemcau.media.tests.live_fixtures import live_meeting
    from diemcau.mixer.janus import VIDEOROOM, JanusSession
    from diemcau.scheduling.choices import Classification
    from diemcau.testing.factories import AgencyFactory, UserFactory

    operator = UserFactory(role=Role.OPERATOR)
    node = register_node(janus.node_input("mcu-load"), actor=operator)
    poll_health(node)
    district = AgencyFactory(kind="district_people_committee")
    communes = [AgencyFactory(kind="commune_people_committee", parent=district)
                for _ in range(args.samples)]
    setup = live_meeting(node, district, communes, classification=Classification.INTERNAL)
    host_tech = UserFactory(role=Role.TECHNICIAN, agency=district)
    techs = [UserFactory(role=Role.TECHNICIAN, agency=a) for a in communes]
    room = ensure_room(setup.meeting)
    handle = session.attach(VIDEOROOM)
    feed_a, feed_b = 91001, 91002  # a: muted through diemcau; b: by a raw moderate
    ports = [remote_publisher(handle, room.janus_room_id, room.room_secret, f)
             for f in (feed_a, feed_b)]
    pipe = sender(args.video_kbps, ports)
    # Publisher a is a participation, as a SIP leg's remote publisher is (mids 0 and 1).
    speaker = Participation.objects.create(
        meeting=setup.meeting, endpoint=setup.host_endpoint, node=node, display="load a",
        transport=Transport.SIP, janus_id=feed_a, key_hash=secrets.token_hex(32),
        janus_token_secret="", audio_mid="0", video_mid="1", audio_muted=False,
        joined_at=setup.meeting.starts_at)
    result: dict[str, list[float]] = {"join_raw": [], "join_diemcau": [], "grant": [],
                                      "mute_raw": [], "mute_diemcau": [], "mute_call": [],
                                      "moderate_call": []}
    try:
        time.sleep(1.0)
        for index in range(args.samples):
            # Raw: the api_secret's session, the PIN, straight to Janus.
            started = time.monotonic()
            raw_session = JanusSession(janus.access).start()
            sub = subscribe(raw_session, pipeline, loop, f"raw-{index}", lambda h: h.message({
                "request": "join", "ptype": "subscriber", "room": room.janus_room_id,
                "pin": room.room_pin, "streams": [{"feed": feed_a}]}))
            result["join_raw"].append(wait_video(sub) - started)
            close(sub, raw_session)

            # diemcau: the grant, a session with its token, the backend's join.
            started = time.monotonic()
            grant = grants.grant_by_login(setup.meeting, setup.participants[index],
                                           actor=techs[index])
            result["grant"].append(time.monotonic() - started)
            browser = token_session(janus.access, grant.janus_token)

            def backend_join(h: Any, grant: Any = grant, browser: Any = browser) -> None:
                grants.join_subscriber(grant.participation, session_id=browser.session_id,
                                        handle_id=h.handle_id, feeds=[feed_a])

            sub = subscribe(browser, pipeline, loop, f"diemcau-{index}", backend_join)
            result["join_diemcau"].append(wait_video(sub) - started)
            close(sub, browser)

        # mute → silence: one listener per publisher.
        listeners = {}
        for feed in (feed_a, feed_b):
            listeners[feed] = subscribe(session, pipeline, loop, f"listen-{feed}",
                                        lambda h, feed=feed: h.message({
                                            "request": "join", "ptype": "subscriber",
                                            "room": room.janus_room_id, "pin": room.room_pin,
                                            "streams": [{"feed": feed}]}))
            wait_video(listeners[feed])
        for _ in range(args.samples):
            control.give_floor(speaker, actor=host_tech)
            handle.message({"request": "moderate", "room": room.janus_room_id,
                            "secret": room.room_secret, "id": feed_b, "mid": "0",
                            "mute": False})
            time.sleep(1.5)
            before = time.monotonic()
            control.set_audio(speaker, muted=True, actor=host_tech)
            result["mute_call"].append(time.monotonic() - before)
            result["mute_diemcau"].append(silence(listeners[feed_a]) - before)
            before = time.monotonic()
            handle.message({"request": "moderate", "room": room.janus_room_id,
                            "secret": room.room_secret, "id": feed_b, "mid": "0",
                            "mute": True})
            result["moderate_call"].append(time.monotonic() - before)
            result["mute_raw"].append(silence(listeners[feed_b]) - before)
    finally:
        from diemcau.mixer.gst import Gst

        pipe.set_state(Gst().State.NULL)
    return result


def close(sub: Subscriber, session: Any) -> None:
    sub.handle.detach()
    sub.peer.close()
    session.close()


def silence(sub: Subscriber, quiet: float = 1.0, timeout: float = 10.0) -> float:
    """When the last sound buffer arrived, once none came for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = max((c.last_at for c in sub.counters["audio"]), default=0.0)
        if time.monotonic() - last >= quiet:
            return last
        time.sleep(0.01)
    raise RuntimeError(f"{sub.name}: the sound never stopped")


def ms(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"


def print_tables(rows: list[dict[str, Any]], overhead: dict[str, list[float]],
                 idle: float) -> None:
    print()
    print("| subscribers | forwarded streams (a+v) | Janus CPU, % of a core (less idle) | "
          "per stream, % | subscribers flowing | packets/s per stream (vs first step) | "
          "video kbit/s per stream | load generator CPU, % | load average |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['subscribers']} | {row['streams']} | {row['cpu']:.1f} | "
              f"{row['per_stream']:.3f} | {row['flowing']}/{row['subscribers']} | "
              f"{row['rate']:.1f} ({100 * row['delivered']:.0f} %) | {row['kbps']:.0f} | "
              f"{row['mine']:.0f} | {row['load']:.1f} |")
    print(f"\nidle Janus (same run): {idle:.2f} % of one core")
    if rows and rows[-1]["per_stream"] > 0:
        print(f"one core at this per-stream cost: about {100 / rows[-1]['per_stream']:.0f} "
              "forwarded streams")
    if overhead.get("join_raw"):
        print()
        print("| measure (median / max, ms) | raw Janus | through diemcau | added, ms "
              "(median) | added, % |")
        print("|---|---|---|---|---|")
        for label, raw, ours in (("join → first frame", "join_raw", "join_diemcau"),
                                 ("mute → silence", "mute_raw", "mute_diemcau")):
            base = statistics.median(overhead[raw])
            added = statistics.median(overhead[ours]) - base
            # Against a raw mute, whose silence starts within one 20 ms sound frame, a
            # percentage says nothing: the added milliseconds are the figure.
            percent = f"{100 * added / base:+.0f} %" if base >= 0.05 else "—"
            print(f"| {label} | {ms(overhead[raw])} | {ms(overhead[ours])} | "
                  f"{added * 1000:+.0f} | {percent} |")
        print(f"\nof which: the grant {ms(overhead['grant'])} ms; the mute service call "
              f"{ms(overhead['mute_call'])} ms against a raw moderate "
              f"{ms(overhead['moderate_call'])} ms")


if __name__ == "__main__":
    sys.exit(main())
