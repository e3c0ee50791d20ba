"""Janus load benchmark: forwarded streams per core, and what diemcau adds to raw Janus.

No frame is encoded or decoded per stream, and none in Python:

- **Sending:** one GStreamer pipeline encodes a 640x360 VP8 picture at about 500 kbit/s and
  25 fps, plus Opus, once (`vp8enc`, `opusenc`, in C), and sends the same RTP to every
  publisher: each publisher is a VideoRoom *remote publisher* (`add_remote_publisher`, plain
  RTP on 127.0.0.1), so Janus receives P independent streams and forwards each one as if a
  browser had sent it.
- **Receiving:** each subscriber is a GStreamer `webrtcbin` (ICE, DTLS, SRTP in C) that
  subscribes to every publisher on one handle. It completes ICE and DTLS and receives its first
  picture (a `fakesink` after the jitter buffer, never depayloaded nor decoded; a pad probe
  counts buffers). Then, by default (**drop mode**), this run's own nftables table drops
  Janus's SRTP and SRTCP to it on arrival, in the prerouting hook, before any socket: Janus
  still does all of its per-stream work (the copy, SRTP encryption and the `sendto` of every
  packet: the table's counter proves each was sent), and the receiving side does none. STUN
  (the magic cookie 0x2112A442 at UDP payload offset 4) passes both ways, so ICE keepalives
  and checks go on; the subscribers' RTCP (receiver reports) to Janus is not dropped, and is
  counted. Janus 1.1.2 has no ICE consent freshness (`ice_keepalive_conncheck` is off here:
  libnice keeps the pair with STUN indications), so nothing tears the PeerConnections down;
  the admin API's `handle_info` of every handle is read before and after each window to show
  that ICE and DTLS are still up and the packets sent still rising. `--consume` keeps the old
  mode, where the subscribers receive everything (their `webrtcbin`s cost about five times
  Janus per stream, so on a 2-core machine the generator stops keeping up near 150 streams).

Forwarded streams = subscribers × publishers × 2 (audio + video). For each step the run adds
subscribers and prints Janus's CPU (utime + stime of its process over a window, less the idle
Janus measured first), as % of one core and per forwarded stream, the packets per second per
stream Janus sent against what the publishers sent it, and stops once Janus uses one core.

Then, on the same Janus without the load and without the table, what diemcau adds (a diemcau
meeting room with the same remote publishers), each path alternated with the other (ABBA…),
`--samples` pairs:

- **join → first frame:** a subscriber's session, handle, `join`, negotiation and first video
  buffer: through diemcau (the grant `grants.grant_by_login`, a session with the grant's
  one-off token, the backend's join `grants.join_subscriber`), against the same done directly
  on Janus with the api_secret and the room's PIN; with the grant's own time and its parts;
- **mute → silence:** from the host's `control.set_audio(muted=True)` to the last sound buffer
  a subscriber receives of that publisher, against a raw VideoRoom `moderate` on another
  publisher of the same room.

Janus on this machine's default-route interface (ICE never uses loopback; Chromium and
webrtcbin reach it there as a browser on the network would). Needs root for the drop mode,
nftables (installed through apt-get when missing), the janus Debian package, GStreamer 1.22
with webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice) and PyGObject.

    flock /tmp/bench.lock .venv/bin/python bench/janus_load.py          # drop mode, 5 publishers
    flock /tmp/bench.lock .venv/bin/python bench/janus_load.py --consume --steps 2,5,10,15
    .venv/bin/python bench/janus_load.py --part overhead --samples 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import machine  # bench/machine.py, beside this script

ROOM = 424242


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=5, help="publishers (default 5)")
    parser.add_argument("--steps", default="5,10,20,40,60,80,100,120,150",
                        help="subscriber counts, ascending; the run stops at the first step "
                             "where Janus uses one core (default 5,10,20,40,60,80,100,120,150)")
    parser.add_argument("--consume", action="store_true",
                        help="the subscribers receive the media (no nftables drop): the mode "
                             "of the first runs, for comparison")
    parser.add_argument("--join-threads", type=int, default=4,
                        help="subscribers joining at once during the load steps (default 4)")
    parser.add_argument("--event-loops", type=int, default=None,
                        help="Janus's event_loops (default: diemcau's, one per core; 0: "
                             "Janus's own default, a thread per handle)")
    parser.add_argument("--rtp-ports", default="21000-22999",
                        help="Janus's media port range (one port per subscriber; default "
                             "21000-22999, below the ephemeral ports)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="CPU window per step (default 10)")
    parser.add_argument("--samples", type=int, default=30,
                        help="join and mute pairs (raw and diemcau alternated; default 30)")
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
    low, _, high = args.rtp_ports.partition("-")
    args.rtp_ports = (int(low), int(high))
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
            except (OSError, ValueError, http.client.HTTPException) as exc:  # session closed
                raise JanusError(458, str(exc)) from exc
            items = answer if isinstance(answer, list) else [answer]
            return [i for i in items if i.get("janus") != "keepalive"]

    session = JanusSession(access)
    session.client = TokenClient(access)
    return session.start()


# ----------------------------------------------------------------------- drop mode (nftables)

NFT_PREFIX = "diemcau_bench_janus_"
STUN_COOKIE = 0x2112A442  # RFC 5389: at UDP payload offset 4 of every STUN message
# The table's named counters, in the order of its rules.
COUNTERS = ("published", "stun_out", "rtcp_out", "rtp_out", "stun_in", "rtcp_in")


def nft(*args: str, text: str | None = None, check: bool = True) -> str:
    result = subprocess.run(["nft", *args], input=text, capture_output=True, text=True,
                            timeout=30)
    if check and result.returncode:
        raise RuntimeError(f"nft {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def drop_unavailable_reason() -> str:
    """Why the drop mode cannot run here ("" when it can); installs nftables if missing."""
    if os.geteuid() != 0:
        return "the drop mode needs root (an nftables table); run as root, or pass --consume"
    if shutil.which("nft") is None and shutil.which("apt-get") is not None:
        print("nftables is missing: apt-get install nftables", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "nftables"], capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    if shutil.which("nft") is None:
        return "nftables is missing (apt-get install nftables); or pass --consume"
    return ""


def remove_stale_tables() -> None:
    """Tables a killed run of this benchmark left behind (the name carries its pid)."""
    listed = json.loads(nft("-j", "list", "tables", check=False) or '{"nftables": []}')
    for item in listed.get("nftables", []):
        table = item.get("table")
        if not table or not table["name"].startswith(NFT_PREFIX):
            continue
        pid = table["name"][len(NFT_PREFIX):]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            nft("delete", "table", table["family"], table["name"], check=False)


class DropTable:
    """This run's nftables table: Janus's SRTP and SRTCP to the subscribers whose
    (Janus port, subscriber port) pair is in the set `pairs` is counted and dropped on arrival
    (prerouting, before any socket); STUN passes both ways; the subscribers' packets to Janus
    pass and are counted; so are the publishers' packets into Janus (`published`).

    The drop is on the receiving side of the loopback: Janus's `sendto` succeeds (an OUTPUT
    drop would fail it with EPERM and spare Janus the rest of its send path)."""

    def __init__(self, publisher_ports: list[int]) -> None:
        self.name = f"{NFT_PREFIX}{os.getpid()}"
        self.publisher_ports = publisher_ports
        self.pairs: set[tuple[int, int]] = set()

    def create(self) -> DropTable:
        remove_stale_tables()
        cookie = f"0x{STUN_COOKIE:08x}"
        ports = ", ".join(str(port) for port in self.publisher_ports)
        counters = "\n".join(f"  counter {name} {{}}" for name in COUNTERS)
        # @th,96,32: UDP payload bytes 4-7 (the STUN cookie); @th,72,8: payload byte 1, the
        # RTCP packet type (192-223) or RTP's marker bit and payload type (96, 111; 224, 239).
        text = f"""table inet {self.name} {{
{counters}
  set pairs {{ type inet_service . inet_service; }}
  chain pre {{
    type filter hook prerouting priority raw; policy accept;
    iifname "lo" ip daddr 127.0.0.1 udp dport {{ {ports} }} counter name "published"
    udp sport . udp dport @pairs @th,96,32 {cookie} counter name "stun_out" accept
    udp sport . udp dport @pairs @th,72,8 192-223 counter name "rtcp_out" drop
    udp sport . udp dport @pairs counter name "rtp_out" drop
    udp dport . udp sport @pairs @th,96,32 {cookie} counter name "stun_in" accept
    udp dport . udp sport @pairs counter name "rtcp_in" accept
  }}
}}
"""
        nft("-f", "-", text=text)
        return self

    def add(self, janus_port: int, subscriber_port: int) -> None:
        self.pairs.add((janus_port, subscriber_port))
        nft("add", "element", "inet", self.name, "pairs",
            f"{{ {janus_port} . {subscriber_port} }}")

    def counters(self) -> dict[str, int]:
        listed = json.loads(nft("-j", "list", "counters", "table", "inet", self.name))
        return {item["counter"]["name"]: int(item["counter"]["packets"])
                for item in listed["nftables"] if "counter" in item}

    def delete(self) -> None:
        nft("delete", "table", "inet", self.name, check=False)


_PAIR = re.compile(r"(\S+):(\d+) \[[^\]]*\] <-> (\S+):(\d+)")


def peer_state(admin: Any, sub: Subscriber) -> dict[str, Any]:
    """From Janus's admin API: ICE and DTLS states, the selected pair's ports and the packets
    sent so far on this subscriber's PeerConnection (`handle_info`; the first one read is
    kept in `peer_state.sample` for the record)."""
    info = admin.handle_info(sub.handle.session.session_id, sub.handle.handle_id)
    if not getattr(peer_state, "sample", None):
        peer_state.sample = info  # type: ignore[attr-defined]
    webrtc = info.get("webrtc", {})
    ice, dtls = webrtc.get("ice", {}), webrtc.get("dtls", {})
    match = _PAIR.search(str(ice.get("selected-pair", "")))
    return {
        "ice": str(ice.get("state", "")),
        "dtls": str(dtls.get("dtls-state", "")),
        "ports": (int(match.group(2)), int(match.group(4))) if match else None,
        "sent": _sent(webrtc),
    }


def _sent(node: Any, outgoing: bool = False) -> int:
    """Packets sent, wherever Janus's handle_info puts them: `packets-sent` counters, or the
    `packets` of an outgoing (`out…`) statistics block."""
    total = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, int) and not isinstance(value, bool) and (
                    key == "packets-sent" or (outgoing and "packets" in key)):
                total += value
            else:
                total += _sent(value, outgoing or key.startswith("out"))
    elif isinstance(node, list):
        total += sum(_sent(item, outgoing) for item in node)
    return total


def peers_up(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> int:
    """PeerConnections with ICE and DTLS up at both reads and more packets sent at the second."""
    return sum(1 for a, b in zip(before, after, strict=True)
               if a["ice"] in ("connected", "ready") and b["ice"] in ("connected", "ready")
               and b["dtls"] == "connected" and b["sent"] > a["sent"])


# ----------------------------------------------------------------------- the run


def _interrupted(signum: int, _frame: Any) -> None:
    # SIGTERM/SIGHUP as Ctrl+C: the `finally` blocks delete the nftables table and stop Janus.
    raise KeyboardInterrupt(f"signal {signum}")


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
    drop = not args.consume and args.part != "overhead"
    if drop:
        reason = drop_unavailable_reason()
        if reason:
            print(reason, file=sys.stderr)
            return 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupted)
    from diemcau.mcu import janus_config
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.mixer.gst import Gst, MainLoop
    from diemcau.mixer.janus import VIDEOROOM, JanusSession

    call_command("migrate", verbosity=0, interactive=False)
    mode = ("drop mode: after its first picture each subscriber's SRTP/SRTCP from Janus is "
            "counted and dropped on arrival (nftables), STUN passes" if drop else
            "consume mode: webrtcbin → fakesink, no decoding" if args.part != "overhead" else
            "no load steps (--part overhead)")
    print(f"diemcau Janus load benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{machine.describe()}\n{args.publishers} remote publishers (640x360 VP8 "
          f"~{args.video_kbps} kbit/s @ 25 fps + Opus 32 kbit/s, one encode shared), "
          f"subscribers {args.steps}; {mode}; CPU window {args.seconds:.0f} s", flush=True)
    janus = JanusProcess(var_dir / "janus")
    # One media port per subscriber (bundle, rtcp-mux): the test default of 100 is too few.
    janus.config = replace(janus.config, rtp_port_range=args.rtp_ports,
                           event_loops=(janus.config.event_loops if args.event_loops is None
                                        else args.event_loops))
    janus_config.write_config(janus.config)
    print(f"Janus event_loops: {janus.config.event_loops or 'unset (a thread per handle)'}",
          flush=True)
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
    table: DropTable | None = None
    idle = 0.0
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
            if drop:
                table = DropTable(ports).create()
            rows = load_steps(args, janus, session, pipeline, loop, pid, idle, feeds, table)
            if table is not None:
                table.delete()
                table = None
        if args.part != "overhead" and args.forwards:
            forward_rows = forward_load(args, admin, janus, feeds, pid, idle)
        for pipe in senders:  # the overhead is measured without the load
            pipe.set_state(Gst().State.NULL)
        if args.part != "load":
            overhead = measure_overhead(args, janus, session, pipeline, loop)
    finally:
        if table is not None:
            table.delete()
        for pipe in senders:
            pipe.set_state(Gst().State.NULL)
        pipeline.set_state(Gst().State.NULL)
        session.close()
        loop.stop()
        janus.stop(kill=True)
    sample = getattr(peer_state, "sample", None)
    if sample:
        path = var_dir / "handle_info.json"
        path.write_text(json.dumps(sample, indent=1))
        print(f"a subscriber's handle_info (admin API), as read: {path}")
    print_tables(rows, overhead, idle, drop)
    print_forwards(forward_rows)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def load_steps(args: argparse.Namespace, janus: Any, session: Any, pipeline: Any, loop: Any,
               pid: int, idle: float, feeds: list[int], table: DropTable | None
               ) -> list[dict[str, Any]]:
    """Add subscribers step by step; measure Janus at each; stop once it uses one core."""
    rows: list[dict[str, Any]] = []
    subs: list[Subscriber] = []
    states: list[dict[str, Any]] = []
    api = janus.admin()

    def join(index: int) -> Subscriber:
        return subscribe(session, pipeline, loop, f"load-{index}", lambda handle: handle.message({
            "request": "join", "ptype": "subscriber", "room": ROOM,
            "streams": [{"feed": f} for f in feeds]}))

    try:
        for step in args.steps:
            started = time.monotonic()
            with ThreadPoolExecutor(max(1, args.join_threads)) as pool:
                new = list(pool.map(join, range(len(subs), step)))
            for sub in new:
                wait_video(sub, timeout=30)
            subs.extend(new)
            if table is not None:
                # Each new subscriber has its first picture: from now on drop its media.
                for sub in new:
                    ports = peer_state(api, sub)["ports"]
                    if ports is None:
                        raise RuntimeError(f"{sub.name}: Janus shows no selected ICE pair")
                    table.add(*ports)
            time.sleep(1.0)
            states = [peer_state(api, sub) for sub in subs] if table is not None else []
            before = [sub.buffers() for sub in subs]
            video_before = sum(sub.video_bytes() for sub in subs)
            counted = table.counters() if table is not None else {}
            window = time.monotonic()
            cpu, mine = cpu_percent(pid, args.seconds)
            elapsed = time.monotonic() - window
            streams = step * args.publishers * 2
            row: dict[str, Any] = {
                "subscribers": step, "streams": streams, "cpu": cpu - idle,
                "per_stream": (cpu - idle) / streams, "mine": mine,
                "load": os.getloadavg()[0]}
            if table is not None:
                delta = {k: v - counted.get(k, 0) for k, v in table.counters().items()}
                after = [peer_state(api, sub) for sub in subs]
                published = delta["published"] / elapsed  # into Janus, all P × 2 streams
                row.update(
                    up=peers_up(states, after),
                    rate=delta["rtp_out"] / elapsed / streams,
                    published=published / (args.publishers * 2),
                    delivered=delta["rtp_out"] / max(1, delta["published"] * step),
                    kbps=0.0,
                    rtcp_out=delta["rtcp_out"] / elapsed / step,
                    rtcp_in=delta["rtcp_in"] / elapsed / step,
                    stun=(delta["stun_in"] + delta["stun_out"]) / elapsed / step)
                states = after
                print(f"{step} subscribers, {streams} forwarded streams (dropped on arrival): "
                      f"Janus {row['cpu']:.1f} % of a core ({row['per_stream']:.3f} % per "
                      f"stream); Janus sent {row['rate']:.1f} RTP packets/s per stream against "
                      f"{row['published']:.1f} received per published stream "
                      f"({100 * row['delivered']:.0f} %); PeerConnections up (admin API) "
                      f"{row['up']}/{step}; per subscriber/s: SRTCP from Janus "
                      f"{row['rtcp_out']:.1f}, RTCP from it {row['rtcp_in']:.1f}, STUN "
                      f"{row['stun']:.2f}; load generator {mine:.0f} %; "
                      f"load {row['load']:.1f} ({time.monotonic() - started:.0f} s)", flush=True)
            else:
                received = sum(sub.buffers() for sub in subs) - sum(before)
                # Packets per stream per second: when it falls below the first step's, the
                # load generator (or Janus) no longer keeps up and the step's CPU is understated.
                rate = received / elapsed / streams
                kbps = ((sum(sub.video_bytes() for sub in subs) - video_before) * 8 / 1000
                        / elapsed / (step * args.publishers))
                flowing = sum(1 for sub, b in zip(subs, before, strict=True)
                              if sub.buffers() > b and all(
                                  c.last_at > time.monotonic() - 2
                                  for kind in sub.counters.values() for c in kind))
                row.update(up=flowing, rate=rate, kbps=kbps,
                           delivered=rate / rows[0]["rate"] if rows else 1.0)
                print(f"{step} subscribers, {streams} forwarded streams: Janus "
                      f"{row['cpu']:.1f} % of a core ({row['per_stream']:.3f} % per stream), "
                      f"{flowing}/{step} subscribers flowing, {rate:.1f} packets/s per stream "
                      f"({100 * row['delivered']:.0f} % of the first step's), video "
                      f"{kbps:.0f} kbit/s per stream; load generator {mine:.0f} %; "
                      f"load {row['load']:.1f} ({time.monotonic() - started:.0f} s)",
                      flush=True)
            rows.append(row)
            if row["cpu"] + idle >= 100.0:
                print(f"Janus uses one core at {streams} forwarded streams", flush=True)
                break
            if row["delivered"] < 0.9:
                print("fewer than 90 % of the packets: stopping here", flush=True)
                break
    finally:
        for sub in subs:
            sub.handle.detach()
            sub.peer.close()
    return rows


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
    """join → first frame and mute → silence, through diemcau and raw, in a diemcau room,
    the two paths alternated (raw first in even pairs, diemcau first in odd ones), so that
    the machine's drift and the order falls on both alike."""
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
    result: dict[str, list[float]] = {key: [] for key in (
        "join_raw", "join_diemcau", "grant", "backend_join", "mute_raw", "mute_diemcau",
        "mute_call", "moderate_call", "mute_to_request")}
    parts = GrantParts(grants, result)
    janus_call = control._janus
    asked: list[float] = []

    def timed_janus(action: str, call: Any) -> None:
        # When the service sends its one request to Janus: what comes before it (the reads
        # and the permission checks) is what delays the silence.
        asked.append(time.monotonic())
        janus_call(action, call)

    def raw_join(index: int) -> None:
        # The api_secret's session, the PIN, straight to Janus.
        started = time.monotonic()
        raw_session = JanusSession(janus.access).start()
        sub = subscribe(raw_session, pipeline, loop, f"raw-{index}", lambda h: h.message({
            "request": "join", "ptype": "subscriber", "room": room.janus_room_id,
            "pin": room.room_pin, "streams": [{"feed": feed_a}]}))
        result["join_raw"].append(wait_video(sub) - started)
        close(sub, raw_session)

    def diemcau_join(index: int) -> None:
        # The grant, a session with its one-off token, the backend's join.
        started = time.monotonic()
        grant = grants.grant_by_login(setup.meeting, setup.participants[index],
                                       actor=techs[index])
        result["grant"].append(time.monotonic() - started)
        browser = token_session(janus.access, grant.janus_token)

        def backend_join(h: Any) -> None:
            at = time.monotonic()
            grants.join_subscriber(grant.participation, session_id=browser.session_id,
                                   handle_id=h.handle_id, feeds=[feed_a])
            result["backend_join"].append(time.monotonic() - at)

        sub = subscribe(browser, pipeline, loop, f"diemcau-{index}", backend_join)
        result["join_diemcau"].append(wait_video(sub) - started)
        close(sub, browser)

    def unmute() -> None:
        control.give_floor(speaker, actor=host_tech)
        handle.message({"request": "moderate", "room": room.janus_room_id,
                        "secret": room.room_secret, "id": feed_b, "mid": "0", "mute": False})

    def diemcau_mute() -> None:
        asked.clear()
        before = time.monotonic()
        control.set_audio(speaker, muted=True, actor=host_tech)
        result["mute_call"].append(time.monotonic() - before)
        result["mute_to_request"].append(asked[0] - before)
        result["mute_diemcau"].append(silence(listeners[feed_a]) - before)

    def raw_mute() -> None:
        before = time.monotonic()
        handle.message({"request": "moderate", "room": room.janus_room_id,
                        "secret": room.room_secret, "id": feed_b, "mid": "0", "mute": True})
        result["moderate_call"].append(time.monotonic() - before)
        result["mute_raw"].append(silence(listeners[feed_b]) - before)

    listeners: dict[int, Subscriber] = {}
    try:
        time.sleep(1.0)
        with parts:
            for index in range(args.samples):
                order = (raw_join, diemcau_join) if index % 2 == 0 else (diemcau_join, raw_join)
                for path in order:
                    path(index)
        print(f"joins: {len(result['join_raw'])} pairs", flush=True)

        # mute → silence: one listener per publisher.
        for feed in (feed_a, feed_b):
            listeners[feed] = subscribe(session, pipeline, loop, f"listen-{feed}",
                                        lambda h, feed=feed: h.message({
                                            "request": "join", "ptype": "subscriber",
                                            "room": room.janus_room_id, "pin": room.room_pin,
                                            "streams": [{"feed": feed}]}))
            wait_video(listeners[feed])
        control._janus = timed_janus  # type: ignore[assignment]
        for index in range(args.samples):
            unmute()
            time.sleep(1.0)
            for path in (raw_mute, diemcau_mute) if index % 2 == 0 else (diemcau_mute,
                                                                          raw_mute):
                path()
        print(f"mutes: {len(result['mute_raw'])} pairs", flush=True)
    finally:
        control._janus = janus_call  # type: ignore[assignment]
        from diemcau.mixer.gst import Gst

        pipe.set_state(Gst().State.NULL)
    return result


class GrantParts:
    """Times the grant's parts while active, by wrapping what `grants._grant` calls:
    check_may_enter (the meeting's window), ensure_room (the room made sure of on Janus),
    add_janus_token (admin API) and _record_grant (participation, audit, one transaction);
    the rest of `grant_by_login` is the permission checks."""

    NAMES = ("check_may_enter", "ensure_room", "add_janus_token", "_record_grant")

    def __init__(self, module: Any, result: dict[str, list[float]]) -> None:
        self.module, self.result = module, result
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> GrantParts:
        for name in self.NAMES:
            original = self.saved[name] = getattr(self.module, name)
            self.result[f"grant.{name}"] = []
            setattr(self.module, name, self._timed(name, original))
        return self

    def _timed(self, name: str, original: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            at = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                self.result[f"grant.{name}"].append(time.monotonic() - at)
        return timed

    def __exit__(self, *_exc: object) -> None:
        for name, original in self.saved.items():
            setattr(self.module, name, original)


def close(sub: Subscriber, session: Any) -> None:
    sub.handle.detach()
    sub.peer.close()
    session.close()


def silence(sub: Subscriber, quiet: float = 0.5, timeout: float = 10.0) -> float:
    """When the last sound buffer arrived, once none came for `quiet` seconds (25 frames)."""
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


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0] if values else 0.0
        return value, value, value
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return q1, q2, q3


def print_tables(rows: list[dict[str, Any]], overhead: dict[str, list[float]],
                 idle: float, drop: bool) -> None:
    if rows and drop:
        print()
        print("Drop mode: every subscriber completed ICE and DTLS and received its first "
              "picture; then Janus's SRTP/SRTCP to it was dropped on arrival (nftables, "
              "prerouting): Janus's send work is complete, the receivers do none; STUN and "
              "the subscribers' RTCP to Janus pass.")
        print()
        print("| subscribers | forwarded streams (a+v) | Janus CPU, % of a core (less idle) | "
              "per stream, % | PeerConnections up (admin API) | RTP packets/s sent per "
              "stream (nft) | vs received per published stream | SRTCP from Janus / RTCP "
              "from the subscriber, per subscriber/s | load generator CPU, % | "
              "load average |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['subscribers']} | {row['streams']} | {row['cpu']:.1f} | "
                  f"{row['per_stream']:.3f} | {row['up']}/{row['subscribers']} | "
                  f"{row['rate']:.1f} | {row['published']:.1f} "
                  f"({100 * row['delivered']:.0f} %) | {row['rtcp_out']:.1f} / "
                  f"{row['rtcp_in']:.1f} | {row['mine']:.0f} | {row['load']:.1f} |")
    elif rows:
        print()
        print("| subscribers | forwarded streams (a+v) | Janus CPU, % of a core (less idle) | "
              "per stream, % | subscribers flowing | packets/s per stream (vs first step) | "
              "video kbit/s per stream | load generator CPU, % | load average |")
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['subscribers']} | {row['streams']} | {row['cpu']:.1f} | "
                  f"{row['per_stream']:.3f} | {row['up']}/{row['subscribers']} | "
                  f"{row['rate']:.1f} ({100 * row['delivered']:.0f} %) | {row['kbps']:.0f} | "
                  f"{row['mine']:.0f} | {row['load']:.1f} |")
    if rows:
        print(f"\nidle Janus (same run): {idle:.2f} % of one core")
        last = rows[-1]
        if last["cpu"] + idle >= 100.0:
            print(f"Janus used one core at {last['streams']} forwarded streams "
                  f"({last['per_stream']:.3f} % per stream there)")
        elif last["per_stream"] > 0:
            print(f"Janus did not reach one core; at the last step's cost one core is about "
                  f"{(100 - idle) / last['per_stream']:.0f} forwarded streams")
    if overhead.get("join_raw"):
        print_overhead(overhead)


def print_overhead(overhead: dict[str, list[float]]) -> None:
    print()
    print("| measure (ms) | pairs | raw Janus, median (IQR) | through diemcau, median (IQR) "
          "| median of paired differences (IQR) | diemcau slower in | added, % of raw median |")
    print("|---|---|---|---|---|---|---|")
    for label, raw, ours in (("join → first frame", "join_raw", "join_diemcau"),
                             ("mute → silence", "mute_raw", "mute_diemcau")):
        pairs = list(zip(overhead[raw], overhead[ours], strict=False))
        if not pairs:
            continue
        diffs = [b - a for a, b in pairs]
        r, o, d = quartiles(overhead[raw]), quartiles(overhead[ours]), quartiles(diffs)
        base = r[1]
        # Against a raw mute, whose silence starts within one 20 ms sound frame, a
        # percentage says nothing: the added milliseconds are the figure.
        percent = f"{100 * d[1] / base:+.0f} %" if base >= 0.05 else "— (raw ≈ 0)"
        print(f"| {label} | {len(pairs)} | {r[1] * 1000:.0f} ({r[0] * 1000:.0f}–"
              f"{r[2] * 1000:.0f}) | {o[1] * 1000:.0f} ({o[0] * 1000:.0f}–{o[2] * 1000:.0f}) | "
              f"{d[1] * 1000:+.0f} ({d[0] * 1000:+.0f} to {d[2] * 1000:+.0f}) | "
              f"{sum(1 for x in diffs if x > 0)}/{len(diffs)} | {percent} |")
    print()
    print("| diemcau's own steps (ms) | median | IQR | max |")
    print("|---|---|---|---|")
    for key, label in (("grant", "the grant (grants.grant_by_login), whole"),
                       ("grant.check_may_enter", "· the meeting's window (check_may_enter)"),
                       ("grant.ensure_room", "· the room on Janus (ensure_room)"),
                       ("grant.add_janus_token", "· the one-off token (admin add_token)"),
                       ("grant._record_grant", "· participation + audit (_record_grant)"),
                       ("backend_join", "the backend's join (grants.join_subscriber)"),
                       ("mute_call", "the mute service call (control.set_audio), whole"),
                       ("mute_to_request", "· from the call to its moderate request (reads, "
                                           "permission checks)"),
                       ("moderate_call", "a raw moderate request")):
        values = overhead.get(key) or []
        if values:
            q1, q2, q3 = quartiles(values)
            print(f"| {label} | {q2 * 1000:.1f} | {q1 * 1000:.1f}–{q3 * 1000:.1f} | "
                  f"{max(values) * 1000:.1f} |")
    if overhead.get("grant") and overhead.get("grant.check_may_enter"):
        rest = [g - sum(overhead[f"grant.{n}"][i] for n in GrantParts.NAMES)
                for i, g in enumerate(overhead["grant"])]
        print(f"| · the rest: permission checks (require, joinable_endpoints) | "
              f"{statistics.median(rest) * 1000:.1f} | | {max(rest) * 1000:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
