"""A meeting recorded with real media and archived (R19): two aiortc endpoints, each sending
its own colour and tone, publish through a real Janus; the host's technician starts the
recording, mutes the host, gives the commune the floor, stops; the meeting ends and the
worker makes the MP4. ffprobe checks its streams, size and duration; decoded frames show
each endpoint's colour in its tile; the sound is the host's tone, then silence during the
mute, then the commune's tone, each at its own second."""

from __future__ import annotations

import math
import struct
import subprocess
import time
from pathlib import Path

import pytest

from diemcau.archive.choices import RecordingState, TrackKind
from diemcau.archive.models import Recording
from diemcau.archive.processing import probe, tile_boxes
from diemcau.archive.services.storage import archive_storage
from diemcau.core.roles import Role
from diemcau.mcu.services import register_node
from diemcau.media.services import control, grants
from diemcau.media.testing.plane import MediaPlane
from diemcau.media.tests.live_fixtures import live_meeting
from diemcau.scheduling.services import lifecycle
from diemcau.testing.factories import UserFactory

pytestmark = [pytest.mark.janus, pytest.mark.django_db(transaction=True)]

RED, GREEN = "#e01010", "#10c010"
HOST_TONE, COMMUNE_TONE = 400, 1000
SIZE = (640, 360)
RATE = 8000


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def frame_at(mp4: Path, second: float) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{second:.2f}", "-i", str(mp4), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True, timeout=60).stdout


def median_colour(frame: bytes, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The median colour of the middle of a tile (away from the moving bar and the label)."""
    x, y, w, h = box
    width = SIZE[0]
    pixels = []
    for row in range(y + h // 3, y + h // 2, 4):
        for column in range(x + w // 8, x + w * 7 // 8, 4):
            offset = (row * width + column) * 3
            pixels.append(tuple(frame[offset:offset + 3]))
    channels = list(zip(*pixels, strict=True))
    return tuple(sorted(channel)[len(channel) // 2] for channel in channels)  # type: ignore


def close_to(found: tuple[int, ...], wanted: tuple[int, ...], tolerance: int = 60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(found, wanted, strict=True))


def sound(mp4: Path) -> list[float]:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp4), "-ac", "1", "-ar",
                          str(RATE), "-f", "s16le", "-"], capture_output=True, check=True,
                         timeout=60).stdout
    return [s / 32768 for s in struct.unpack(f"<{len(raw) // 2}h", raw)]


def tone_level(samples: list[float], start: float, end: float, hz: float) -> float:
    """Goertzel: the amplitude of `hz` between two seconds."""
    window = samples[int(start * RATE):int(end * RATE)]
    if not window:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for sample in window:
        s1, s2 = sample + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / len(window)


def rms(samples: list[float], start: float, end: float) -> float:
    window = samples[int(start * RATE):int(end * RATE)]
    return math.sqrt(sum(s * s for s in window) / max(len(window), 1))


def connect(plane: MediaPlane, grant: grants.JoinGrant, name: str, colour: str,
            tone: int) -> None:
    """As the live-media tests' `connect`, with the endpoint's own colour and tone."""
    endpoint = plane.endpoint(name, token=grant.janus_token, colour=_rgb(colour), tone_hz=tone,
                              width=320, height=240, fps=10)
    attached = endpoint.attached["publisher"]
    grants.join_publisher(grant.participation, session_id=attached.session_id,
                          handle_id=attached.handle_id)
    endpoint.wait_joined()
    endpoint.publish()
    grants.record_published(grant.participation)


@pytest.fixture
def archive_settings(settings, tmp_path):
    settings.JANUS_RECORDINGS_DIR = tmp_path / "recordings"
    settings.ARCHIVE_DIR = tmp_path / "archive"
    settings.ARCHIVE_WORK_DIR = tmp_path / "work"
    settings.ARCHIVE_INCOMING_DIR = tmp_path / "incoming"
    settings.ARCHIVE_VIDEO_SIZE = f"{SIZE[0]}x{SIZE[1]}"
    settings.ARCHIVE_FPS = 15
    settings.ARCHIVE_PRESET = "ultrafast"
    settings.STORAGES = {**settings.STORAGES, "archive": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "archive")}}}
    return settings


def test_a_recorded_meeting_becomes_one_playable_mp4(media_plane: MediaPlane, janus_media,
                                                     kh_tree, archive_settings):
    node = register_node(janus_media.node_input("mcu-archive"),
                         actor=UserFactory(role=Role.OPERATOR))
    setup = live_meeting(node, kh_tree.district, [kh_tree.commune], recording_requested=True)
    host_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.district)
    commune_tech = UserFactory(role=Role.TECHNICIAN, agency=kh_tree.commune)
    host_grant = grants.grant_by_login(setup.meeting, setup.host_endpoint, actor=host_tech)
    commune_grant = grants.grant_by_login(setup.meeting, setup.participants[0],
                                          actor=commune_tech)
    connect(media_plane, host_grant, "host", RED, HOST_TONE)
    connect(media_plane, commune_grant, "commune", GREEN, COMMUNE_TONE)
    time.sleep(1.0)  # both pictures flowing (keyframes) before the recording starts

    control.set_recording(setup.meeting, recording=True, actor=host_tech)
    t0 = time.monotonic()
    record = Recording.objects.get(meeting=setup.meeting)
    assert (record.state, record.started_by) == (RecordingState.RECORDING, host_tech)
    time.sleep(2.0)
    control.set_audio(host_grant.participation, muted=True, actor=host_tech)
    t_mute = time.monotonic() - t0
    time.sleep(2.0)
    control.give_floor(commune_grant.participation, actor=host_tech)
    t_floor = time.monotonic() - t0
    time.sleep(2.5)
    control.set_recording(setup.meeting, recording=False, actor=host_tech)
    recorded = time.monotonic() - t0
    time.sleep(0.5)
    lifecycle.end_meeting(setup.meeting, actor=host_tech)  # the worker archives it (at once)

    record.refresh_from_db()
    assert record.state == RecordingState.READY, record.error
    assert record.stopped_by == host_tech and record.requested_by is not None
    assert record.handover_due_at is not None and record.progress == 100
    assert record.endpoint_count == 2 and len(record.sha256) == 64
    storage = archive_storage()
    mp4 = Path(storage.path(record.file_name))
    assert mp4.stat().st_size == record.size_bytes
    kept = set(record.tracks.values_list("kind", flat=True))
    assert kept == {TrackKind.RAW, TrackKind.AUDIO, TrackKind.VIDEO}  # per-endpoint files kept
    assert storage.exists(record.thumbnail_name)

    info = probe(mp4)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["audio"]["codec_name"] == "aac"
    assert (streams["video"]["width"], streams["video"]["height"]) == SIZE
    duration = float(info["format"]["duration"])
    print(f"\nrecorded {recorded:.2f}s, MP4 {duration:.2f}s, mute at {t_mute:.2f}s, floor at "
          f"{t_floor:.2f}s, processed in {record.processing_seconds:.2f}s")
    assert abs(duration - recorded) <= 1.0
    # Fast start: the index (moov) comes before the media (mdat).
    head = mp4.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head

    # Each endpoint's colour in its tile, left (the host, first to publish) and right.
    boxes = tile_boxes(2, *SIZE)
    frame = frame_at(mp4, min(1.5, duration / 2))
    left, right = median_colour(frame, boxes[0]), median_colour(frame, boxes[1])
    print(f"tiles: left {left}, right {right}")
    assert close_to(left, _rgb(RED)) and close_to(right, _rgb(GREEN)), (left, right)

    # The sound at its own seconds: the host's tone, silence while both are muted, then the
    # commune's tone.
    samples = sound(mp4)
    host_before = tone_level(samples, 0.5, t_mute - 0.4, HOST_TONE)
    gap = rms(samples, t_mute + 0.5, t_floor - 0.5)
    commune_after = tone_level(samples, t_floor + 0.6, recorded - 0.4, COMMUNE_TONE)
    host_after = tone_level(samples, t_floor + 0.6, recorded - 0.4, HOST_TONE)
    print(f"host tone {host_before:.4f}, gap rms {gap:.5f}, commune tone {commune_after:.4f}, "
          f"host tone after {host_after:.4f}")
    assert host_before > 0.02
    assert gap < 0.003
    assert commune_after > 0.02 and host_after < commune_after / 5
