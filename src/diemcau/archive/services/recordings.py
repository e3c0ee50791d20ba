"""A meeting's recording from the first `enable_recording` to one MP4 in the archive (R19).

1. `recording_switched` — told by the live plane (`media.services.control.on_recording`)
   inside the transaction that starts or stops Janus's recording: the record is opened, and
   who started and stopped it is kept.
2. `meeting_changed` — told by the meeting lifecycle: when the session ends, the handover
   deadline and the retention are set and the worker is asked to collect and process.
3. `collect` — the node's `.mjr` files are copied into the archive's storage: from this
   machine's recordings folder (or shared storage mounted there), or from the incoming folder
   a node on another machine pushed them to (docs/archive.md).
4. `process` — the MP4 grid, its thumbnail and the per-endpoint files are made
   (`processing`), stored, hashed and recorded; a failure is kept with its reason and tried
   again (`settings.ARCHIVE_ATTEMPTS`), then reported to the operators.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diemcau.core import audit
from diemcau.core.errors import InvalidTransition, PermissionDenied
from diemcau.core.models import User
from diemcau.core.permissions import Action
from diemcau.media.models import Participation, Room
from diemcau.scheduling.choices import MeetingStatus
from diemcau.scheduling.services.lifecycle import StatusChange

from .. import notices, processing
from ..choices import RecordingState, TrackKind
from ..models import Recording, RecordingTrack
from ..permissions import is_custodian
from ..rules import handover_due, keep_until
from .storage import archive_storage, put_file

log = logging.getLogger(__name__)

# A folder whose files did not change for this long is taken as complete.
STABLE_SECONDS = 3.0
COMPLETE_MARK = ".complete"  # written by a node host after it pushed a meeting's folder

FIELDS = ["state", "progress", "attempts", "error", "size_bytes", "duration_seconds",
          "sha256", "file_name", "handover_due_at", "handed_over_at", "acknowledged_at",
          "keep_until", "purged_at", "started_at", "stopped_at", "session_ended_at"]


def snapshot(recording: Recording) -> dict[str, object]:
    return audit.snapshot(recording, FIELDS)


# ---------------------------------------------------------------------------- the live plane


def recording_switched(room: Room, recording: bool, actor: User | None) -> None:
    """Janus's recording of the room was switched on or off (inside that transaction)."""
    now = timezone.now()
    meeting = room.meeting
    record = Recording.objects.select_for_update().filter(meeting=meeting).first()
    if recording:
        if record is None:
            record = Recording.objects.create(
                meeting=meeting, node=room.node, janus_room_id=room.janus_room_id,
                requested_by=meeting.created_by if meeting.recording_requested else None,
                started_by=actor, started_at=now,
            )
            audit.record("archive.open", record, actor=actor, after=snapshot(record))
        return
    if record is not None and record.state == RecordingState.RECORDING:
        before = snapshot(record)
        record.stopped_by, record.stopped_at = actor, now
        record.save(update_fields=["stopped_by", "stopped_at", "updated_at"])
        audit.record("archive.stop", record, actor=actor, before=before, after=snapshot(record))


def meeting_changed(change: StatusChange) -> None:
    """After the session (ended by the host, the operator or the system), the handover
    deadline runs and the worker collects the node's files (lifecycle observer)."""
    meeting = change.meeting
    if meeting.status != MeetingStatus.ENDED:
        return
    record = Recording.objects.select_for_update().filter(meeting=meeting).first()
    if record is None or record.session_ended_at is not None:
        return
    before = snapshot(record)
    ended = timezone.now()
    record.session_ended_at = ended
    record.stopped_at = record.stopped_at or ended
    # ĐN Đ13.3, KH Đ15.3: handed over within the rulebook's working days of the end.
    record.handover_due_at = handover_due(ended)
    record.keep_until = keep_until(ended)
    record.state = RecordingState.PROCESSING
    record.save()
    audit.record("archive.session_ended", record, actor=change.actor, before=before,
                 after=snapshot(record))
    from .. import tasks

    transaction.on_commit(functools.partial(tasks.archive_recording, record.pk), robust=True)


# ---------------------------------------------------------------------------- collecting


def source_folders(record: Recording) -> list[Path]:
    """Where a meeting's `.mjr` files may be: pushed by its node's host into the incoming
    folder, or this machine's recordings folder (the local node, or shared storage)."""
    meeting = str(record.meeting_id)
    folders = []
    if record.node is not None:
        folders.append(Path(settings.ARCHIVE_INCOMING_DIR) / record.node.name / meeting)
    folders.append(Path(settings.JANUS_RECORDINGS_DIR) / meeting)
    return folders


def _ready_folder(folder: Path) -> bool:
    files = list(folder.glob("*.mjr"))
    if not files:
        return False
    if folder.parent.parent == Path(settings.ARCHIVE_INCOMING_DIR):
        return (folder / COMPLETE_MARK).exists()
    newest = max(f.stat().st_mtime for f in files)
    return time.time() - newest >= STABLE_SECONDS


def collect(record: Recording, *, wait: float = 30.0) -> int:
    """Copy the node's files into the archive's storage (once); returns how many."""
    if record.collected_at is not None:
        return record.tracks.filter(kind=TrackKind.RAW).count()
    deadline = time.monotonic() + wait
    folder = None
    while folder is None:
        folder = next((f for f in source_folders(record) if f.is_dir() and _ready_folder(f)),
                      None)
        if folder is None:
            if time.monotonic() > deadline:
                where = ", ".join(str(f) for f in source_folders(record))
                raise processing.ProcessingError(
                    f"no complete recording found (looked in {where})")
            time.sleep(0.5)
    stored: list[RecordingTrack] = []
    for path in sorted(folder.glob("*.mjr")):
        name = f"recordings/{record.meeting_id}/raw/{path.name}"
        size, digest = put_file(name, path)
        stored.append(RecordingTrack(recording=record, kind=TrackKind.RAW, file_name=name,
                                     size_bytes=size, sha256=digest))
    with transaction.atomic():
        current = Recording.objects.select_for_update().get(pk=record.pk)
        RecordingTrack.objects.filter(recording=current, kind=TrackKind.RAW).delete()
        RecordingTrack.objects.bulk_create(stored)
        current.collected_at, current.source = timezone.now(), str(folder)
        current.save(update_fields=["collected_at", "source", "updated_at"])
        audit.record("archive.collect", current, actor=None,
                     after={"source": str(folder), "files": len(stored),
                            "bytes": sum(t.size_bytes for t in stored)})
    record.refresh_from_db()
    return len(stored)


# ---------------------------------------------------------------------------- processing


def set_progress(record_id: int, share: float) -> None:
    """The page's progress bar (not a change of state: no audit event)."""
    Recording.objects.filter(pk=record_id).update(progress=max(0, min(100, round(share * 100))))


def _labels(record: Recording) -> tuple[dict[int, str], dict[int, int]]:
    """feed → the endpoint's name, and feed → one key per endpoint (a re-join is a new
    feed but the same tile)."""
    labels: dict[int, str] = {}
    groups: dict[int, int] = {}
    for participation in Participation.objects.filter(meeting_id=record.meeting_id
                                                      ).select_related("endpoint"):
        labels[participation.janus_id] = participation.endpoint.name or participation.display
        groups[participation.janus_id] = participation.endpoint_id
    return labels, groups


def process(record: Recording) -> bool:
    """One try at making the recording's files; True when it is ready. A failure is kept
    with its reason; after the last try the recording is marked failed and the operators
    are told (the worker schedules the next try otherwise)."""
    with transaction.atomic():
        record = Recording.objects.select_for_update().get(pk=record.pk)
        if record.state != RecordingState.PROCESSING:
            return record.state in (RecordingState.READY, RecordingState.HANDED_OVER)
        record.attempts += 1
        record.progress = 0
        record.save(update_fields=["attempts", "progress", "updated_at"])
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"meeting-{record.meeting_id}-",
                                 dir=_work_dir()))
    try:
        collect(record)
        raw = work / "raw"
        raw.mkdir()
        storage = archive_storage()
        for track in record.tracks.filter(kind=TrackKind.RAW):
            with storage.open(track.file_name, "rb") as source, \
                    (raw / Path(track.file_name).name).open("wb") as target:
                shutil.copyfileobj(source, target)
        labels, groups = _labels(record)
        result = processing.make_mp4(
            raw, work / "out", labels, groups=groups, size=settings.ARCHIVE_VIDEO_SIZE,
            fps=settings.ARCHIVE_FPS, preset=settings.ARCHIVE_PRESET,
            on_progress=functools.partial(set_progress, record.pk),
        )
        _store(record, result, time.monotonic() - started)
        return True
    except (processing.ProcessingError, OSError) as exc:
        log.warning("recording %s: try %s failed: %s", record.pk, record.attempts, exc)
        _failed(record, str(exc))
        return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _work_dir() -> str:
    Path(settings.ARCHIVE_WORK_DIR).mkdir(parents=True, exist_ok=True)
    return str(settings.ARCHIVE_WORK_DIR)


def _store(record: Recording, result: processing.Result, seconds: float) -> None:
    base = f"recordings/{record.meeting_id}"
    size, digest = put_file(f"{base}/meeting-{record.meeting_id}.mp4", result.mp4)
    put_file(f"{base}/thumbnail.jpg", result.thumbnail)
    tracks: list[RecordingTrack] = []
    for track in result.tracks:
        if track.converted is None:
            continue
        name = f"{base}/endpoints/{track.converted.name}"
        track_size, track_digest = put_file(name, track.converted)
        tracks.append(RecordingTrack(
            recording=record, kind=TrackKind.AUDIO if track.kind == "audio" else TrackKind.VIDEO,
            feed_id=track.feed, label=result.label_of(track), file_name=name,
            size_bytes=track_size, sha256=track_digest, offset_seconds=track.offset))
    with transaction.atomic():
        current = Recording.objects.select_for_update().get(pk=record.pk)
        before = snapshot(current)
        RecordingTrack.objects.filter(recording=current).exclude(kind=TrackKind.RAW).delete()
        RecordingTrack.objects.bulk_create(tracks)
        current.file_name = f"{base}/meeting-{record.meeting_id}.mp4"
        current.thumbnail_name = f"{base}/thumbnail.jpg"
        current.size_bytes, current.sha256 = size, digest
        current.duration_seconds = result.duration
        current.width, current.height = result.width, result.height
        current.endpoint_count = len(result.tiles)
        current.state, current.progress, current.error = RecordingState.READY, 100, ""
        current.processed_at, current.processing_seconds = timezone.now(), seconds
        current.save()
        audit.record("archive.ready", current, actor=None, before=before,
                     after=snapshot(current))
        notices.ready(current)


def _failed(record: Recording, reason: str) -> None:
    with transaction.atomic():
        current = Recording.objects.select_for_update().get(pk=record.pk)
        before = snapshot(current)
        current.error = reason[:4000]
        final = current.attempts >= settings.ARCHIVE_ATTEMPTS
        if final:
            current.state, current.failed_at = RecordingState.FAILED, timezone.now()
        current.save()
        audit.record("archive.failed" if final else "archive.attempt_failed", current,
                     actor=None, before=before, after=snapshot(current))
        if final:
            notices.failed(current)


def retry(record: Recording, *, actor: User) -> Recording:
    """The operator tries a failed recording again (after fixing what the reason says)."""
    if not is_custodian(actor):
        raise PermissionDenied(str(Action.MANAGE_MCU))
    with transaction.atomic():
        current = Recording.objects.select_for_update().get(pk=record.pk)
        if current.state != RecordingState.FAILED:
            raise InvalidTransition(_("Only a failed recording can be tried again."))
        before = snapshot(current)
        current.state, current.attempts, current.failed_at = RecordingState.PROCESSING, 0, None
        current.save()
        audit.record("archive.retry", current, actor=actor, before=before,
                     after=snapshot(current))
        from .. import tasks

        transaction.on_commit(functools.partial(tasks.archive_recording, current.pk),
                              robust=True)
    return current
