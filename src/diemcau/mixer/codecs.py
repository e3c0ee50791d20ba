"""Codecs the mixer speaks with terminals (R24): H.264 constrained baseline with
packetization-mode 1 and VP8 for video; Opus, G.722 and G.711 (PCMU, PCMA) for sound.
Payloaders for what the mixer sends, depayloaders and decoders for what it receives.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .gst import caps, make

H264 = "H264"
VP8 = "VP8"
OPUS = "OPUS"
G722 = "G722"
PCMU = "PCMU"
PCMA = "PCMA"
VIDEO_CODECS = (H264, VP8)
AUDIO_CODECS = (OPUS, G722, PCMU, PCMA)
# What the mixer prefers when a terminal offers several (dial-in).
VIDEO_PREFERENCE = (H264, VP8)
AUDIO_PREFERENCE = (OPUS, G722, PCMU, PCMA)


@dataclass(frozen=True)
class LegCodecs:
    """What one leg sends and receives: a terminal's registered codecs (R2, R24)."""

    video: str = H264
    audio: str = PCMU

    def __post_init__(self) -> None:
        if self.video not in VIDEO_CODECS:
            raise ValueError(f"video codec {self.video!r} is not one of {VIDEO_CODECS}")
        if self.audio not in AUDIO_CODECS:
            raise ValueError(f"audio codec {self.audio!r} is not one of {AUDIO_CODECS}")


PAYLOAD_TYPES = {VP8: 96, H264: 97, OPUS: 111, G722: 9, PCMU: 0, PCMA: 8}
CLOCK_RATES = {VP8: 90000, H264: 90000, OPUS: 48000, G722: 8000, PCMU: 8000, PCMA: 8000}
ENCODING_NAMES = {VP8: "VP8", H264: "H264", OPUS: "OPUS", G722: "G722", PCMU: "PCMU",
                  PCMA: "PCMA"}


def random_ssrc() -> int:
    return secrets.randbelow(2**31 - 1) + 1


def video_payloader(codec: str, ssrc: int, pt: int | None = None) -> Any:
    pt = PAYLOAD_TYPES[codec] if pt is None else pt
    if codec == H264:
        # packetization-mode 1 (FU-A, STAP-A); SPS/PPS before every keyframe, so a terminal
        # that joins late or lost packets decodes from the next keyframe.
        return make("rtph264pay", pt=pt, ssrc=ssrc, config_interval=-1,
                    aggregate_mode="zero-latency", mtu=1200)
    if codec == VP8:
        return make("rtpvp8pay", pt=pt, ssrc=ssrc, picture_id_mode="15-bit", mtu=1200)
    raise ValueError(codec)


def audio_encoder(codec: str, ssrc: int, pt: int | None = None) -> list[Any]:
    """Raw audio in, RTP out."""
    pt = PAYLOAD_TYPES[codec] if pt is None else pt
    convert = [make("audioconvert"), make("audioresample")]
    if codec == OPUS:
        return [*convert, make("capsfilter", caps=caps("audio/x-raw,rate=48000,channels=1")),
                make("opusenc", bitrate=32000, frame_size=20),
                make("rtpopuspay", pt=pt, ssrc=ssrc)]
    if codec == G722:
        return [*convert, make("capsfilter", caps=caps("audio/x-raw,rate=16000,channels=1")),
                make("avenc_g722"), make("rtpg722pay", pt=pt, ssrc=ssrc)]
    if codec in (PCMU, PCMA):
        encoder, payloader = (("mulawenc", "rtppcmupay") if codec == PCMU
                              else ("alawenc", "rtppcmapay"))
        return [*convert, make("capsfilter", caps=caps("audio/x-raw,rate=8000,channels=1")),
                make(encoder), make(payloader, pt=pt, ssrc=ssrc, min_ptime=20_000_000,
                                    max_ptime=20_000_000)]
    raise ValueError(codec)


def decoder(encoding: str) -> list[Any]:
    """RTP of `encoding` in, raw media out."""
    name = encoding.upper()
    if name == "VP8":
        return [make("rtpvp8depay", request_keyframe=True, wait_for_keyframe=True),
                make("vp8dec", threads=2)]
    if name == "H264":
        return [make("rtph264depay", request_keyframe=True, wait_for_keyframe=True),
                make("h264parse"), make("avdec_h264", max_threads=2)]
    if name == "OPUS":
        return [make("rtpopusdepay"), make("opusdec", plc=True)]
    if name == "G722":
        return [make("rtpg722depay"), make("avdec_g722")]
    if name == "PCMU":
        return [make("rtppcmudepay"), make("mulawdec")]
    if name == "PCMA":
        return [make("rtppcmadepay"), make("alawdec")]
    raise ValueError(f"cannot decode {encoding!r}")


def rtp_caps(codec: str, pt: int | None = None) -> str:
    """Caps of an RTP stream of `codec` arriving on a plain UDP socket."""
    pt = PAYLOAD_TYPES[codec] if pt is None else pt
    kind = "video" if codec in VIDEO_CODECS else "audio"
    text = (f"application/x-rtp,media={kind},encoding-name={ENCODING_NAMES[codec]},"
            f"clock-rate={CLOCK_RATES[codec]},payload={pt}")
    if codec == OPUS:
        text += ",encoding-params=(string)2"
    return text
