"""An aiortc WebRTC endpoint that behaves like a browser towards Janus, and its remote control.

The endpoint runs as a subprocess inside the test network namespace:

    DIEMCAU_JANUS_TOKEN=T ip netns exec <ns> <python> -m diemcau.media.testing.endpoint \
        --janus-url URL

It talks the Janus HTTP API with a stored Janus **token** (never the api_secret), so its
session can only do what a browser could. It creates its session and a VideoRoom handle and
reports `{"event": "attached", ...}`; it never knows the room PIN: the backend sends `join`
on that handle with the api_secret (`join_as_backend`), and Janus delivers the `joined` event
(or the error) to the endpoint's own long poll. Then the endpoint publishes (`configure` with
a JSEP offer: a 400 Hz tone and a moving bar at 320x240/15 fps by default; `--colour R,G,B`
makes the picture one solid colour, `--tone-hz` changes the tone, `--frame-numbers` draws each
frame's number as a row of black and white blocks, for glass-to-glass delays), waits for
`webrtcup` and sends trickle `{"completed": true}`. Subscribing works the same way: the
endpoint attaches another handle, the backend joins it as a subscriber, Janus's offer
reaches the endpoint, which answers with `start`. Received audio/video frames are counted
per feed, with the colour at the centre of the latest picture and the last second of sound
(`sound`: its level and its power at given frequencies).

Protocol: commands on stdin, events on stdout, one JSON object per line. Commands:
`publish`, `attach_subscriber` (label), `request` (label, body, id: a plugin message sent by
the endpoint itself), `stats` (id), `sound` (id, hz, seconds), `numbers` (id: frame numbers
sent and received, with their times), `stop`. Events: `attached`, `janus` (every Janus event,
without SDP), `configured`, `published`, `subscribed`, `reply`, `stats`, `sound`, `numbers`,
`error`, `stopped`.
Times are `time.time()` of this machine (the parent compares them with its own).

`MediaEndpoint` is the parent side; `join_as_backend` is the backend's half of joining.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import math
import os
import secrets
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diemcau.mcu.janus_client import VIDEOROOM, JanusAccess, JanusClient

PUBLISHER = "publisher"  # the label of the first handle
TOKEN_VARIABLE = "DIEMCAU_JANUS_TOKEN"

# ============================================================================ the subprocess

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
TONE_HZ = 400  # 120 samples a period: a 20 ms buffer repeats exactly
VIDEO_CLOCK = 90000


def _log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


class _Http:
    """The Janus HTTP API with a token (blocking; called from executor threads)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def _open(self, request: urllib.request.Request, timeout: float) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
        return json.loads(raw)

    def post(self, path: str, body: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8)}
        if self.token:
            body["token"] = self.token
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        answer = self._open(request, timeout)
        return dict(answer)

    def poll(self, session_id: int, timeout: float = 40) -> list[dict[str, Any]]:
        query = f"/{session_id}?maxev=10&rid={secrets.token_hex(4)}"
        if self.token:
            query += f"&token={self.token}"
        answer = self._open(urllib.request.Request(self.url + query), timeout)
        return answer if isinstance(answer, list) else [answer]


class _Failed(Exception):
    def __init__(self, stage: str, code: int, reason: str) -> None:
        super().__init__(f"{stage}: {code} {reason}")
        self.stage, self.code, self.reason = stage, code, reason


def _check(stage: str, answer: dict[str, Any]) -> dict[str, Any]:
    if answer.get("janus") == "error":
        error = answer.get("error") or {}
        raise _Failed(stage, int(error.get("code", 0)), str(error.get("reason", "")))
    data = answer.get("plugindata", {}).get("data", {})
    if isinstance(data, dict) and "error_code" in data:
        raise _Failed(stage, int(data["error_code"]), str(data.get("error", "")))
    return answer


# Frame numbers in the picture: NUMBER_BITS blocks, least significant first, across the middle
# of the picture from W/8 to 7W/8 (each W/16 wide), from 3H/8 to 5H/8; white is 1.
NUMBER_BITS = 12


def number_block_centres(width: int, height: int) -> list[tuple[int, int]]:
    return [(width // 8 + (2 * bit + 1) * width // 32, height // 2)
            for bit in range(NUMBER_BITS)]


def _draw_number(luma: bytearray, width: int, height: int, number: int) -> None:
    x0, block = width // 8, width // 16
    for bit in range(NUMBER_BITS):
        value = 235 if number >> bit & 1 else 16
        row = bytes([value]) * block
        for y in range(height * 3 // 8, height * 5 // 8):
            start = y * width + x0 + bit * block
            luma[start:start + block] = row


def read_number(luma_at: Callable[[int, int], int], width: int, height: int) -> int:
    """The number drawn in a picture, from its luma at the blocks' centres."""
    return sum(1 << bit for bit, (x, y) in enumerate(number_block_centres(width, height))
               if luma_at(x, y) > 128)


def yuv(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, as VP8 and browsers use it."""
    r, g, b = colour
    y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256
    u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256
    v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256
    return round(y), round(u), round(v)


def rgb(y: int, u: int, v: int) -> tuple[int, int, int]:
    c, d, e = y - 16, u - 128, v - 128
    return tuple(max(0, min(255, round(x))) for x in (  # type: ignore[return-value]
        1.164 * c + 1.596 * e, 1.164 * c - 0.392 * d - 0.813 * e, 1.164 * c + 2.017 * d))


def _make_tracks(audio: bool, video: bool, width: int, height: int, fps: int,
                 colour: tuple[int, int, int] | None = None,
                 tone_hz: int = TONE_HZ, sent: dict[int, float] | None = None) -> list[Any]:
    """`sent`: when given, each picture carries its frame number, recorded here with the
    time it was handed to the encoder."""
    import av
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

    class ToneTrack(MediaStreamTrack):
        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self._samples = b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * tone_hz * i / AUDIO_RATE)))
                for i in range(AUDIO_SAMPLES))
            self._start = 0.0
            self._pts = -AUDIO_SAMPLES

        async def recv(self) -> Any:
            if self.readyState != "live":
                raise MediaStreamError
            self._pts += AUDIO_SAMPLES
            if self._pts == 0:
                self._start = time.time()
            else:
                await asyncio.sleep(self._start + self._pts / AUDIO_RATE - time.time())
            frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
            frame.planes[0].update(self._samples)
            frame.pts = self._pts
            frame.sample_rate = AUDIO_RATE
            frame.time_base = fractions.Fraction(1, AUDIO_RATE)
            return frame

    class BarTrack(MediaStreamTrack):
        """A white bar moving across a grey picture (so VP8 has something to encode)."""

        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self._lumas = []
            bar = max(width // 16, 2)
            for x in range(0, width, bar):
                row = bytearray([70]) * width
                row[x:x + bar] = bytes([235]) * min(bar, width - x)
                self._lumas.append(bytes(row) * height)
            self._chroma = bytes([128]) * ((width // 2) * (height // 2))
            self._chroma_v = self._chroma
            if colour is not None:  # one solid colour instead of the bar
                luma, u, v = yuv(colour)
                self._lumas = [bytes([luma]) * (width * height)]
                self._chroma = bytes([u]) * ((width // 2) * (height // 2))
                self._chroma_v = bytes([v]) * ((width // 2) * (height // 2))
            self._step = VIDEO_CLOCK // fps
            self._start = 0.0
            self._pts = -self._step
            self._index = 0

        async def recv(self) -> Any:
            if self.readyState != "live":
                raise MediaStreamError
            self._pts += self._step
            if self._pts == 0:
                self._start = time.time()
            else:
                await asyncio.sleep(self._start + self._pts / VIDEO_CLOCK - time.time())
            frame = av.VideoFrame(width=width, height=height, format="yuv420p")
            luma = self._lumas[self._index % len(self._lumas)]
            if sent is not None:
                number = self._index % (1 << NUMBER_BITS)
                numbered = bytearray(luma)
                _draw_number(numbered, width, height, number)
                luma = bytes(numbered)
                sent[number] = time.time()
            frame.planes[0].update(luma)
            frame.planes[1].update(self._chroma)
            frame.planes[2].update(self._chroma_v)
            self._index += 1
            frame.pts = self._pts
            frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
            return frame

    tracks: list[Any] = []
    if audio:
        tracks.append(ToneTrack())
    if video:
        tracks.append(BarTrack())
    return tracks


@dataclass
class _Handle:
    label: str
    role: str
    handle_id: int
    pc: Any = None
    up: bool = False
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)  # mid → stream
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)  # mid → counters
    sound: dict[str, bytearray] = field(default_factory=dict)  # mid → last second, s16 mono
    numbers: dict[str, dict[int, float]] = field(default_factory=dict)  # mid → number → t


class _Endpoint:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.http = _Http(args.janus_url, args.token)
        self.session_id = 0
        self.handles: dict[int, _Handle] = {}
        self.labels: dict[str, _Handle] = {}
        self.waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future[Any]]] = []
        self.stopping = False
        self.done = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.sent: dict[int, float] = {}  # frame number → time (with --frame-numbers)

    # ---------------------------------------------------------------- plumbing

    def emit(self, event: str, **data: Any) -> None:
        sys.stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
        sys.stdout.flush()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def post(self, stage: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _check(stage, await self.call(self.http.post, path, body))

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def waiter(self, predicate: Callable[[dict[str, Any]], bool]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        return future

    async def message(self, stage: str, handle: _Handle, body: dict[str, Any],
                      jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        return await self.post(stage, f"/{self.session_id}/{handle.handle_id}", request)

    async def trickle_completed(self, handle: _Handle) -> None:
        await self.post("trickle", f"/{self.session_id}/{handle.handle_id}",
                        {"janus": "trickle", "candidate": {"completed": True}})

    # ---------------------------------------------------------------- session and handles

    async def attach(self, label: str, role: str) -> _Handle:
        answer = await self.post("attach", f"/{self.session_id}",
                                 {"janus": "attach", "plugin": VIDEOROOM})
        handle = _Handle(label, role, int(answer["data"]["id"]))
        self.handles[handle.handle_id] = handle
        self.labels[label] = handle
        self.emit("attached", label=label, role=role, session_id=self.session_id,
                  handle_id=handle.handle_id, t=time.time())
        return handle

    async def poll_loop(self) -> None:
        while not self.stopping:
            try:
                events = await self.call(self.http.poll, self.session_id)
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried
                if self.stopping:
                    return
                self.emit("error", stage="poll", code=0, reason=str(exc))
                await asyncio.sleep(0.5)
                continue
            for event in events:
                if event.get("janus") == "error":
                    error = event.get("error") or {}
                    self.emit("error", stage="poll", code=error.get("code", 0),
                              reason=error.get("reason", ""))
                    if error.get("code") == 458:  # no such session: it is gone
                        self.done.set()
                        return
                    continue
                if event.get("janus") != "keepalive":
                    self.dispatch(event)

    async def keepalive_loop(self) -> None:
        while not self.stopping:
            await asyncio.sleep(20)
            with contextlib.suppress(Exception):
                await self.post("keepalive", f"/{self.session_id}", {"janus": "keepalive"})

    def dispatch(self, event: dict[str, Any]) -> None:
        handle = self.handles.get(int(event.get("sender") or 0))
        data = event.get("plugindata", {}).get("data")
        jsep = event.get("jsep")
        report: dict[str, Any] = {
            "janus": event.get("janus"),
            "handle_id": handle.handle_id if handle else event.get("sender"),
            "label": handle.label if handle else None,
            "data": data,
            "jsep_type": jsep.get("type") if jsep else None,
            "t": time.time(),
        }
        for key in ("reason", "type", "receiving", "mid", "uplink", "lost", "media"):
            if key in event:
                report[key] = event[key]
        self.emit("janus", **report)
        if handle and isinstance(data, dict) and handle.role == "subscriber":
            for stream in data.get("streams") or []:
                if "mid" in stream:
                    handle.streams[str(stream["mid"])] = stream
        for predicate, future in list(self.waiters):
            if not future.done() and predicate(event):
                future.set_result(event)
                self.waiters.remove((predicate, future))
        if handle and jsep and jsep.get("type") == "offer" and handle.role == "subscriber":
            self.spawn(self.answer(handle, jsep))
        if handle and event.get("janus") == "trickle" and handle.pc is not None:
            self.spawn(self.add_candidate(handle, event.get("candidate") or {}))

    async def add_candidate(self, handle: _Handle, candidate: dict[str, Any]) -> None:
        from aiortc.sdp import candidate_from_sdp

        if candidate.get("completed") or not candidate.get("candidate"):
            return
        ice = candidate_from_sdp(candidate["candidate"].split(":", 1)[-1])
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        with contextlib.suppress(Exception):
            await handle.pc.addIceCandidate(ice)

    def new_pc(self) -> Any:
        from aiortc import RTCConfiguration, RTCPeerConnection

        return RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no public STUN

    # ---------------------------------------------------------------- publishing

    async def publish(self, command: dict[str, Any]) -> None:
        from aiortc import RTCSessionDescription

        handle = self.labels[PUBLISHER]
        if handle.pc is not None:
            raise _Failed("publish", 0, "already published")
        t_start = time.time()
        pc = handle.pc = self.new_pc()
        args = self.args
        colour = tuple(int(c) for c in args.colour.split(",")) if args.colour else None
        for track in _make_tracks(args.audio, args.video, args.width, args.height, args.fps,
                                  colour, args.tone_hz,  # type: ignore[arg-type]
                                  self.sent if args.frame_numbers else None):
            pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())  # gathers every candidate

        def mine(event: dict[str, Any]) -> bool:
            return int(event.get("sender") or 0) == handle.handle_id

        answered = self.waiter(lambda e: mine(e) and (
            "jsep" in e or "error_code" in e.get("plugindata", {}).get("data", {})))
        webrtcup = self.waiter(lambda e: mine(e) and e.get("janus") == "webrtcup")
        t_offer = time.time()
        body = {"request": "configure", "audio": args.audio, "video": args.video}
        body.update(command.get("body") or {})
        await self.message("publish", handle, body,
                           {"type": "offer", "sdp": pc.localDescription.sdp})
        await self.trickle_completed(handle)
        event = await asyncio.wait_for(answered, 20)
        data = _check("publish", event)["plugindata"]["data"]
        await pc.setRemoteDescription(RTCSessionDescription(event["jsep"]["sdp"], "answer"))
        t_answer = time.time()
        streams = list(data.get("streams") or [])
        self.emit("configured", streams=streams, t=t_answer)
        await asyncio.wait_for(webrtcup, 20)
        handle.up = True
        mids: dict[str, str] = {}
        for stream in streams:
            mids.setdefault(stream.get("type"), stream.get("mid"))
        self.emit("published", streams=streams, mids=mids, t_start=t_start, t_offer=t_offer,
                  t_answer=t_answer, t_webrtcup=time.time())

    # ---------------------------------------------------------------- subscribing

    async def answer(self, handle: _Handle, jsep: dict[str, Any]) -> None:
        from aiortc import RTCSessionDescription

        try:
            first = handle.pc is None
            if first:
                handle.pc = self.new_pc()
                handle.pc.on("track", lambda track: self.spawn(self.count(handle, track)))
            pc = handle.pc

            def mine(event: dict[str, Any]) -> bool:
                return int(event.get("sender") or 0) == handle.handle_id

            webrtcup = self.waiter(lambda e: mine(e) and e.get("janus") == "webrtcup")
            await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await self.message("start", handle, {"request": "start"},
                               {"type": "answer", "sdp": pc.localDescription.sdp})
            if first:
                await self.trickle_completed(handle)
                await asyncio.wait_for(webrtcup, 20)
                handle.up = True
            else:
                webrtcup.cancel()
            self.emit("subscribed", label=handle.label, streams=list(handle.streams.values()),
                      renegotiated=not first, t=time.time())
        except _Failed as exc:
            self.emit("error", stage=exc.stage, label=handle.label, code=exc.code,
                      reason=exc.reason)
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            self.emit("error", stage="subscribe", label=handle.label, code=0,
                      reason=f"{type(exc).__name__}: {exc}")

    async def count(self, handle: _Handle, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        mid = next((t.mid for t in handle.pc.getTransceivers() if t.receiver.track is track),
                   None)
        counts = handle.counts.setdefault(str(mid), {"kind": track.kind, "frames": 0,
                                                     "first_at": None, "last_at": None})
        sound = handle.sound.setdefault(str(mid), bytearray())
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.time()
            if track.kind == "video" and self.args.frame_numbers:
                number = _frame_number(frame)
                seen = handle.numbers.setdefault(str(mid), {})
                seen.setdefault(number, now)
            if track.kind == "video" and counts["frames"] % 3 == 0:
                counts["centre_rgb"] = _centre_rgb(frame)
            elif track.kind == "audio":
                sound += _mono_s16(frame)
                del sound[:max(len(sound) - AUDIO_RATE * 2, 0)]  # keep the last second
            counts["frames"] += 1
            counts["last_at"] = now
            if counts["first_at"] is None:
                counts["first_at"] = now

    def stats(self) -> dict[str, Any]:
        mids = []
        for handle in self.handles.values():
            for mid, counts in handle.counts.items():
                stream = handle.streams.get(mid, {})
                mids.append({"label": handle.label, "mid": mid, "feed_id": stream.get("feed_id"),
                             "feed_mid": stream.get("feed_mid"), **counts})
        return {"mids": mids}

    def sound(self, hz: list[float], seconds: float) -> dict[str, Any]:
        """Per received audio stream: the RMS level and the power at each of `hz` (relative
        to the total: about 0.5 for a pure tone) of its last `seconds`."""
        rows = []
        for handle in self.handles.values():
            for mid, samples in handle.sound.items():
                stream = handle.streams.get(mid, {})
                last = handle.counts.get(mid, {}).get("last_at") or 0
                # Nothing for a while (a mute stops the stream): silence, not the old tail.
                fresh = time.time() - last < 0.3
                tail = bytes(samples[-int(AUDIO_RATE * seconds) * 2:]) if fresh else b""
                rows.append({"label": handle.label, "mid": mid,
                             "feed_id": stream.get("feed_id"), "rms": _rms(tail),
                             "powers": {str(f): _tone_power(tail, f) for f in hz}})
        return {"mids": rows}

    # ---------------------------------------------------------------- commands

    async def command(self, command: dict[str, Any]) -> None:
        name = command.get("cmd")
        try:
            if name == "publish":
                await self.publish(command)
            elif name == "attach_subscriber":
                await self.attach(str(command["label"]), "subscriber")
            elif name == "request":
                handle = self.labels[str(command.get("label") or PUBLISHER)]
                answer = await self.call(self.http.post,
                                         f"/{self.session_id}/{handle.handle_id}",
                                         {"janus": "message", "body": command["body"]})
                self.emit("reply", id=command.get("id"), answer=answer)
            elif name == "stats":
                self.emit("stats", id=command.get("id"), **self.stats())
            elif name == "numbers":
                received = [{"label": h.label, "mid": mid,
                             "feed_id": h.streams.get(mid, {}).get("feed_id"),
                             "numbers": {str(n): t for n, t in seen.items()}}
                            for h in self.handles.values() for mid, seen in h.numbers.items()]
                self.emit("numbers", id=command.get("id"),
                          sent={str(n): t for n, t in self.sent.items()}, received=received)
            elif name == "sound":
                self.emit("sound", id=command.get("id"),
                          **self.sound(list(command.get("hz") or []),
                                       float(command.get("seconds") or 0.5)))
            elif name == "stop":
                self.done.set()
            else:
                self.emit("error", stage="command", code=0, reason=f"unknown command {name!r}")
        except _Failed as exc:
            self.emit("error", stage=exc.stage, code=exc.code, reason=exc.reason)
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            self.emit("error", stage=str(name), code=0, reason=f"{type(exc).__name__}: {exc}")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def read_stdin() -> None:
            for line in sys.stdin:
                with contextlib.suppress(ValueError):
                    loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
            loop.call_soon_threadsafe(commands.put_nowait, None)  # the parent went away

        threading.Thread(target=read_stdin, daemon=True).start()
        try:
            answer = await self.post("create", "", {"janus": "create"})
            self.session_id = int(answer["data"]["id"])
            self.emit("session", session_id=self.session_id, t=time.time())
            self.spawn(self.poll_loop())
            self.spawn(self.keepalive_loop())
            await self.attach(PUBLISHER, "publisher")
        except _Failed as exc:
            self.emit("error", stage=exc.stage, code=exc.code, reason=exc.reason, fatal=True)
            return 2
        except Exception as exc:  # noqa: BLE001 - e.g. Janus unreachable
            self.emit("error", stage="create", code=0, reason=f"{type(exc).__name__}: {exc}",
                      fatal=True)
            return 2

        async def pump() -> None:
            while True:
                command = await commands.get()
                if command is None:
                    self.done.set()
                    return
                self.spawn(self.command(command))

        self.spawn(pump())
        await self.done.wait()
        await self.shutdown()
        return 0

    async def shutdown(self) -> None:
        self.stopping = True
        for handle in self.handles.values():
            if handle.pc is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(handle.pc.close(), 3)
        if self.session_id:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.post("destroy", f"/{self.session_id}", {"janus": "destroy"}), 3)
        self.emit("stopped", t=time.time())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--janus-url", required=True)
    parser.add_argument("--no-audio", dest="audio", action="store_false")
    parser.add_argument("--no-video", dest="video", action="store_false")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--colour", default="", help="R,G,B: a solid picture of that colour")
    parser.add_argument("--tone-hz", type=int, default=TONE_HZ)
    parser.add_argument("--frame-numbers", action="store_true",
                        help="draw each frame's number; read the numbers of received frames")
    args = parser.parse_args(argv)
    args.token = os.environ.get(TOKEN_VARIABLE, "")  # not on the command line (ps shows it)
    # Not asyncio.run: it would wait for the executor thread still in a long poll.
    code = asyncio.new_event_loop().run_until_complete(_Endpoint(args).run())
    sys.stdout.flush()
    os._exit(code)


def _centre_rgb(frame: Any) -> list[int]:
    """The mean colour of a 4×4 square at the centre of a decoded picture."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    w, h = frame.width, frame.height
    planes = [bytes(p) for p in frame.planes]
    strides = [p.line_size for p in frame.planes]
    ys, us, vs = [], [], []
    for dy in range(4):
        for dx in range(4):
            x, y = w // 2 - 2 + dx, h // 2 - 2 + dy
            ys.append(planes[0][y * strides[0] + x])
            us.append(planes[1][(y // 2) * strides[1] + x // 2])
            vs.append(planes[2][(y // 2) * strides[2] + x // 2])
    return list(rgb(sum(ys) // 16, sum(us) // 16, sum(vs) // 16))


def _frame_number(frame: Any) -> int:
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    plane = frame.planes[0]
    data, stride = bytes(plane), plane.line_size
    return read_number(lambda x, y: data[y * stride + x], frame.width, frame.height)


def _mono_s16(frame: Any) -> bytes:
    """The first channel of a decoded audio frame as 16-bit samples."""
    if frame.format.name != "s16" or frame.sample_rate != AUDIO_RATE:
        import av

        resampler = av.AudioResampler(format="s16", layout=frame.layout.name,
                                      rate=AUDIO_RATE)
        frame = resampler.resample(frame)[0]
    data = bytes(frame.planes[0])
    channels = len(frame.layout.channels)
    if channels == 1:
        return data
    count = len(data) // (2 * channels)
    values = struct.unpack(f"<{count * channels}h", data[: count * channels * 2])
    return struct.pack(f"<{count}h", *values[::channels])


def _rms(samples: bytes) -> float:
    count = len(samples) // 2
    if not count:
        return 0.0
    values = struct.unpack(f"<{count}h", samples[: count * 2])
    return math.sqrt(sum(v * v for v in values) / count)


def _tone_power(samples: bytes, hz: float) -> float:
    """Goertzel power at `hz` relative to the total power (0.5 for a pure tone)."""
    count = len(samples) // 2
    if not count:
        return 0.0
    values = struct.unpack(f"<{count}h", samples[: count * 2])
    k = 2 * math.cos(2 * math.pi * hz / AUDIO_RATE)
    s1 = s2 = 0.0
    for v in values:
        s1, s2 = v + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    total = sum(v * v for v in values) or 1
    return power / (total * count / 2)


# ============================================================================ the parent side


class EndpointError(RuntimeError):
    """The endpoint reported an error, exited, or did not answer in time."""

    def __init__(self, message: str, *, code: int = 0, stage: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.stage = stage


@dataclass(frozen=True)
class Attached:
    session_id: int
    handle_id: int
    label: str
    role: str
    t: float  # when the endpoint attached (time.time())


@dataclass(frozen=True)
class Published:
    streams: list[dict[str, Any]]
    mids: dict[str, str]  # "audio"/"video" → mid (what the backend's `moderate` needs)
    t_start: float  # publish() began (the offer's ICE gathering is in t_offer - t_start)
    t_offer: float  # configure + offer sent
    t_answer: float
    t_webrtcup: float


@dataclass(frozen=True)
class FrameCount:
    frames: int
    first_at: float | None
    last_at: float | None


def join_as_backend(access: JanusAccess, session_id: int, handle_id: int, *, room: int,
                    pin: str, ptype: str = "publisher", display: str = "",
                    feed_id: int | None = None, streams: Iterable[dict[str, Any]] = (),
                    **extra: Any) -> float:
    """The backend's half of joining: `join` on the endpoint's handle with the api_secret.

    VideoRoom joins are asynchronous: Janus answers `ack` here, and `joined`/`attached` (or
    the error, e.g. 433 for a wrong pin) reaches the endpoint's own long poll. Returns
    time.time() of the request, for join → first frame timings."""
    body: dict[str, Any] = {"request": "join", "ptype": ptype, "room": room, "pin": pin}
    if ptype == "publisher":
        if display:
            body["display"] = display
        if feed_id is not None:
            body["id"] = feed_id
    else:
        body["streams"] = list(streams)
    body.update(extra)
    sent = time.time()
    JanusClient(access).message(session_id, handle_id, body)
    return sent


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class MediaEndpoint:
    """One endpoint subprocess in a namespace, driven from the test.

        ep = MediaEndpoint(net.command, janus_url, token, name="a")
        attached = ep.start()                          # session + publisher handle
        join_as_backend(access, attached.session_id, attached.handle_id, room=…, pin=…)
        feed = ep.wait_joined()["id"]
        published = ep.publish()                       # published.mids["audio"], …
        ep.subscribe([other_feed], join=lambda att, feeds: join_as_backend(…))
        ep.wait_frames(other_feed, "video", more_than=20)
        ep.stop()
    """

    def __init__(self, in_namespace: Callable[[list[str]], list[str]], janus_url: str,
                 token: str, *, name: str = "endpoint", audio: bool = True,
                 video: bool = True, width: int = 320, height: int = 240, fps: int = 15,
                 colour: tuple[int, int, int] | None = None, tone_hz: int | None = None,
                 frame_numbers: bool = False,
                 log_dir: Path | None = None, python: str = sys.executable) -> None:
        argv = [python, "-m", "diemcau.media.testing.endpoint", f"--janus-url={janus_url}",
                "--width", str(width), "--height", str(height),
                "--fps", str(fps)]
        if colour is not None:
            argv.append("--colour=" + ",".join(str(c) for c in colour))
        if tone_hz is not None:
            argv.append(f"--tone-hz={tone_hz}")
        if frame_numbers:
            argv.append("--frame-numbers")
        if not audio:
            argv.append("--no-audio")
        if not video:
            argv.append("--no-video")
        self.argv = in_namespace(argv)
        self.env = {**os.environ, TOKEN_VARIABLE: token}
        self.name = name
        self.log_path = (log_dir or Path("/tmp")) / f"endpoint-{name}-{os.getpid()}.log"
        self.process: subprocess.Popen[str] | None = None
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._exited = False
        self._ids = 0
        self.attached: dict[str, Attached] = {}

    # ---------------------------------------------------------------- process

    def start(self, timeout: float = 20.0) -> Attached:
        """Start the subprocess; return its session and publisher handle."""
        assert self.process is None, "already started"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, bufsize=1, env=self.env, start_new_session=True,
                preexec_fn=_die_with_parent)
        threading.Thread(target=self._read, name=f"endpoint-{self.name}", daemon=True).start()
        return self.wait_attached(PUBLISHER, timeout)

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._exited = True
            self._cond.notify_all()

    def send(self, command: dict[str, Any]) -> None:
        if self.process is None or self.process.stdin is None or self._exited:
            raise EndpointError(f"{self.name}: not running")
        try:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise EndpointError(f"{self.name}: not running") from exc

    def stop(self, timeout: float = 5.0) -> None:
        """Close the peer connections and the Janus session; kill if it does not exit."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(EndpointError):
                self.send({"cmd": "stop"})
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()

    def kill(self) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> MediaEndpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # ---------------------------------------------------------------- events

    def mark(self) -> int:
        """The index of the next event (to wait only for events after now)."""
        with self._cond:
            return len(self.events)

    def wait_event(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0,
                   since: int = 0, *, fail_on_error: str | None = None) -> dict[str, Any]:
        """The first event from index `since` that matches; raise EndpointError on timeout,
        exit, or an `error` event whose stage is `fail_on_error`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            index = since
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if predicate(event):
                        return event
                    if (event.get("event") == "error" and fail_on_error is not None
                            and (event.get("stage") == fail_on_error or event.get("fatal"))):
                        raise EndpointError(
                            f"{self.name}: {event.get('stage')}: {event.get('code')} "
                            f"{event.get('reason')}", code=int(event.get("code") or 0),
                            stage=str(event.get("stage")))
                if self._exited:
                    raise EndpointError(f"{self.name}: exited\n{self.log_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EndpointError(f"{self.name}: no matching event in {timeout}s")
                self._cond.wait(left)

    def janus_events(self, label: str = PUBLISHER) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e.get("event") == "janus"
                    and e.get("label") == label]

    def wait_janus(self, predicate: Callable[[dict[str, Any]], bool], label: str = PUBLISHER,
                   timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        """A Janus event on the handle `label`: predicate(event) sees `janus`, `data`…"""
        return self.wait_event(
            lambda e: e.get("event") == "janus" and e.get("label") == label and predicate(e),
            timeout, since)

    # ---------------------------------------------------------------- joining, publishing

    def wait_attached(self, label: str = PUBLISHER, timeout: float = 10.0) -> Attached:
        event = self.wait_event(lambda e: e.get("event") == "attached" and e["label"] == label,
                                timeout, fail_on_error="attach")
        attached = Attached(int(event["session_id"]), int(event["handle_id"]), label,
                            str(event["role"]), float(event["t"]))
        self.attached[label] = attached
        return attached

    def wait_joined(self, timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        """The `joined` event of the publisher handle (its data: id, private_id, publishers);
        a refused join raises EndpointError with Janus's code (433: wrong pin)."""
        event = self.wait_janus(
            lambda e: isinstance(e.get("data"), dict) and (
                e["data"].get("videoroom") == "joined" or "error_code" in e["data"]),
            PUBLISHER, timeout, since)
        data = dict(event["data"])
        if "error_code" in data:
            raise EndpointError(f"{self.name}: join refused: {data}",
                                code=int(data["error_code"]), stage="join")
        return data

    def publish(self, timeout: float = 30.0, **body: Any) -> Published:
        """`configure` with an offer; returns once Janus reported `webrtcup`."""
        since = self.mark()
        self.send({"cmd": "publish", "body": body})
        event = self.wait_event(lambda e: e.get("event") == "published", timeout, since,
                                fail_on_error="publish")
        return Published(list(event["streams"]), dict(event["mids"]), float(event["t_start"]),
                         float(event["t_offer"]),
                         float(event["t_answer"]), float(event["t_webrtcup"]))

    def attach_subscriber(self, label: str | None = None, timeout: float = 10.0) -> Attached:
        self._ids += 1
        label = label or f"sub{self._ids}"
        self.send({"cmd": "attach_subscriber", "label": label})
        return self.wait_attached(label, timeout)

    def wait_subscribed(self, label: str, timeout: float = 30.0,
                        since: int = 0) -> dict[str, Any]:
        def match(event: dict[str, Any]) -> bool:
            if event.get("label") != label:
                return False
            if event.get("event") == "subscribed":
                return True
            data = event.get("data")
            if event.get("event") == "janus" and isinstance(data, dict) and "error_code" in data:
                raise EndpointError(f"{self.name}: subscription refused: {data}",
                                    code=int(data["error_code"]), stage="subscribe")
            if event.get("event") == "error":
                raise EndpointError(f"{self.name}: {event}", code=int(event.get("code") or 0),
                                    stage=str(event.get("stage")))
            return False

        return self.wait_event(match, timeout, since)

    def subscribe(self, feed_ids: Iterable[int],
                  join: Callable[[Attached, list[int]], Any], *, label: str | None = None,
                  timeout: float = 30.0) -> str:
        """Attach a subscriber handle, let the backend (`join(attached, feed_ids)`) join it,
        answer Janus's offer; returns the handle's label once `webrtcup`."""
        attached = self.attach_subscriber(label)
        since = self.mark()
        join(attached, list(feed_ids))
        self.wait_subscribed(attached.label, timeout, since)
        return attached.label

    def request(self, body: dict[str, Any], label: str = PUBLISHER,
                timeout: float = 10.0) -> dict[str, Any]:
        """A plugin message sent by the endpoint itself (as its browser could)."""
        self._ids += 1
        ident = self._ids
        since = self.mark()
        self.send({"cmd": "request", "label": label, "body": body, "id": ident})
        event = self.wait_event(lambda e: e.get("event") == "reply" and e.get("id") == ident,
                                timeout, since)
        return dict(event["answer"])

    # ---------------------------------------------------------------- frames

    def stats(self, timeout: float = 10.0) -> dict[int, dict[str, FrameCount]]:
        """feed id → "audio"/"video" → frames received so far (all subscriber handles)."""
        self._ids += 1
        ident = self._ids
        since = self.mark()
        self.send({"cmd": "stats", "id": ident})
        event = self.wait_event(lambda e: e.get("event") == "stats" and e.get("id") == ident,
                                timeout, since)
        feeds: dict[int, dict[str, FrameCount]] = {}
        for row in event["mids"]:
            if row.get("feed_id") is None:
                continue
            kinds = feeds.setdefault(int(row["feed_id"]), {})
            old = kinds.get(row["kind"])
            count = FrameCount(int(row["frames"]), row["first_at"], row["last_at"])
            if old is not None:  # the same feed on two handles: add them up
                firsts = [t for t in (old.first_at, count.first_at) if t is not None]
                lasts = [t for t in (old.last_at, count.last_at) if t is not None]
                count = FrameCount(old.frames + count.frames, min(firsts, default=None),
                                   max(lasts, default=None))
            kinds[row["kind"]] = count
        return feeds

    def centre_colour(self, feed_id: int) -> tuple[int, int, int] | None:
        """The colour at the centre of the latest picture received from `feed_id`."""
        self._ids += 1
        ident = self._ids
        since = self.mark()
        self.send({"cmd": "stats", "id": ident})
        event = self.wait_event(lambda e: e.get("event") == "stats" and e.get("id") == ident,
                                10, since)
        for row in event["mids"]:
            if row.get("feed_id") == feed_id and row.get("centre_rgb"):
                return tuple(row["centre_rgb"])  # type: ignore[return-value]
        return None

    def sound(self, feed_id: int, hz: Iterable[float] = (),
              seconds: float = 0.5) -> tuple[float, dict[float, float]]:
        """(RMS, {hz: relative power}) of the last `seconds` of sound from `feed_id`."""
        self._ids += 1
        ident = self._ids
        since = self.mark()
        wanted = list(hz)
        self.send({"cmd": "sound", "id": ident, "hz": wanted, "seconds": seconds})
        event = self.wait_event(lambda e: e.get("event") == "sound" and e.get("id") == ident,
                                10, since)
        for row in event["mids"]:
            if row.get("feed_id") == feed_id:
                return float(row["rms"]), {f: float(row["powers"][str(f)]) for f in wanted}
        return 0.0, {f: 0.0 for f in wanted}

    def numbers(self) -> tuple[dict[int, float], dict[int, dict[int, float]]]:
        """(frame number → time sent, feed → frame number → time first received), with
        `frame_numbers=True`; times are this machine's time.time()."""
        self._ids += 1
        ident = self._ids
        since = self.mark()
        self.send({"cmd": "numbers", "id": ident})
        event = self.wait_event(lambda e: e.get("event") == "numbers" and e.get("id") == ident,
                                10, since)
        sent = {int(n): float(t) for n, t in event["sent"].items()}
        received: dict[int, dict[int, float]] = {}
        for row in event["received"]:
            if row.get("feed_id") is not None:
                seen = received.setdefault(int(row["feed_id"]), {})
                for n, t in row["numbers"].items():
                    seen.setdefault(int(n), float(t))
        return sent, received

    def frames(self, feed_id: int, kind: str) -> int:
        count = self.stats().get(feed_id, {}).get(kind)
        return count.frames if count else 0

    def wait_quiet(self, feed_id: int, kind: str, quiet: float = 1.5,
                   timeout: float = 10.0) -> FrameCount:
        """The count once no frame of `kind` from `feed_id` came for `quiet` seconds (after a
        mute or a kick); EndpointError if they keep coming for `timeout` seconds."""
        deadline = time.monotonic() + timeout
        count = self.frames(feed_id, kind)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            again = self.frames(feed_id, kind)
            if again == count:
                return self.stats().get(feed_id, {}).get(kind) or FrameCount(0, None, None)
            count = again
        raise EndpointError(f"{self.name}: {kind} frames from feed {feed_id} kept coming "
                            f"for {timeout}s")

    def wait_frames(self, feed_id: int, kind: str, more_than: int,
                    timeout: float = 15.0) -> FrameCount:
        """Poll until more than `more_than` frames of `kind` came from `feed_id`."""
        deadline = time.monotonic() + timeout
        last = FrameCount(0, None, None)
        while True:
            last = self.stats().get(feed_id, {}).get(kind) or last
            if last.frames > more_than:
                return last
            if time.monotonic() > deadline:
                raise EndpointError(f"{self.name}: {last.frames} {kind} frames from feed "
                                    f"{feed_id} after {timeout}s (wanted > {more_than})")
            time.sleep(0.25)


if __name__ == "__main__":
    main()
