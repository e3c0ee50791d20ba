"""Layout arithmetic (ĐN Đ12.2b / KH Đ14.3b: the host adjusts the displayed layout)."""

from __future__ import annotations

import pytest

from diemcau.mixer.layout import Layout, Tile, arrange, grid_size, main_input


@pytest.mark.parametrize(("count", "side"), [(0, 1), (1, 1), (2, 2), (4, 2), (5, 3), (9, 3),
                                             (10, 4), (16, 4), (20, 4)])
def test_the_automatic_grid_grows_with_the_inputs(count: int, side: int):
    assert grid_size(count) == side


def covered(tiles: dict[str, Tile]) -> int:
    return sum(t.width * t.height for t in tiles.values())


def overlap(a: Tile, b: Tile) -> bool:
    return not (a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y
                or b.y + b.height <= a.y)


@pytest.mark.parametrize("count", [1, 4, 9, 16])
def test_full_grids_cover_the_canvas_without_overlap(count: int):
    keys = [f"k{i}" for i in range(count)]
    tiles = arrange(Layout.GRID, keys, None, 1280, 720)
    assert list(tiles) == keys
    assert covered(tiles) == 1280 * 720
    values = list(tiles.values())
    assert not any(overlap(a, b) for i, a in enumerate(values) for b in values[i + 1:])
    assert all(t.x % 2 == 0 and t.y % 2 == 0 and t.width % 2 == 0 for t in values)


def test_more_than_sixteen_inputs_show_the_first_sixteen():
    keys = list(range(20))
    assert list(arrange(Layout.GRID, keys, None, 1280, 720)) == keys[:16]


def test_speaker_layout_puts_the_main_input_large_and_the_others_around_it():
    tiles = arrange(Layout.SPEAKER, ["a", "b", "c", "d"], "c", 1200, 720)
    assert tiles["c"] == Tile(0, 0, 800, 480)
    assert [tiles[k] for k in ("a", "b", "d")] == [
        Tile(800, 0, 400, 240), Tile(800, 240, 400, 240), Tile(0, 480, 400, 240)]
    # more than five others: a 4×4 grid with the main input on 3×3 cells
    many = arrange(Layout.SPEAKER, list("abcdefgh"), "a", 1280, 720)
    assert many["a"] == Tile(0, 0, 960, 540) and len(many) == 8


def test_single_shows_only_the_main_input():
    assert arrange(Layout.SINGLE, ["a", "b"], "b", 640, 360) == {"b": Tile(0, 0, 640, 360)}
    assert arrange(Layout.SINGLE, ["a", "b"], "gone", 640, 360) == {"a": Tile(0, 0, 640, 360)}


def test_the_main_input_is_the_hosts_choice_then_the_speaker_then_the_first():
    assert main_input(["a", "b", "c"], "b", "c") == "b"
    assert main_input(["a", "b", "c"], None, "c") == "c"
    assert main_input(["a", "b", "c"], "left", None) == "a"
    assert main_input([], None, None) is None
