"""Janus's per-track recordings made into one MP4, with Debian's `janus-pp-rec` and ffmpeg.

No database here: the services hand in a folder of `.mjr` files and the names to show, and
get back the MP4, its thumbnail, the per-endpoint files and their facts.

- Each `.mjr` is one track of one publisher (`videoroom-<room>-user-<feed>-<µs>-<audio|video>-
  <mid>.mjr`). `janus-pp-rec -j` reads its header: `u` is the wall-clock time (µs) of the
  first packet written, so every track is placed on one time line by `u` minus the earliest
  `u` — late joiners and re-joins start at their own second.
- `janus-pp-rec` turns each track into `.opus` or `.webm`, keeping the RTP timestamps, so a
  mute leaves a gap in time rather than being squeezed out; ffmpeg's `aresample=async` fills
  an audio gap with silence and the grid repeats a picture's last frame through a video gap.
- The grid: one tile per endpoint (publisher), `ceil(sqrt(n))` columns, each tile labelled
  with its name (drawtext, DejaVu Sans), on a dark background until it joins and after it
  leaves. The sound of all endpoints is mixed (`amix`, no level normalisation, so one
  speaker is as loud as in the room). H.264 (x264) and AAC in MP4 with the index at the
  front (`+faststart`), so a browser plays it while it downloads.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PP_REC = "janus-pp-rec"
FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # fonts-dejavu-core
BACKGROUND = "0x202020"
AUDIO_RATE = 48000

_NAME = re.compile(r"-user-(?P<feed>\d+)-(?P<stamp>\d+)-(?P<kind>audio|video|data)-\d+\.mjr$")


class ProcessingError(Exception):
    """A step failed; the message says which and why (shown to the operator)."""


@dataclass
class Track:
    """One `.mjr` file and where it sits on the meeting's time line."""

    path: Path
    feed: int
    kind: str  # "audio" or "video"
    codec: str
    first_us: int  # wall-clock µs of its first packet (header `u`)
    offset: float = 0.0  # seconds after the first packet of the whole recording
    converted: Path | None = None
    duration: float = 0.0  # of the converted file, from its own start at 0


@dataclass
class Tile:
    key: int
    label: str
    video: list[Track] = field(default_factory=list)
    audio: list[Track] = field(default_factory=list)


@dataclass
class Result:
    mp4: Path
    thumbnail: Path
    duration: float
    width: int
    height: int
    tiles: list[Tile]
    tracks: list[Track]

    def label_of(self, track: Track) -> str:
        return next((tile.label for tile in self.tiles
                     if track in tile.video or track in tile.audio), "")


def run(argv: list[str], *, timeout: float = 3600, step: str = "") -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except FileNotFoundError as exc:
        raise ProcessingError(f"{step or argv[0]}: {argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise ProcessingError(f"{step or argv[0]}: no answer in {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise ProcessingError(f"{step or argv[0]} failed ({done.returncode}): {tail}")
    return done.stdout


# ---------------------------------------------------------------------------- the tracks


def read_tracks(folder: Path) -> list[Track]:
    """The audio and video tracks among the `.mjr` files of `folder`, placed on one time
    line (data channels are left out)."""
    tracks: list[Track] = []
    for path in sorted(folder.glob("*.mjr")):
        match = _NAME.search(path.name)
        if match is None or match["kind"] == "data":
            continue
        if path.stat().st_size == 0:
            continue
        try:
            header = json.loads(run([PP_REC, "-j", str(path)], timeout=60,
                                    step=f"header of {path.name}"))
        except ValueError as exc:
            raise ProcessingError(f"header of {path.name}: not JSON") from exc
        kind = {"a": "audio", "v": "video"}.get(str(header.get("t")), "")
        if not kind or not header.get("u"):
            continue  # nothing was written to it
        tracks.append(Track(path, int(match["feed"]), kind, str(header.get("c", "")),
                            int(header["u"])))
    if tracks:
        start = min(track.first_us for track in tracks)
        for track in tracks:
            track.offset = (track.first_us - start) / 1e6
    return tracks


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's streams and format of a media file."""
    out = run([FFPROBE, "-v", "error", "-print_format", "json", "-show_streams",
               "-show_format", str(path)], timeout=120, step=f"ffprobe {path.name}")
    data: dict[str, Any] = json.loads(out)
    return data


def convert(track: Track, out_dir: Path) -> Path:
    """The track as a playable file of its own (`.opus` sound, `.webm` picture), in RTP time."""
    suffix = {"opus": ".opus", "vp8": ".webm", "vp9": ".webm", "h264": ".mkv",
              "pcmu": ".wav", "pcma": ".wav", "g722": ".wav"}.get(track.codec)
    if suffix is None:
        raise ProcessingError(f"{track.path.name}: codec {track.codec!r} is not supported")
    target = out_dir / (track.path.stem + suffix)
    run([PP_REC, str(track.path), str(target)], timeout=1800,
        step=f"janus-pp-rec {track.path.name}")
    if not target.exists() or target.stat().st_size == 0:
        raise ProcessingError(f"janus-pp-rec {track.path.name}: no output")
    info = probe(target)
    track.converted = target
    track.duration = float(info.get("format", {}).get("duration") or 0)
    return target


def tiles_of(tracks: Iterable[Track], labels: dict[int, str],
             groups: dict[int, int] | None = None) -> list[Tile]:
    """One tile per endpoint (`groups`: feed → endpoint; by default one per feed), in the
    order they first appeared."""
    tiles: dict[int, Tile] = {}
    groups = groups or {}
    for track in sorted(tracks, key=lambda t: (t.offset, t.feed, t.kind)):
        key = groups.get(track.feed, track.feed)
        tile = tiles.setdefault(key, Tile(key, labels.get(track.feed) or f"#{track.feed}"))
        (tile.video if track.kind == "video" else tile.audio).append(track)
    return list(tiles.values())


# ---------------------------------------------------------------------------- the grid


def grid(count: int) -> tuple[int, int]:
    """(columns, rows) for `count` tiles: as square as possible."""
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    return columns, rows


def tile_boxes(count: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of each tile, row by row (sizes even, as H.264 needs)."""
    columns, rows = grid(count)
    w, h = (width // columns) // 2 * 2, (height // rows) // 2 * 2
    return [((i % columns) * w, (i // columns) * h, w, h) for i in range(count)]


def _escape(path: Path) -> str:
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def build_command(tiles: list[Tile], *, duration: float, output: Path, width: int,
                  height: int, fps: int, preset: str, label_dir: Path,
                  font: str = FONT) -> list[str]:
    """The ffmpeg command that lays the tiles out, mixes the sound and encodes the MP4."""
    inputs: list[str] = []
    graph: list[str] = []
    index = 0

    def add_input(path: Path) -> int:
        nonlocal index
        inputs.extend(["-i", str(path)])
        index += 1
        return index - 1

    count = max(len(tiles), 1)
    columns, rows = grid(count)
    boxes = tile_boxes(columns * rows, width, height)
    tile_w, tile_h = boxes[0][2], boxes[0][3]
    font_size = max(12, tile_h // 14)
    outs: list[str] = []
    for number in range(columns * rows):
        base = f"base{number}"
        graph.append(f"color=c={BACKGROUND}:s={tile_w}x{tile_h}:r={fps}:d={duration:.3f}[{base}]")
        current = base
        if number < len(tiles):
            tile = tiles[number]
            for segment, track in enumerate(tile.video):
                assert track.converted is not None
                source = add_input(track.converted)
                scaled = f"v{number}s{segment}"
                graph.append(
                    f"[{source}:v]setpts=PTS-STARTPTS+{track.offset:.3f}/TB,"
                    f"scale={tile_w}:{tile_h}:force_original_aspect_ratio=decrease,"
                    f"pad={tile_w}:{tile_h}:(ow-iw)/2:(oh-ih)/2:color={BACKGROUND},"
                    f"setsar=1[{scaled}]"
                )
                placed = f"o{number}s{segment}"
                graph.append(f"[{current}][{scaled}]overlay=eof_action=pass:repeatlast=0"
                             f"[{placed}]")
                current = placed
            label_file = label_dir / f"label-{number}.txt"
            label_file.write_text(tile.label, encoding="utf-8")
            labelled = f"t{number}"
            graph.append(
                f"[{current}]drawtext=fontfile='{_escape(Path(font))}':"
                f"textfile='{_escape(label_file)}':fontsize={font_size}:fontcolor=white:"
                f"box=1:boxcolor=black@0.6:boxborderw={font_size // 3}:"
                f"x={font_size // 2}:y=h-th-{font_size}[{labelled}]"
            )
            current = labelled
        outs.append(current)
    if len(outs) == 1:
        graph.append(f"[{outs[0]}]format=yuv420p[vout]")
    else:
        layout = "|".join(f"{x}_{y}" for x, y, _w, _h in boxes)
        graph.append("".join(f"[{o}]" for o in outs)
                     + f"xstack=inputs={len(outs)}:layout={layout},format=yuv420p[vout]")

    sounds: list[str] = []
    for number, tile in enumerate(tiles):
        for segment, track in enumerate(tile.audio):
            assert track.converted is not None
            source = add_input(track.converted)
            label = f"a{number}s{segment}"
            # Placed at its own second; gaps (mutes) and the time before it joined are silence.
            graph.append(
                f"[{source}:a]aresample={AUDIO_RATE},"
                f"asetpts=PTS-STARTPTS+{track.offset:.3f}/TB,"
                f"aresample=async=1:first_pts=0,aformat=channel_layouts=mono[{label}]"
            )
            sounds.append(label)
    if not sounds:
        graph.append(f"anullsrc=r={AUDIO_RATE}:cl=mono,atrim=0:{duration:.3f}[aout]")
    elif len(sounds) == 1:
        graph.append(f"[{sounds[0]}]apad[aout]")
    else:
        graph.append("".join(f"[{s}]" for s in sounds)
                     + f"amix=inputs={len(sounds)}:duration=longest:normalize=0,apad[aout]")

    return [
        FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        *inputs,
        "-filter_complex", ";".join(graph),
        "-map", "[vout]", "-map", "[aout]",
        "-t", f"{duration:.3f}",
        "-c:v", "libx264", "-preset", preset, "-crf", "26", "-r", str(fps),
        "-g", str(fps * 4),
        "-c:a", "aac", "-b:a", "96k", "-ar", str(AUDIO_RATE), "-ac", "2",
        "-movflags", "+faststart",
        "-progress", "pipe:1", "-nostats",
        str(output),
    ]


def encode(argv: list[str], duration: float,
           on_progress: Callable[[float], None] | None = None) -> None:
    """Run ffmpeg, telling `on_progress` the share done (0–1) as it goes."""
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
    except FileNotFoundError as exc:
        raise ProcessingError("ffmpeg is not installed") from exc
    assert process.stdout is not None and process.stderr is not None
    last = 0.0
    for line in process.stdout:
        key, _sep, value = line.strip().partition("=")
        if key == "out_time_us" and value.isdigit() and duration > 0:
            share = min(int(value) / 1e6 / duration, 1.0)
            if on_progress is not None and share - last >= 0.02:
                last = share
                on_progress(share)
    errors = process.stderr.read()
    if process.wait() != 0:
        tail = " ".join(errors.strip().splitlines()[-3:])
        raise ProcessingError(f"ffmpeg failed ({process.returncode}): {tail}")


def thumbnail(mp4: Path, target: Path, duration: float) -> Path:
    moment = min(max(duration / 2, 0), 5.0)
    run([FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss",
         f"{moment:.2f}", "-i", str(mp4), "-frames:v", "1", "-vf", "scale=320:-2",
         "-q:v", "4", str(target)], timeout=120, step="thumbnail")
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_mp4(folder: Path, work: Path, labels: dict[int, str], *,
             groups: dict[int, int] | None = None, size: str = "1280x720",
             fps: int = 25, preset: str = "veryfast",
             on_progress: Callable[[float], None] | None = None) -> Result:
    """The whole job: read, convert and place the tracks, encode the grid, and a thumbnail.
    Progress: converting is the first 20 %, encoding the rest."""
    tracks = read_tracks(folder)
    if not tracks:
        raise ProcessingError("no recorded track was found")
    work.mkdir(parents=True, exist_ok=True)
    for number, track in enumerate(tracks, start=1):
        convert(track, work)
        if on_progress is not None:
            on_progress(0.2 * number / len(tracks))
    duration = max(track.offset + track.duration for track in tracks)
    tiles = tiles_of(tracks, labels, groups)
    width, height = (int(part) for part in size.lower().split("x"))
    output = work / "meeting.mp4"
    argv = build_command(tiles, duration=duration, output=output, width=width,
                         height=height, fps=fps, preset=preset, label_dir=work)
    encode(argv, duration,
           None if on_progress is None else (lambda share: on_progress(0.2 + 0.8 * share)))
    info = probe(output)
    video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
    if video is None:
        raise ProcessingError("ffmpeg wrote no picture")
    final = float(info["format"].get("duration") or duration)
    thumb = thumbnail(output, work / "thumbnail.jpg", final)
    return Result(output, thumb, final, int(video["width"]), int(video["height"]), tiles,
                  tracks)
