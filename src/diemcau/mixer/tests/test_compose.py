"""The composed picture from four live solid-colour inputs: each colour at the centre of its
tile; layout, main input, labels and inputs change while the pipeline runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from diemcau.mixer.gst import Gst, caps, make
from diemcau.mixer.layout import Layout
from diemcau.mixer.testing import frames
from diemcau.mixer.video import H264, VP8, Canvas, VideoMixer

COLOURS = {"a": frames.RED, "b": frames.GREEN, "c": frames.BLUE, "d": frames.YELLOW}
CANVAS = Canvas(640, 360, 25)


@pytest.fixture
def composed(gst_loop: Any) -> Iterator[tuple[VideoMixer, Any, Any]]:
    gst = Gst()
    pipeline = gst.Pipeline.new("compose-test")
    mixer = VideoMixer(pipeline, CANVAS)

    def build() -> Any:
        for key, colour in COLOURS.items():
            add_input(pipeline, mixer, key, colour)
        elements, sink = frames.rgba_sink()
        queue = make("queue")
        frames.link_chain(pipeline, [queue, *elements])
        mixer.composed.request_pad_simple("src_%u").link(queue.get_static_pad("sink"))
        return sink

    sink = gst_loop.call(build)
    pipeline.set_state(gst.State.PLAYING)
    try:
        yield mixer, sink, pipeline
    finally:
        pipeline.set_state(gst.State.NULL)


def add_input(pipeline: Any, mixer: VideoMixer, key: str, colour: frames.RGB) -> None:
    # 16:9 inputs fill their tiles (4:3 ones would get side borders)
    source = make("videotestsrc", is_live=True, pattern="solid-color",
                  foreground_color=frames.argb(colour))
    size = make("capsfilter", caps=caps("video/x-raw,width=320,height=180,framerate=15/1"))
    pipeline.add(source)
    pipeline.add(size)
    source.link(size)
    mixer.add_input(key, size.get_static_pad("src"), label=f"Điểm cầu {key}",
                    owned=[source, size])


def tile_colours(mixer: VideoMixer, picture: frames.Picture) -> dict[str, str]:
    return {str(key): frames.nearest(picture.at(*tile.centre), COLOURS)
            for key, tile in mixer.tiles().items()}


def test_four_inputs_fill_a_two_by_two_grid(composed):
    mixer, sink, _ = composed
    picture = frames.fresh_picture(sink)
    assert (picture.width, picture.height) == (640, 360)
    assert tile_colours(mixer, picture) == {"a": "a", "b": "b", "c": "c", "d": "d"}
    for key, tile in mixer.tiles().items():
        assert frames.distance(picture.at(*tile.centre), COLOURS[str(key)]) < 40
    # the grid: a top-left, d bottom-right
    assert frames.nearest(picture.at(160, 90), COLOURS) == "a"
    assert frames.nearest(picture.at(480, 270), COLOURS) == "d"


def test_a_layout_change_moves_the_colours_without_a_restart(composed, gst_loop):
    mixer, sink, _ = composed
    gst_loop.call(mixer.set_layout, Layout.SPEAKER, "c")
    picture = frames.fresh_picture(sink)
    assert frames.nearest(picture.at(213, 120), COLOURS) == "c"  # large, top-left
    assert tile_colours(mixer, picture) == {"a": "a", "b": "b", "c": "c", "d": "d"}

    gst_loop.call(mixer.set_layout, Layout.SINGLE, "d")
    picture = frames.fresh_picture(sink)
    assert {frames.nearest(picture.at(x, y), COLOURS)
            for x, y in ((40, 40), (320, 180), (600, 320))} == {"d"}

    # following the active speaker when the host chose no main input
    gst_loop.call(mixer.set_layout, Layout.SINGLE, None)
    gst_loop.call(mixer.set_speaker, "b")
    assert frames.nearest(frames.fresh_picture(sink).at(320, 180), COLOURS) == "b"


def test_inputs_come_and_go_and_labels_change_while_running(composed, gst_loop):
    mixer, sink, pipeline = composed
    gst_loop.call(mixer.remove_input, "a")
    picture = frames.fresh_picture(sink)
    assert tile_colours(mixer, picture) == {"b": "b", "c": "c", "d": "d"}
    assert frames.nearest(picture.at(160, 90), COLOURS) == "b"  # b moved up to a's tile

    gst_loop.call(add_input, pipeline, mixer, "a", frames.RED)
    gst_loop.call(mixer.set_label, "a", "UBND.Khanh Hoa")
    picture = frames.fresh_picture(sink, settle=1.0)
    assert tile_colours(mixer, picture) == {"a": "a", "b": "b", "c": "c", "d": "d"}
    # the label is drawn at the bottom-left of a's tile (bottom-right quarter now)
    tile = mixer.tiles()["a"]
    label = picture.at(tile.x + 16, tile.y + tile.height - 16, radius=5)
    assert frames.distance(label, frames.RED) > 60


def test_one_encoder_per_codec_is_shared_and_released(composed, gst_loop):
    mixer, sink, _ = composed
    first = gst_loop.call(mixer.encoder, H264)
    second = gst_loop.call(mixer.encoder, H264)
    vp8 = gst_loop.call(mixer.encoder, VP8)
    assert first is second and vp8 is not first
    assert mixer.encoders[H264].users == 2
    gst_loop.call(mixer.release_encoder, H264)
    assert H264 in mixer.encoders
    gst_loop.call(mixer.release_encoder, H264)
    gst_loop.call(mixer.release_encoder, VP8)
    assert mixer.encoders == {}
    assert tile_colours(mixer, frames.fresh_picture(sink))["d"] == "d"  # still running


def test_a_layout_changed_while_the_inputs_start_keeps_the_mixer_running(gst_loop):
    """A layout change while the inputs still negotiate their first pictures (the host picks
    a layout as terminals join) once stopped the whole pipeline with not-negotiated in about
    one start in four; ten starts in a row make that visible."""
    gst = Gst()
    for _ in range(10):
        pipeline = gst.Pipeline.new("compose-start")
        mixer = VideoMixer(pipeline, CANVAS)

        def build(pipeline: Any = pipeline, mixer: VideoMixer = mixer) -> Any:
            for key, colour in COLOURS.items():
                add_input(pipeline, mixer, key, colour)
            elements, sink = frames.rgba_sink()
            queue = make("queue")
            frames.link_chain(pipeline, [queue, *elements])
            mixer.composed.request_pad_simple("src_%u").link(queue.get_static_pad("sink"))
            return sink

        sink = gst_loop.call(build)
        pipeline.set_state(gst.State.PLAYING)
        try:
            gst_loop.call(mixer.set_layout, Layout.SPEAKER, "c")
            picture = frames.fresh_picture(sink)
            assert frames.nearest(picture.at(213, 120), COLOURS) == "c"
            error = pipeline.get_bus().pop_filtered(gst.MessageType.ERROR)
            assert error is None, error.parse_error()
        finally:
            pipeline.set_state(gst.State.NULL)
