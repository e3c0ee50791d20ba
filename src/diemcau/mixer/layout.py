"""Where each input goes in the composed picture: pure arithmetic, no GStreamer.

ĐN Đ12.2b / KH Đ14.3b: the host adjusts the displayed layout ("điều chỉnh khung hình hiển
thị"). Three layouts:

- `grid`: 1, 2×2, 3×3 or 4×4 cells chosen by how many inputs are shown (at most 16);
- `speaker`: the main input large (2×2 cells of a 3×3 grid, or 3×3 of a 4×4 when more than
  five others) and the others in the remaining cells along the right and the bottom;
- `single`: only the main input, full picture.

Every cell keeps the canvas's aspect ratio, so a 16:9 input fills it. The main input is the
host's choice when there is one, else the active speaker, else the first input.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

MAX_TILES = 16


class Layout(StrEnum):
    GRID = "grid"
    SPEAKER = "speaker"
    SINGLE = "single"


@dataclass(frozen=True)
class Tile:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def grid_size(count: int) -> int:
    """Cells per side of the automatic grid: 1, 2, 3 or 4."""
    for side in (1, 2, 3, 4):
        if count <= side * side:
            return side
    return 4


def _cell(col: int, row: int, side: int, width: int, height: int, span: int = 1) -> Tile:
    # Integer edges computed from the canvas, so neighbouring tiles never overlap or leave a
    # one-pixel gap; even numbers keep I420 chroma aligned.
    x0, x1 = (width * col // side) & ~1, (width * (col + span) // side) & ~1
    y0, y1 = (height * row // side) & ~1, (height * (row + span) // side) & ~1
    return Tile(x0, y0, x1 - x0, y1 - y0)


def main_input(order: Sequence[K], chosen: K | None, speaker: K | None) -> K | None:
    """The host's choice, else the active speaker, else the first input."""
    for candidate in (chosen, speaker):
        if candidate is not None and candidate in order:
            return candidate
    return order[0] if order else None


def arrange(layout: Layout, order: Sequence[K], main: K | None, width: int,
            height: int) -> dict[K, Tile]:
    """Tiles of the inputs shown, by key; inputs not shown are absent. `order` is the
    display order (e.g. joining order); `main` must be one of them or None."""
    if not order:
        return {}
    if main is None or main not in order:
        main = order[0]
    if layout is Layout.SINGLE:
        return {main: Tile(0, 0, width & ~1, height & ~1)}
    if layout is Layout.SPEAKER and len(order) > 1:
        others = [key for key in order if key != main]
        side = 3 if len(others) <= 5 else 4
        big = side - 1
        tiles = {main: _cell(0, 0, side, width, height, span=big)}
        # the right column top to bottom, then the bottom row left to right
        cells = [(big, row) for row in range(big)] + [(col, big) for col in range(side)]
        for key, (col, row) in zip(others, cells, strict=False):
            tiles[key] = _cell(col, row, side, width, height)
        return tiles
    shown = list(order[:MAX_TILES])
    side = grid_size(len(shown))
    return {key: _cell(i % side, i // side, side, width, height) for i, key in enumerate(shown)}
