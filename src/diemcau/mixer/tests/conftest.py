"""Fixtures of the mixer's tests. Tests that need GStreamer skip, naming what is missing,
unless it is all installed (CI installs it: .ci/run)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def require_gstreamer(*elements: str) -> None:
    from diemcau.mixer.gst import unavailable_reason

    reason = unavailable_reason(elements or None)
    if reason:
        pytest.skip(f"mixer: {reason}")


@pytest.fixture
def gst_loop() -> Iterator[Any]:
    """The GLib main loop thread every pipeline change runs on."""
    require_gstreamer()
    from diemcau.mixer.gst import MainLoop

    loop = MainLoop()
    try:
        yield loop
    finally:
        loop.stop()
