"""A terminal seen and heard in the room: what its leg receives, published as a VideoRoom
remote publisher (plain RTP to a port Janus opened on 127.0.0.1).

The room's codecs are Opus and VP8 (the browsers'): a VP8 or Opus stream is only
re-packetised with the SSRC Janus expects (no decoding); H.264 and G.711/G.722 are decoded
and encoded again:

    webrtcbin src (VP8)  → rtpvp8depay → rtpvp8pay ssrc=1010 → udpsink
    webrtcbin src (H264) → depay → parse → avdec_h264 → vp8enc → rtpvp8pay → udpsink
    webrtcbin src (PCMU) → depay → mulawdec → opusenc → rtpopuspay ssrc=1000 → udpsink

Janus asks for keyframes through RTCP (`rtcp.RemotePublisherFeedback`): the VP8 encoder
makes one, or, when re-packetising, the request goes up to the terminal as a PLI.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from . import codecs
from .gst import Gst, MainLoop, add_chain, caps, make
from .roomapi import LOCAL_HOST, RoomApi
from .rtcp import RemotePublisherFeedback
from .webrtc import Received

log = logging.getLogger(__name__)

AUDIO_SSRC = 1000  # Janus: REMOTE_PUBLISHER_BASE_SSRC + mindex × 10
VIDEO_SSRC = 1010
ROOM_VIDEO_KBPS = 600
ROOM_VIDEO_SIZE = (640, 360)


def _force_key_unit() -> Any:
    Gst()
    from gi.repository import GstVideo

    return GstVideo.video_event_new_upstream_force_key_unit(Gst().CLOCK_TIME_NONE, True, 0)


@dataclass
class RoomPublisher:
    pipeline: Any
    loop: MainLoop
    api: RoomApi
    feed: int
    display: str
    port: int = 0
    feedback: RemotePublisherFeedback | None = None
    chains: dict[str, list[Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Create the remote publisher (blocking: call from a worker thread)."""
        self.port, rtcp_port = self.api.add_remote_publisher(self.feed, self.display)
        self.feedback = RemotePublisherFeedback(LOCAL_HOST, rtcp_port, self._keyframe)

    def link(self, received: Received) -> None:
        """Publish one stream the leg receives (from webrtcbin's pad-added)."""
        with self._lock:
            self._link(received)

    def _link(self, received: Received) -> None:
        if received.kind in self.chains or not self.port:
            self._discard(received)
            return
        name = received.encoding
        if received.kind == "video":
            if name == "VP8":
                chain = [make("rtpvp8depay"), codecs.video_payloader(codecs.VP8, VIDEO_SSRC)]
            else:
                width, height = ROOM_VIDEO_SIZE
                # Late pictures are dropped after decoding (never RTP packets before it:
                # a lost packet costs every picture until the next keyframe).
                late = make("queue", max_size_buffers=2, max_size_time=0, max_size_bytes=0,
                            leaky="downstream")
                chain = [*codecs.decoder(name), late, make("videoconvert"), make("videoscale"),
                         make("capsfilter", caps=caps(
                             f"video/x-raw,width={width},height={height},"
                             "pixel-aspect-ratio=1/1")),
                         make("vp8enc", deadline=1, cpu_used=8, threads=2, end_usage="cbr",
                              target_bitrate=ROOM_VIDEO_KBPS * 1000, keyframe_max_dist=100,
                              lag_in_frames=0, error_resilient="default"),
                         codecs.video_payloader(codecs.VP8, VIDEO_SSRC)]
        else:
            if name == "OPUS":
                chain = [make("rtpopusdepay"), make("rtpopuspay", pt=111, ssrc=AUDIO_SSRC)]
            else:
                chain = [*codecs.decoder(name),
                         *codecs.audio_encoder(codecs.OPUS, AUDIO_SSRC)]
        sink = make("udpsink", host=LOCAL_HOST, port=self.port, sync=False, async_=False)
        # A thread of its own for the stream, not leaky: RTP is only ever dropped by the
        # network, not here.
        queue = make("queue", max_size_time=1_000_000_000, max_size_buffers=0,
                     max_size_bytes=0)
        chain = [queue, *chain, sink]
        add_chain(self.pipeline, *chain)
        received.pad.link(queue.get_static_pad("sink"))
        self.chains[received.kind] = chain

    def _discard(self, received: Received) -> None:
        sink = make("fakesink", sync=False, async_=False)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        received.pad.link(sink.get_static_pad("sink"))
        self.chains.setdefault(f"discard-{received.kind}-{id(sink)}", [sink])

    def _keyframe(self) -> None:
        chain = self.chains.get("video")
        if chain is None:
            return
        # Upstream from the payloader: to vp8enc (transcoding) or, through the depayloader,
        # to webrtcbin, which sends the terminal a PLI.
        self.loop.soon(lambda: chain[-2].get_static_pad("src").send_event(_force_key_unit()))

    def stop(self) -> None:
        """Remove the publisher from the room and its chains from the pipeline."""
        if self.feedback is not None:
            self.feedback.close()
        if self.port:
            try:
                self.api.remove_remote_publisher(self.feed)
            except Exception as exc:  # the room may be gone already
                log.info("remote publisher %s: %s", self.feed, exc)
            self.port = 0

        def remove() -> None:
            with self._lock:
                self._remove()

        self.loop.call(remove)

    def _remove(self) -> None:
        for chain in self.chains.values():
            for element in chain:
                element.set_state(Gst().State.NULL)
            for element in chain:
                if element.get_parent() is not None:
                    self.pipeline.remove(element)
        self.chains.clear()
