"""The few RTCP packets the mixer exchanges with Janus outside GStreamer's RTP sessions:
keyframe requests, a handful every few seconds (never media).

- `send_pli`: an input's decoder needs a keyframe: a PLI to the `local_rtcp_port` Janus
  opened for that `rtp_forward`, which Janus relays to the publisher.
- `RemotePublisherFeedback`: a VideoRoom remote publisher (a terminal published into the
  room) sends Janus's keyframe requests to the address it last heard RTCP from: this socket
  keeps telling it (an empty receiver report every few seconds) and calls back on PLI/FIR.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

RTCP_RR = 201
RTCP_PSFB = 206
FMT_PLI = 1
FMT_FIR = 4
OWN_SSRC = 0x6D697872  # "mixr": the sender of our RTCP


def pli(media_ssrc: int, sender_ssrc: int = OWN_SSRC) -> bytes:
    return struct.pack("!BBHII", 0x80 | FMT_PLI, RTCP_PSFB, 2, sender_ssrc, media_ssrc)


def empty_receiver_report(sender_ssrc: int = OWN_SSRC) -> bytes:
    return struct.pack("!BBHI", 0x80, RTCP_RR, 1, sender_ssrc)


def asks_keyframe(packet: bytes) -> bool:
    """Whether a (compound) RTCP packet holds a PLI or a FIR."""
    offset = 0
    while offset + 4 <= len(packet):
        first, kind, length = struct.unpack_from("!BBH", packet, offset)
        if first >> 6 != 2:
            return False
        if kind == RTCP_PSFB and first & 0x1F in (FMT_PLI, FMT_FIR):
            return True
        offset += (length + 1) * 4
    return False


def send_pli(host: str, port: int, media_ssrc: int = 0) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(pli(media_ssrc), (host, port))


class RemotePublisherFeedback:
    def __init__(self, janus_host: str, rtcp_port: int, on_keyframe: Callable[[], None],
                 interval: float = 3.0) -> None:
        self.target = (janus_host, rtcp_port)
        self.on_keyframe = on_keyframe
        self.interval = interval
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1" if janus_host.startswith("127.") else "0.0.0.0", 0))
        self.sock.settimeout(interval)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtcp-feedback", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(OSError):
                self.sock.sendto(empty_receiver_report(), self.target)
            try:
                packet, _ = self.sock.recvfrom(1500)
            except TimeoutError:
                continue
            except OSError:
                return
            if asks_keyframe(packet):
                log.debug("keyframe asked by %s", self.target)
                try:
                    self.on_keyframe()
                except Exception:  # a callback's bug must not end the thread
                    log.exception("keyframe request handler failed")

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self.sock.close()
