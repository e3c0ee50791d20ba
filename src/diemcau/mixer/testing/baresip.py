"""A hardware SIP terminal simulated by baresip (Debian's baresip 1.0) in a network namespace.

It sends a picture of one solid colour and a tone: `video_source avformat,lavfi,color=…`
opens ffmpeg's lavfi `color` source through baresip's avformat module (the device string
"lavfi,<graph>" picks libavformat's lavfi input format), and `audio_source ausine,<Hz>` is a
sine. What it receives is checked decoded: the `snapshot` module writes the next decoded
frame to a PNG on command, and `sndfile` writes the decoded sound to a WAV file. It is driven
through `ctrl_tcp` (JSON netstrings): `dial`, `hangup`, `snapshot_recv`, and call events.

    net = terminal_network()                        # its own namespace and address
    terminal = BaresipTerminal(net, tmp_path / "t1", colour=frames.RED, tone_hz=700)
    terminal.start()
    terminal.wait_event("CALL_INCOMING"); terminal.snapshot()
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diemcau.media.testing import netns
from diemcau.media.testing.netns import MediaNetwork

from . import frames

BINARY = "/usr/bin/baresip"
MODULES = "/usr/lib/baresip/modules"
NOT_INSTALLED = "baresip is not installed (apt-get install baresip)"
SIP_PORT = 5060
CTRL_PORT = 4444


def unavailable_reason() -> str:
    if not os.access(BINARY, os.X_OK):
        return NOT_INSTALLED
    wanted = ("avformat", "ausine", "ctrl_tcp", "snapshot", "sndfile", "avcodec", "vp8",
              "g711", "g722", "opus", "fakevideo", "aubridge")
    missing = [m for m in wanted if not Path(MODULES, f"{m}.so").exists()]
    if missing:
        return f"baresip modules missing: {', '.join(missing)}"
    return netns.unavailable_reason()


def terminal_network() -> MediaNetwork:
    """A namespace of its own (so each terminal has its own address) whose default route is
    the root namespace: it reaches the node's address on another veth pair."""
    net = MediaNetwork.create()
    try:
        netns.ip("-n", net.name, "route", "add", "default", "via", net.root_address)
    except BaseException:
        net.delete()
        raise
    return net


@dataclass(frozen=True)
class TerminalCodecs:
    audio: str = "PCMU"  # baresip names: PCMU, PCMA, G722, opus
    video: str = "H264"  # H264 or VP8


class BaresipTerminal:
    def __init__(self, network: MediaNetwork, directory: Path, *, user: str = "terminal",
                 colour: frames.RGB = frames.RED, tone_hz: int = 700,
                 codecs: TerminalCodecs = TerminalCodecs(), size: tuple[int, int] = (320, 240),
                 fps: int = 15, answer: bool = True, sip_port: int = SIP_PORT,
                 ctrl_port: int = CTRL_PORT, frame_numbers: bool = False) -> None:
        self.network = network
        self.directory = directory
        self.user = user
        self.address = network.ns_address
        self.sip_port = sip_port
        self.ctrl_port = ctrl_port
        self.colour = colour
        self.tone_hz = tone_hz
        self.codecs = codecs
        self.size = size
        self.fps = fps
        self.answer = answer
        self.frame_numbers = frame_numbers  # each picture carries its number (bench)
        self.process: subprocess.Popen[bytes] | None = None
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._token = 0
        self._responses: dict[str, dict[str, Any]] = {}

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{self.address}:{self.sip_port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "baresip.log"

    # ------------------------------------------------------------------ config

    def write_config(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "sound").mkdir(exist_ok=True)
        width, height = self.size
        modules = ["g711", "g722", "opus", "ausine", "aubridge", "avformat",
                   "avcodec", "vp8", "fakevideo", "snapshot", "sndfile"]
        lines = [
            "poll_method\t\tepoll",
            f"sip_listen\t\t{self.address}:{self.sip_port}",
            "sip_trans_def\t\tudp",
            f"audio_source\t\tausine,{self.tone_hz}",
            "audio_player\t\taubridge,nowhere",
            "audio_alert\t\taubridge,nowhere",
            f"video_source\t\tavformat,lavfi,{self._video_graph()}",
            "video_display\t\tfakevideo,nil",
            f"video_size\t\t{width}x{height}",
            "video_bitrate\t\t400000",
            f"video_fps\t\t{self.fps}",
            "rtp_ports\t\t30000-30999",
            "jitter_buffer_delay\t0-0",  # none: packets are decoded as they arrive
            "rtcp_mux\t\tno",
            "ausrc_srate\t\t48000",
            "auplay_srate\t\t48000",
            "ausrc_channels\t\t2",
            f"module_path\t\t{MODULES}",
            *(f"module\t\t\t{name}.so" for name in modules),
            "module_app\t\taccount.so",
            "module_app\t\tmenu.so",
            "module_app\t\tctrl_tcp.so",
            f"ctrl_tcp_listen\t\t{self.address}:{self.ctrl_port}",
            f"snd_path\t\t{self.directory / 'sound'}",
            "avcodec_h264enc\t\tlibx264",
            "avcodec_h264dec\t\th264",
            "vp8_enc_threads\t\t1",
        ]
        (self.directory / "config").write_text("\n".join(lines) + "\n")
        mode = "auto" if self.answer else "manual"
        account = (f"<sip:{self.user}@{self.address}:{self.sip_port}>;regint=0;"
                   f"answermode={mode};audio_codecs={self.codecs.audio}")
        # baresip 1.0 finds a codec by name only, which for H.264 is its packetization-mode
        # 0 variant: listing H264 would refuse mode 1. Unrestricted, it offers both (and
        # VP8 after them); VP8 alone can be listed.
        if self.codecs.video != "H264":
            account += f";video_codecs={self.codecs.video}"
        (self.directory / "accounts").write_text(account + "\n")
        (self.directory / "contacts").write_text("")

    def _video_graph(self) -> str:
        width, height = self.size
        if self.frame_numbers:
            from .numbers import lavfi_numbered

            return lavfi_numbered(self.colour, width, height, self.fps)
        return f"color=c={frames.hex_colour(self.colour)}:s={width}x{height}:r={self.fps}"

    # ------------------------------------------------------------------ process

    def start(self, timeout: float = 15.0) -> BaresipTerminal:
        self.write_config()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.network.command([BINARY, "-s", "-f", str(self.directory)]),
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection((self.address, self.ctrl_port), 1)
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"baresip did not start:\n{self.log_tail()}") from None
                time.sleep(0.1)
        self._sock.settimeout(None)
        threading.Thread(target=self._read, name=f"baresip-{self.user}", daemon=True).start()
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                process.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ ctrl_tcp

    def _read(self) -> None:
        assert self._sock is not None
        buffer = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self.events.append({"type": "CONTROL_CLOSED"})
                    self._cond.notify_all()
                return
            buffer += chunk
            while b":" in buffer:
                length_text, rest = buffer.split(b":", 1)
                length = int(length_text)
                if len(rest) < length + 1:
                    break
                message = json.loads(rest[:length])
                buffer = rest[length + 1:]
                with self._cond:
                    if message.get("response"):
                        self._responses[str(message.get("token"))] = message
                    else:
                        message["t"] = time.monotonic()
                        self.events.append(message)
                    self._cond.notify_all()

    def command(self, command: str, params: str = "", timeout: float = 10.0) -> dict[str, Any]:
        assert self._sock is not None, "not started"
        self._token += 1
        token = str(self._token)
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self._sock.sendall(str(len(body)).encode() + b":" + body + b",")
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"baresip: no answer to {command}")
                self._cond.wait(left)
            return self._responses.pop(token)

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def wait_event(self, wanted: str | Callable[[dict[str, Any]], bool], timeout: float = 20.0,
                   since: int = 0) -> dict[str, Any]:
        """The first event from `since` whose type is `wanted` (or that matches it)."""
        def match(event: dict[str, Any]) -> bool:
            return event.get("type") == wanted if isinstance(wanted, str) else wanted(event)

        deadline = time.monotonic() + timeout
        with self._cond:
            index = since
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if match(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.get("type") for e in self.events[since:]]
                    raise TimeoutError(f"baresip {self.user}: no {wanted} in {timeout}s "
                                       f"(saw {seen})\n{self.log_tail(15)}")
                self._cond.wait(left)

    def event_types(self) -> list[str]:
        with self._cond:
            return [str(e.get("type")) for e in self.events]

    # ------------------------------------------------------------------ calls

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def hangup(self) -> None:
        self.command("hangup")

    def snapshot(self, timeout: float = 10.0) -> frames.Picture:
        """The next frame it decodes from the call, as a picture."""
        return self.snapshot_timed("recv", timeout)[0]

    def snapshot_timed(self, direction: str = "recv",
                       timeout: float = 10.0) -> tuple[frames.Picture, float]:
        """The next frame it decodes ("recv") or encodes ("send") after now, and now (wall
        clock): that frame went through baresip's filter within one frame interval of it
        (the PNG's own write time would add its compression)."""
        self._token += 1
        path = Path("/tmp") / f"bs-{os.getpid()}-{self.user}-{self._token}.png"
        path.unlink(missing_ok=True)
        asked = time.time()
        self.command(f"snapshot_{direction}", str(path))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size > 0:
                time.sleep(0.05)  # written in one go, but let it finish
                try:
                    return frames.png_picture(str(path)), asked
                finally:
                    path.unlink(missing_ok=True)
            time.sleep(0.02)
        raise TimeoutError(f"baresip {self.user}: no {direction} frame in {timeout}s")

    def received_sound(self, seconds: float = 1.0) -> tuple[bytes, int]:
        """The last `seconds` of decoded sound it received (16-bit mono samples, rate)."""
        files = sorted((self.directory / "sound").glob("dump-*-dec.wav"),
                       key=lambda p: p.stat().st_mtime)
        if not files:
            return b"", 8000
        data = files[-1].read_bytes()
        channels = int.from_bytes(data[22:24], "little") or 1
        rate = int.from_bytes(data[24:28], "little") or 8000
        start = data.find(b"data") + 8 if b"data" in data[:200] else 44
        frame = 2 * channels
        samples = data[start:]
        samples = samples[len(samples) % frame:][-int(rate * seconds) * frame:]
        if channels > 1:  # the first channel only
            samples = b"".join(samples[i:i + 2] for i in range(0, len(samples), frame))
        return samples, rate


def _die_with_parent() -> None:
    """Linux: baresip gets SIGKILL if the test process dies before stopping it."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def remove_directory(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
