"""Frame numbers carried in pictures, for glass-to-glass delays (bench/mixer.py).

The layout is the aiortc endpoint's (`media.testing.endpoint`: NUMBER_BITS black or white
blocks across the middle of the picture). A baresip terminal draws the same blocks with
ffmpeg's `geq` filter in its lavfi source; a number is read back from a decoded picture, or
from one input's tile of a composed picture.
"""

from __future__ import annotations

from diemcau.media.testing.endpoint import NUMBER_BITS, number_block_centres, yuv

from .frames import RGB, Picture

# baresip 1.0 keeps a video source's device string in 128 bytes: the graph must be short.
DEVICE_LIMIT = 127


def lavfi_numbered(colour: RGB, width: int, height: int, fps: int) -> str:
    """A lavfi graph: one colour, with frame N's number drawn as full-height blocks (geq's
    N, bitand) across the middle; the colour stays at the left and right edges."""
    y, u, v = yuv(colour)
    block = width // 16
    left, right = width // 8, width // 8 + NUMBER_BITS * block - 1
    lum = (f"if(between(X,{left},{right}),16+219*gt(bitand(N,pow(2,floor(X/{block})-2)),0),"
           f"{y})")
    graph = (f"color=0x{colour[0]:02X}{colour[1]:02X}{colour[2]:02X}:{width}x{height}:{fps},"
             f"geq='{lum}':{u}:{v}")
    if len(graph) > DEVICE_LIMIT:
        raise ValueError(f"the numbered source is too long for baresip: {graph}")
    return graph


def read_number(picture: Picture, x: int = 0, y: int = 0, width: int | None = None,
                height: int | None = None) -> int:
    """The number in the region (x, y, width, height) of a picture (the whole picture by
    default), in the picture's own pixels."""
    width = picture.width if width is None else width
    height = picture.height if height is None else height
    value = 0
    for bit, (cx, cy) in enumerate(number_block_centres(width, height)):
        r, g, b = picture.at(x + cx, y + cy, radius=1)
        if (r + g + b) / 3 > 128:
            value |= 1 << bit
    return value


def modulo_distance(a: int, b: int) -> int:
    span = 1 << NUMBER_BITS
    return min((a - b) % span, (b - a) % span)
