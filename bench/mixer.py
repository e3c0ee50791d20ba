"""Mixer benchmark: CPU of one room's mixer, and glass-to-glass delays through it beside the
plain SFU path measured in the same run.

1. CPU (needs GStreamer only). For each output canvas (360p, 720p, 1080p, all at 25 fps)
   and each input count (4, 9, 16) the mixer pipeline runs in this process: every input
   arrives as RTP on its own UDP port, is depayloaded, decoded, scaled into its tile,
   labelled and composed; the picture is encoded once in H.264 (x264, the terminals'
   codec) and the sound mixed once and encoded in Opus, as for one SIP leg. The inputs are
   stand-ins: one feeder process (gst-launch-1.0, not counted) encodes a 640x360 VP8
   picture at 15 fps and an Opus tone and sends the same RTP to every input's ports, so
   the mixer decodes N streams as it would N browsers'. CPU = utime + stime of this
   process over the window, in % of one core; one row adds the VP8 encoder (browsers'
   codec, for an upstream link or a recording) to the 4-input 720p mix.

2. Delays (needs root, iproute2, janus, baresip). A network namespace, a Janus with the SIP
   plugin, a room, a mixer at 1280x720@25 (H.264 to the terminal):
   - browser → browser (SFU): an aiortc endpoint publishes 320x180 VP8 at 15 fps with its
     frame number drawn in the picture (black/white blocks); another decodes it;
   - browser → terminal (mixed): the same frames, composed and sent to a baresip terminal
     dialled by the mixer; baresip's snapshot module writes the next decoded frame, whose
     number is read in the publisher's tile; the PNG's write time is the arrival;
   - terminal → browser: baresip sends 320x180 H.264 at 15 fps whose frames carry their
     number (ffmpeg's geq filter in its lavfi source); its send times come from snapshots
     of the frames it encodes (first frame time fitted by the earliest snapshot), and the
     aiortc endpoint decodes what Janus relays from the terminal's remote publisher.
   Each path prints median and 90th percentile over the samples.

    python bench/mixer.py                    # every part (~6 min)
    python bench/mixer.py --part cpu --seconds 5 --inputs 4,9
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CANVASES = {"360p": (640, 360, 25), "720p": (1280, 720, 25), "1080p": (1920, 1080, 25)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("cpu", "inputs", "delay", "all"), default="all")
    parser.add_argument("--inputs", default="4,9,16", help="input counts (default 4,9,16)")
    parser.add_argument("--canvases", default="360p,720p,1080p")
    parser.add_argument("--seconds", type=float, default=8.0, help="CPU window per row")
    parser.add_argument("--delay-seconds", type=float, default=25.0,
                        help="how long the delay paths are sampled")
    args = parser.parse_args(argv)
    args.inputs = [int(n) for n in args.inputs.split(",") if n.strip()]
    args.canvases = [c.strip() for c in args.canvases.split(",") if c.strip()]
    return args


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stats(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (f"median {1000 * statistics.median(ordered):.0f} ms, p90 {1000 * p90:.0f} ms "
            f"({len(ordered)} samples)")


# ----------------------------------------------------------------------------- CPU


def feeder(ports: list[tuple[int, int]]) -> subprocess.Popen[bytes]:
    video = ",".join(f"127.0.0.1:{v}" for _a, v in ports)
    audio = ",".join(f"127.0.0.1:{a}" for a, _v in ports)
    return subprocess.Popen(
        ["gst-launch-1.0", "-q",
         "videotestsrc", "is-live=true", "pattern=ball", "!",
         "video/x-raw,width=640,height=360,framerate=15/1", "!",
         "vp8enc", "deadline=1", "cpu-used=8", "target-bitrate=600000",
         "keyframe-max-dist=30", "!", "rtpvp8pay", "pt=96", "!",
         "multiudpsink", f"clients={video}", "sync=false",
         "audiotestsrc", "is-live=true", "freq=440", "!", "audioconvert", "!",
         "opusenc", "!", "rtpopuspay", "pt=111", "!",
         "multiudpsink", f"clients={audio}", "sync=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def cpu_row(loop: Any, canvas: str, count: int, seconds: float,
            vp8: bool) -> tuple[float, float]:
    """(% of one core, pictures encoded per second): a starved mixer drops pictures, so its
    CPU alone would flatter it."""
    from diemcau.mixer import codecs
    from diemcau.mixer.gst import Gst, add_chain, make
    from diemcau.mixer.pipeline import MixerPipeline
    from diemcau.mixer.video import Canvas, EncoderSettings

    width, height, fps = CANVASES[canvas]
    mixer = MixerPipeline(loop, Canvas(width, height, fps), EncoderSettings())
    ports = []
    for index in range(count):
        found = mixer.add_rtp_input(index, f"Điểm cầu {index + 1}", audio_codec="opus",
                                    video_codec="vp8")
        ports.append((found.audio, found.video))

    def outputs() -> None:
        for codec in [codecs.H264, *([codecs.VP8] if vp8 else [])]:
            tee = mixer.video.encoder(codec)
            chain = [make("queue"), codecs.video_payloader(codec, 1234),
                     make("fakesink", sync=False, async_=False)]
            add_chain(mixer.pipeline, *chain)
            tee.request_pad_simple("src_%u").link(chain[0].get_static_pad("sink"))
        chain = [make("queue"), *codecs.audio_encoder(codecs.OPUS, 4321),
                 make("fakesink", sync=False, async_=False)]
        add_chain(mixer.pipeline, *chain, start=False)
        for element in reversed(chain):
            element.sync_state_with_parent()
        mixer.audio.add_mix("leg", None, chain[0].get_static_pad("sink"))

    loop.call(outputs)
    encoded = [0]

    def count_picture(_pad: Any, _info: Any) -> Any:
        encoded[0] += 1
        return Gst().PadProbeReturn.OK

    h264 = mixer.video.encoders[codecs.H264].tee.get_static_pad("sink")
    h264.add_probe(Gst().PadProbeType.BUFFER, count_picture)
    mixer.start()
    feed = feeder([(int(a or 0), int(v or 0)) for a, v in ports])
    try:
        time.sleep(3)  # decoders wait for a keyframe (every 2 s from the feeder)
        before, started, pictures = own_cpu_seconds(), time.monotonic(), encoded[0]
        time.sleep(seconds)
        used = own_cpu_seconds() - before
        elapsed = time.monotonic() - started
        pictures = encoded[0] - pictures
        if mixer.errors:
            print(f"  pipeline errors: {mixer.errors[:2]}", flush=True)
        decoding = sum(1 for entry in mixer.video.inputs.values()
                       if any(e.get_name().startswith("vp8dec")
                              and e.get_static_pad("src").get_current_caps() is not None
                              for e in entry.elements))
        if decoding < count:
            print(f"  only {decoding} of {count} inputs decoded", flush=True)
    finally:
        feed.terminate()
        feed.wait(5)
        mixer.stop()
    return 100 * used / elapsed, pictures / elapsed


def run_cpu(args: argparse.Namespace) -> None:
    from diemcau.mixer.gst import MainLoop, unavailable_reason

    reason = unavailable_reason()
    if reason or shutil.which("gst-launch-1.0") is None:
        print(f"CPU part skipped: {reason or 'gst-launch-1.0 missing (gstreamer1.0-tools)'}")
        return
    loop = MainLoop()
    print("\nMixer CPU, % of one core (this machine has "
          f"{os.cpu_count()}): inputs = RTP VP8 640x360@15 + Opus (one feeder, not counted); "
          "output = one H.264 encode (x264 ultrafast, zerolatency) + one Opus mix")
    print("(each cell: CPU, and pictures encoded per second of the 25 wanted)")
    print(f"{'canvas':>8} " + " ".join(f"{f'{n} inputs':>16}" for n in args.inputs))
    try:
        for canvas in args.canvases:
            cells = [cpu_row(loop, canvas, n, args.seconds, vp8=False) for n in args.inputs]
            print(f"{canvas:>8} " + " ".join(f"{f'{c:.0f}% {f:.0f} fps':>16}"
                                             for c, f in cells), flush=True)
        if "720p" in args.canvases and 4 in args.inputs:
            cpu, fps = cpu_row(loop, "720p", 4, args.seconds, vp8=True)
            print(f"720p, 4 inputs, H.264 + VP8 encoders: {cpu:.0f}% ({fps:.0f} fps)",
                  flush=True)
    finally:
        loop.stop()


# ----------------------------------------------------------------------------- delays


def prepare_django() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="diemcau-bench-mixer-"))
    if os.environ.get("DJANGO_SETTINGS_MODULE") and "DIEMCAU_VAR_DIR" in os.environ:
        return var_dir  # set up by an earlier part of this run
    os.environ.update(DIEMCAU_VAR_DIR=str(var_dir), DIEMCAU_DEBUG="0",
                      DIEMCAU_SECRET_KEY=secrets.token_urlsafe(40),
                      DJANGO_SETTINGS_MODULE="diemcau.settings")
    os.environ.setdefault("DIEMCAU_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return var_dir


def run_delay(args: argparse.Namespace) -> None:
    from diemcau.media.testing import netns
    from diemcau.mixer.testing import baresip

    reason = netns.unavailable_reason() or baresip.unavailable_reason()
    if reason:
        print(f"\ndelay part skipped: {reason}")
        return
    var_dir = prepare_django()
    from django.conf import settings

    if not os.access(settings.JANUS_BINARY, os.X_OK):
        print("\ndelay part skipped: the janus Debian package is not installed")
        return
    from mixer_delay import measure  # type: ignore[import-not-found]

    try:
        measure(var_dir, args.delay_seconds, stats)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def run_inputs(args: argparse.Namespace) -> None:
    """rtp_forward against a WebRTC subscription (docs/mixer.md, the choice of inputs)."""
    from diemcau.media.testing import netns

    reason = netns.unavailable_reason()
    if reason:
        print(f"\ninputs part skipped: {reason}")
        return
    var_dir = prepare_django()
    from django.conf import settings

    if not os.access(settings.JANUS_BINARY, os.X_OK):
        print("\ninputs part skipped: the janus Debian package is not installed")
        return
    from mixer_inputs import measure  # type: ignore[import-not-found]

    try:
        measure(var_dir, [n for n in args.inputs if n <= 9], args.seconds)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"diemcau mixer benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z}, "
          f"{machine()}; load average {load} (other work slows every number)", flush=True)
    if args.part in ("cpu", "all"):
        run_cpu(args)
    if args.part in ("inputs", "all"):
        run_inputs(args)
    if args.part in ("delay", "all"):
        run_delay(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
