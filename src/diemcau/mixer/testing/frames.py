"""Reading decoded pictures and sound in tests: pixel colours at points, tone power.

A `Picture` is one RGBA frame (bytes); colours are compared with a tolerance because every
encode/decode and the YUV round trip move them a little.
"""

from __future__ import annotations

import math
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from diemcau.mixer.gst import Gst, caps, link_many, make

RGB = tuple[int, int, int]

# Colours far apart in YUV too (so 4:2:0 and codecs keep them apart).
RED: RGB = (230, 30, 30)
GREEN: RGB = (30, 200, 30)
BLUE: RGB = (30, 30, 230)
YELLOW: RGB = (240, 230, 30)
MAGENTA: RGB = (220, 30, 220)
CYAN: RGB = (30, 220, 230)
WHITE: RGB = (235, 235, 235)
ORANGE: RGB = (250, 140, 20)


def argb(colour: RGB) -> int:
    """videotestsrc's `foreground-color` (0xAARRGGBB)."""
    r, g, b = colour
    return 0xFF000000 | r << 16 | g << 8 | b


def hex_colour(colour: RGB) -> str:
    return "0x{:02X}{:02X}{:02X}".format(*colour)


def distance(a: RGB, b: RGB) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def nearest(colour: RGB, palette: dict[str, RGB]) -> str:
    return min(palette, key=lambda name: distance(colour, palette[name]))


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    rgba: bytes

    def at(self, x: int, y: int, radius: int = 3) -> RGB:
        """The mean colour of a small square around (x, y)."""
        total = [0, 0, 0]
        count = 0
        for yy in range(max(y - radius, 0), min(y + radius + 1, self.height)):
            for xx in range(max(x - radius, 0), min(x + radius + 1, self.width)):
                offset = (yy * self.width + xx) * 4
                for i in range(3):
                    total[i] += self.rgba[offset + i]
                count += 1
        return (total[0] // count, total[1] // count, total[2] // count)

    def scaled(self, x: int, y: int, canvas: tuple[int, int]) -> RGB:
        """The colour at (x, y) of a canvas of size `canvas`, in this picture's size."""
        return self.at(x * self.width // canvas[0], y * self.height // canvas[1])


def picture_from_sample(sample: Any) -> Picture:
    structure = sample.get_caps().get_structure(0)
    width, height = structure.get_value("width"), structure.get_value("height")
    buffer = sample.get_buffer()
    ok, info = buffer.map(Gst().MapFlags.READ)
    try:
        data = bytes(info.data)
    finally:
        buffer.unmap(info)
    return Picture(width, height, data[: width * height * 4])


def rgba_sink(name: str = "probe") -> tuple[list[Any], Any]:
    """Elements converting raw video to RGBA into an appsink that keeps the newest frame."""
    convert = make("videoconvert")
    capsfilter = make("capsfilter", caps=caps("video/x-raw,format=RGBA"))
    sink = make("appsink", name, max_buffers=1, drop=True, sync=False, emit_signals=False)
    return [convert, capsfilter, sink], sink


def pull_picture(sink: Any, timeout: float = 10.0) -> Picture:
    sample = sink.emit("try-pull-sample", int(timeout * 1e9))
    if sample is None:
        raise TimeoutError(f"no picture within {timeout}s")
    return picture_from_sample(sample)


def fresh_picture(sink: Any, settle: float = 0.5, timeout: float = 10.0) -> Picture:
    """A frame made at least `settle` seconds from now (after a layout change)."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        sink.emit("try-pull-sample", int(0.1 * 1e9))
    return pull_picture(sink, timeout)


def png_picture(path: str) -> Picture:
    """Decode a PNG (baresip's snapshots) with GStreamer."""
    pipeline = Gst().parse_launch(
        f'filesrc location="{path}" ! pngdec ! videoconvert ! video/x-raw,format=RGBA '
        "! appsink name=out sync=false")
    sink = pipeline.get_by_name("out")
    pipeline.set_state(Gst().State.PLAYING)
    try:
        return pull_picture(sink, 5)
    finally:
        pipeline.set_state(Gst().State.NULL)


# ----------------------------------------------------------------------------- sound


def tone_power(samples: bytes, rate: int, hz: float) -> float:
    """Power at `hz` (Goertzel) relative to the total power of 16-bit mono samples:
    about 0.5 for a pure tone, near 0 when it is absent."""
    count = len(samples) // 2
    if count == 0:
        return 0.0
    values = struct.unpack(f"<{count}h", samples[: count * 2])
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for v in values:
        s0 = v + k * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    total = sum(v * v for v in values) or 1
    return power / (total * count / 2)


def rms(samples: bytes) -> float:
    count = len(samples) // 2
    if count == 0:
        return 0.0
    values = struct.unpack(f"<{count}h", samples[: count * 2])
    return math.sqrt(sum(v * v for v in values) / count)


class SoundTap:
    """An appsink that keeps the last `seconds` of S16LE mono sound at `rate`."""

    def __init__(self, rate: int = 16000, seconds: float = 2.0) -> None:
        self.rate = rate
        self.keep = int(rate * seconds) * 2
        self._data = bytearray()
        self._lock = threading.Lock()
        self.elements = [make("audioconvert"), make("audioresample"),
                         make("capsfilter", caps=caps(
                             f"audio/x-raw,format=S16LE,channels=1,rate={rate}"))]
        self.sink = make("appsink", emit_signals=True, sync=False)
        self.sink.connect("new-sample", self._sample)
        self.elements.append(self.sink)

    def _sample(self, sink: Any) -> Any:
        sample = sink.emit("pull-sample")
        buffer = sample.get_buffer()
        ok, info = buffer.map(Gst().MapFlags.READ)
        try:
            with self._lock:
                self._data += bytes(info.data)
                del self._data[: max(len(self._data) - self.keep, 0)]
        finally:
            buffer.unmap(info)
        return Gst().FlowReturn.OK

    def recent(self, seconds: float = 0.5) -> bytes:
        with self._lock:
            return bytes(self._data[-int(self.rate * seconds) * 2:])

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def link_chain(pipeline: Any, elements: Iterable[Any]) -> list[Any]:
    chain = list(elements)
    for element in chain:
        pipeline.add(element)
    link_many(*chain)
    for element in chain:
        element.sync_state_with_parent()
    return chain
