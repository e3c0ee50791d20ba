"""The archive's files through Django's storage API (`STORAGES["archive"]`): a folder by
default, an S3-compatible store by setting (django-storages). Nothing else in the app opens
the archive's files by path."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.models import Sum

CHUNK = 1 << 20


def archive_storage() -> Storage:
    return storages["archive"]


class _Hashing:
    """A file object that hashes and counts what is read from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        block = self.raw.read(size)
        self.digest.update(block)
        self.size += len(block)
        return block

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)


def put(name: str, content: IO[bytes]) -> tuple[str, int, str]:
    """Store `content` under `name` (replacing a file left by an earlier try); returns the
    stored name, its size and its SHA-256."""
    storage = archive_storage()
    if storage.exists(name):
        storage.delete(name)
    hashing = _Hashing(content)
    stored = storage.save(name, File(hashing, name=Path(name).name))  # type: ignore[arg-type]
    if hashing.size == 0:  # a storage that read the file by another path (not ours)
        with storage.open(stored, "rb") as again:
            for block in iter(lambda: again.read(CHUNK), b""):
                hashing.digest.update(block)
                hashing.size += len(block)
    return stored, hashing.size, hashing.digest.hexdigest()


def put_file(name: str, path: Path) -> tuple[int, str]:
    with path.open("rb") as handle:
        _stored, size, digest = put(name, handle)
    return size, digest


def delete(name: str) -> None:
    if name:
        storage = archive_storage()
        if storage.exists(name):
            storage.delete(name)


@dataclass(frozen=True)
class Usage:
    used_bytes: int
    left_bytes: int | None  # None: unknown (an object store without a set capacity)
    capacity_bytes: int | None

    @property
    def percent_used(self) -> float | None:
        if self.capacity_bytes:
            return round(100 * self.used_bytes / self.capacity_bytes, 1)
        return None


def usage() -> Usage:
    """The space the archive's files take (from the records) and the space left: the
    setting's capacity less what is used, or else the free space of the archive's disk."""
    from ..models import Material, Recording, RecordingTrack

    used = sum(
        int(query.aggregate(total=Sum("size_bytes"))["total"] or 0)
        for query in (
            Recording.objects.filter(purged_at__isnull=True),
            RecordingTrack.objects.filter(purged_at__isnull=True),
            Material.objects.filter(purged_at__isnull=True),
        )
    )
    capacity = settings.ARCHIVE_CAPACITY_BYTES
    if capacity is not None:
        return Usage(used, max(capacity - used, 0), capacity)
    if settings.ARCHIVE_STORAGE == "filesystem":
        folder = Path(settings.ARCHIVE_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        disk = shutil.disk_usage(folder)
        return Usage(used, disk.free, used + disk.free)
    return Usage(used, None, None)
