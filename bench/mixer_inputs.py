"""How the mixer should take the room's streams (bench/mixer.py --part inputs): N VideoRoom
publishers received and decoded (a) through `rtp_forward` to local UDP ports, or (b)
through one WebRTC subscription (webrtcbin: ICE, DTLS, SRTP, one PeerConnection for all
feeds). The publishers are remote publishers fed by one gst-launch feeder (VP8 640x360 at
15 fps + Opus, not counted), so no browser's CPU blurs the comparison. For each path:
the CPU of this process (receiving and decoding) and of Janus (forwarding), in % of one
core, and the time from the request to every feed's first decoded picture."""

from __future__ import annotations

import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

PIN, SECRET = "2468", "bench-secret"


def _cpu(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _feed(ports: list[int]) -> subprocess.Popen[bytes]:
    clients = ",".join(f"127.0.0.1:{p}" for p in ports)
    return subprocess.Popen(
        ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "pattern=ball", "!",
         "video/x-raw,width=640,height=360,framerate=15/1", "!", "vp8enc", "deadline=1",
         "cpu-used=8", "target-bitrate=600000", "keyframe-max-dist=30", "!",
         "rtpvp8pay", "pt=96", "ssrc=1010", "!", "multiudpsink", f"clients={clients}",
         "audiotestsrc", "is-live=true", "!", "audioconvert", "!", "opusenc", "!",
         "rtpopuspay", "pt=111", "ssrc=1000", "!", "multiudpsink", f"clients={clients}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _decoded_pictures(pipeline: Any, pad: Any, encoding: str, seen: dict[int, float],
                      key: int) -> None:
    """pad → depayloader → decoder → fakesink, noting the first decoded picture."""
    from diemcau.mixer import codecs
    from diemcau.mixer.gst import Gst, add_chain, make

    sink = make("fakesink", sync=False, async_=False)
    chain = [make("queue"), *codecs.decoder(encoding), sink]
    add_chain(pipeline, *chain)

    def first(_pad: Any, _info: Any) -> Any:
        seen.setdefault(key, time.monotonic())
        return Gst().PadProbeReturn.REMOVE

    sink.get_static_pad("sink").add_probe(Gst().PadProbeType.BUFFER, first)
    pad.link(chain[0].get_static_pad("sink"))


def _forwarded(janus: Any, room: Any, feeds: list[int], seconds: float) -> dict[str, float]:
    """udpsrc → rtpjitterbuffer → (as the subscription) depayloader → decoder, per stream."""
    from diemcau.mixer import codecs
    from diemcau.mixer.gst import Gst, MainLoop, add_chain, caps, make
    from diemcau.mixer.janus import JanusSession
    from diemcau.mixer.roomapi import RoomApi, Stream

    loop = MainLoop()
    pipeline = Gst().Pipeline.new("forwarded")
    session = JanusSession(janus.access).start()
    api = RoomApi(session, room)
    seen: dict[int, float] = {}

    def receive(key: int, codec: str) -> int:
        source = make("udpsrc", address="127.0.0.1", port=0,
                      caps=caps(codecs.rtp_caps(codec)))
        jitter = make("rtpjitterbuffer", latency=40)
        add_chain(pipeline, source, jitter, start=False)
        source.set_state(Gst().State.READY)
        _decoded_pictures(pipeline, jitter.get_static_pad("src"), codec, seen, key)
        jitter.sync_state_with_parent()
        source.sync_state_with_parent()
        return int(source.get_property("port"))

    pipeline.set_state(Gst().State.PLAYING)
    started = time.monotonic()
    for feed in feeds:
        ports = {"video": loop.call(receive, feed, codecs.VP8),
                 "audio": loop.call(receive, -feed, codecs.OPUS)}
        api.rtp_forward(feed, ports, (Stream("audio", "0", "opus"),
                                      Stream("video", "1", "vp8")), 9)
    try:
        return _measure(janus, lambda: len([k for k in seen if k >= 0]), len(feeds),
                        started, seen, seconds)
    finally:
        pipeline.set_state(Gst().State.NULL)
        session.close()
        loop.stop()


def _subscribed(janus: Any, room: Any, feeds: list[int], seconds: float) -> dict[str, float]:
    from diemcau.mixer.gst import Gst, MainLoop
    from diemcau.mixer.janus import VIDEOROOM, JanusSession, plugin_data
    from diemcau.mixer.webrtc import WebRtcPeer

    loop = MainLoop()
    pipeline = Gst().Pipeline.new("subscriber")
    seen: dict[int, float] = {}
    mids: dict[str, int] = {}
    offers: list[dict[str, Any]] = []
    got_offer = threading.Event()

    def on_stream(received: Any) -> None:
        mid = received.pad.get_property("transceiver").get_property("mid")
        key = mids.get(str(mid), -1) if received.kind == "video" else -2
        _decoded_pictures(pipeline, received.pad, received.encoding, seen, key)

    peer = WebRtcPeer(pipeline, loop, "subscriber", on_stream=on_stream)
    pipeline.set_state(Gst().State.PLAYING)
    session = JanusSession(janus.access).start()

    def event(e: dict[str, Any]) -> None:
        data = plugin_data(e)
        for stream in data.get("streams") or []:
            if stream.get("type") == "video":
                mids[str(stream.get("mid"))] = int(stream.get("feed_id"))
        if e.get("jsep", {}).get("type") == "offer":
            offers.append(e["jsep"])
            got_offer.set()
        if e.get("janus") == "trickle" and (e.get("candidate") or {}).get("candidate"):
            candidate = e["candidate"]
            peer.element.emit("add-ice-candidate", int(candidate.get("sdpMLineIndex", 0)),
                              candidate["candidate"])

    handle = session.attach(VIDEOROOM, event)
    started = time.monotonic()
    handle.message({"request": "join", "ptype": "subscriber", "room": room.room, "pin": PIN,
                    "streams": [{"feed": feed} for feed in feeds]})
    got_offer.wait(15)
    peer.set_offer(offers[0]["sdp"])
    answer = peer.create_answer()
    handle.message({"request": "start"}, {"type": "answer", "sdp": answer, "trickle": False})
    try:
        return _measure(janus, lambda: len([k for k in seen if k >= 0]), len(feeds), started,
                        seen, seconds)
    finally:
        pipeline.set_state(Gst().State.NULL)
        session.close()
        loop.stop()


def _measure(janus: Any, count: Any, wanted: int, started: float, seen: dict[int, float],
             seconds: float) -> dict[str, float]:
    import resource

    deadline = time.monotonic() + 30
    while count() < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    first_all = max(seen.values()) - started if len(seen) >= wanted else float("nan")
    time.sleep(2)

    def own() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    pid = janus.process.pid
    own0, janus0, t0 = own(), _cpu(pid), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    return {"first": first_all, "own": 100 * (own() - own0) / elapsed,
            "janus": 100 * (_cpu(pid) - janus0) / elapsed}


def measure(var_dir: Path, counts: list[int], seconds: float) -> None:
    from diemcau.mcu.testing.janus import JanusProcess
    from diemcau.media.testing.netns import MediaNetwork
    from diemcau.mixer.janus import JanusSession
    from diemcau.mixer.roomapi import RoomAccess, RoomApi

    network = MediaNetwork.create()
    janus = JanusProcess(var_dir / "janus-inputs", interface=network.root_link)
    try:
        janus.start()
        print("\nInputs: N VP8 640x360@15 + Opus publishers received and decoded by the "
              "mixer; % of one core (this process / Janus), and request → every first "
              "picture")
        for count in counts:
            room = RoomAccess(secrets.randbelow(2**52) + 1, PIN, SECRET)
            with janus.client().videoroom() as handle:
                handle.create(room.room, description="bench:inputs", pin=PIN, secret=SECRET,
                              publishers=count + 2, audiocodec="opus", videocodec="vp8")
            session = JanusSession(janus.access).start()
            api = RoomApi(session, room)
            feeds, ports = [], []
            for index in range(count):
                feed = 1000 + index
                ports.append(api.add_remote_publisher(feed, f"feed {index}")[0])
                feeds.append(feed)
            feeder = _feed(ports)
            try:
                time.sleep(1)
                forwarded = _forwarded(janus, room, feeds, seconds)
                subscribed = _subscribed(janus, room, feeds, seconds)
            finally:
                feeder.terminate()
                feeder.wait(5)
                session.close()
            print(f"  N={count:>2}  rtp_forward: {forwarded['own']:.0f}% / "
                  f"{forwarded['janus']:.0f}%, {forwarded['first']:.2f} s   "
                  f"webrtcbin subscription: {subscribed['own']:.0f}% / "
                  f"{subscribed['janus']:.0f}%, {subscribed['first']:.2f} s", flush=True)
    finally:
        janus.stop(kill=True)
        network.delete()
