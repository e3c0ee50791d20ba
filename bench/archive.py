"""Archive benchmark: the cost of making a meeting's MP4 (R19), for 2, 4 and 9 endpoints.

For each N it makes N endpoint tracks as `janus-pp-rec` leaves them — a 320x240 VP8 picture
at 15 fps in WebM and an Opus sound, each its own colour and tone, the later ones joining a
few seconds late — then runs the archive's own grid-and-mix command
(`archive.processing.build_command` + `encode`) with the deployment's settings
(`DIEMCAU_ARCHIVE_VIDEO_SIZE`, `_FPS`, `_PRESET`). It prints:

- the processing time per recorded hour, as a ratio to real time (0.25: an hour of meeting
  takes 15 minutes to process; above 1 the worker falls behind a day of back-to-back
  recorded meetings);
- the MP4's size per recorded hour.

The `janus-pp-rec` step (a remux of each track, no decoding) is not included; it takes a
small fraction of the encode. Needs ffmpeg (Debian); no Janus, no database.

    .venv/bin/python bench/archive.py                     # N = 2, 4, 9, 30 s each
    .venv/bin/python bench/archive.py --sizes 2 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from diemcau.archive import processing  # noqa: E402

COLOURS = ["red", "green", "blue", "yellow", "cyan", "magenta", "orange", "purple", "white"]


def make_track(folder: Path, number: int, seconds: float) -> processing.Tile:
    """One endpoint's picture and sound, as janus-pp-rec writes them."""
    video = folder / f"endpoint-{number}-video.webm"
    audio = folder / f"endpoint-{number}-audio.opus"
    colour = COLOURS[number % len(COLOURS)]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={colour}:s=320x240:r=15:d={seconds},drawbox=x='mod(t*80,320)':y=0:w=20:"
         "h=240:color=white:t=fill", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used",
         "8", "-b:v", "300k", str(video)], check=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={300 + 100 * number}:sample_rate=48000:duration={seconds}",
         "-c:a", "libopus", "-b:a", "32k", str(audio)], check=True)
    offset = min(2.0 * number, seconds / 4)  # later endpoints join later
    tile = processing.Tile(number, f"Điểm cầu {number + 1}")
    tile.video.append(processing.Track(video, number, "video", "vp8", 0, offset, video,
                                       seconds))
    tile.audio.append(processing.Track(audio, number, "audio", "opus", 0, offset, audio,
                                       seconds))
    return tile


def run(count: int, seconds: float, size: str, fps: int, preset: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as name:
        folder = Path(name)
        tiles = [make_track(folder, number, seconds) for number in range(count)]
        duration = max(t.offset + t.duration for tile in tiles for t in tile.video)
        width, height = (int(part) for part in size.split("x"))
        output = folder / "meeting.mp4"
        argv = processing.build_command(tiles, duration=duration, output=output,
                                        width=width, height=height, fps=fps, preset=preset,
                                        label_dir=folder)
        started = time.monotonic()
        processing.encode(argv, duration)
        elapsed = time.monotonic() - started
        return elapsed / duration, output.stat().st_size / duration * 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2,4,9")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default=os.environ.get("DIEMCAU_ARCHIVE_VIDEO_SIZE",
                                                         "1280x720"))
    parser.add_argument("--fps", type=int, default=int(os.environ.get("DIEMCAU_ARCHIVE_FPS",
                                                                      "25")))
    parser.add_argument("--preset", default=os.environ.get("DIEMCAU_ARCHIVE_PRESET",
                                                           "veryfast"))
    args = parser.parse_args()
    print(f"archive benchmark: {args.size} at {args.fps} fps, x264 {args.preset}, "
          f"{args.seconds:.0f} s recorded per run; {os.cpu_count()} cores, "
          f"{platform.machine()}, load {os.getloadavg()[0]:.2f}")
    print(f"{'endpoints':>9}  {'time / real time':>16}  {'per recorded hour':>17}  "
          f"{'MP4 per hour':>12}")
    for count in (int(part) for part in args.sizes.split(",")):
        ratio, per_hour = run(count, args.seconds, args.size, args.fps, args.preset)
        print(f"{count:>9}  {ratio:>16.2f}  {ratio * 60:>13.1f} min  "
              f"{per_hour / 1024**2:>9.0f} MB")


if __name__ == "__main__":
    main()
