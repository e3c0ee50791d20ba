"""GStreamer through PyGObject: loading it, checking the elements the mixer needs, and the one
GLib main loop thread that owns every pipeline change.

Frames and samples never pass through Python: Python builds pipelines, sets properties and
reads bus messages (levels, errors, statistics); GStreamer's own threads move the media.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

# What each part of the mixer needs, by Debian package (GStreamer 1.22 in bookworm).
ELEMENTS: dict[str, tuple[str, ...]] = {
    "gstreamer1.0-plugins-base": ("videotestsrc", "audiotestsrc", "videoconvert", "videoscale",
                                  "compositor", "audiomixer", "audioconvert", "audioresample",
                                  "textoverlay", "opusenc", "opusdec", "appsink", "appsrc",
                                  "videorate"),
    "gstreamer1.0-plugins-good": ("udpsrc", "udpsink", "rtpjitterbuffer", "rtpvp8depay",
                                  "rtpvp8pay", "rtph264depay", "rtph264pay", "rtpopusdepay",
                                  "rtpopuspay", "rtppcmupay", "rtppcmudepay", "rtppcmapay",
                                  "rtppcmadepay", "rtpg722pay", "rtpg722depay", "vp8enc",
                                  "vp8dec", "level", "mulawenc", "mulawdec", "alawenc",
                                  "alawdec", "rtpbin", "capssetter", "pngdec"),
    "gstreamer1.0-plugins-bad": ("webrtcbin", "h264parse"),
    "gstreamer1.0-plugins-ugly": ("x264enc",),
    "gstreamer1.0-libav": ("avdec_h264", "avenc_g722", "avdec_g722"),
    "gstreamer1.0-nice": ("nicesrc", "nicesink"),
}

_lock = threading.Lock()
_gst: Any = None


def _load() -> Any:
    global _gst
    with _lock:
        if _gst is None:
            import gi

            gi.require_version("Gst", "1.0")
            gi.require_version("GstWebRTC", "1.0")
            gi.require_version("GstSdp", "1.0")
            gi.require_version("GstVideo", "1.0")
            from gi.repository import Gst

            Gst.init(None)
            _gst = Gst
    return _gst


def unavailable_reason(elements: Iterable[str] | None = None) -> str:
    """Why the mixer cannot run here ("" when it can): PyGObject or a GStreamer plugin."""
    try:
        gst = _load()
    except (ImportError, ValueError) as exc:
        return (f"PyGObject with GStreamer 1.x typelibs is missing ({exc}): "
                "pip install PyGObject==3.50.2; apt-get install gir1.2-gst-plugins-bad-1.0")
    wanted = set(elements) if elements is not None else None
    missing: dict[str, list[str]] = {}
    for package, names in ELEMENTS.items():
        for name in names:
            if (wanted is None or name in wanted) and gst.ElementFactory.find(name) is None:
                missing.setdefault(package, []).append(name)
    if missing:
        parts = "; ".join(f"{pkg}: {', '.join(names)}" for pkg, names in missing.items())
        return f"GStreamer elements missing ({parts}): apt-get install {' '.join(missing)}"
    return ""


def Gst() -> Any:  # noqa: N802 - reads like the module it returns
    """The initialised `gi.repository.Gst` module."""
    return _load()


def make(factory: str, name: str | None = None, **properties: Any) -> Any:
    """A new element with properties (underscores in names become dashes; a trailing one is
    dropped: `async_` is `async`)."""
    element = Gst().ElementFactory.make(factory, name)
    if element is None:
        raise RuntimeError(f"GStreamer element {factory!r} is not installed")
    for key, value in properties.items():
        element.set_property(key.rstrip("_").replace("_", "-"), value)
    return element


def link_many(*elements: Any) -> None:
    """Link elements in a row (PyGObject without gst-python's overrides has no link_many)."""
    for upstream, downstream in zip(elements, elements[1:], strict=False):
        if not upstream.link(downstream):
            raise RuntimeError(f"cannot link {upstream.get_name()} to {downstream.get_name()}")


def add_chain(bin_: Any, *elements: Any, start: bool = True) -> None:
    """Add elements to a bin, link them in a row and (unless start=False) bring them to the
    bin's state, the most downstream first so nothing pushes into a pad not yet ready."""
    for element in elements:
        bin_.add(element)
    link_many(*elements)
    if start:
        start_chain(*elements)


def start_chain(*elements: Any) -> None:
    for element in reversed(elements):
        element.sync_state_with_parent()


def caps(text: str) -> Any:
    return Gst().Caps.from_string(text)


class MainLoop:
    """One GLib main loop in a daemon thread. Pipeline changes run on it (`call`), so they
    never race each other; bus watches and timers are attached to its context."""

    def __init__(self, name: str = "mixer-loop") -> None:
        from gi.repository import GLib

        Gst()
        self._glib = GLib
        self.context = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.context, False)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait(5)

    def _run(self) -> None:
        self.context.push_thread_default()
        self._started.set()
        try:
            self.loop.run()
        finally:
            self.context.pop_thread_default()

    @property
    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) on the loop, without waiting."""
        def once() -> bool:
            fn(*args)
            return False

        source = self._glib.idle_source_new()
        source.set_callback(lambda *_: once())
        source.attach(self.context)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run fn(*args) on the loop and return its result (or raise its exception)."""
        if self.in_loop:
            return fn(*args)
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = exc
            finally:
                done.set()

        self.soon(run)
        if not done.wait(timeout):
            raise TimeoutError(f"{getattr(fn, '__name__', fn)} did not finish in {timeout}s")
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    def every(self, seconds: float, fn: Callable[[], bool]) -> Any:
        """Call fn on the loop every `seconds` while it returns True; returns the source."""
        source = self._glib.timeout_source_new(int(seconds * 1000))
        source.set_callback(lambda *_: fn())
        source.attach(self.context)
        return source

    def stop(self) -> None:
        if self.loop.is_running():
            self.soon(self.loop.quit)
        if not self.in_loop:
            self._thread.join(timeout=5)
