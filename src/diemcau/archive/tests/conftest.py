from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from diemcau.archive.choices import RecordingState
from diemcau.archive.models import Recording
from diemcau.core.roles import Role
from diemcau.media.tests.live_fixtures import live_meeting
from diemcau.scheduling.choices import Classification, MeetingStatus
from diemcau.testing.factories import UserFactory


@pytest.fixture
def archive_storage_dir(settings: Any, tmp_path: Any) -> Any:
    settings.ARCHIVE_DIR = tmp_path / "archive"
    settings.ARCHIVE_WORK_DIR = tmp_path / "work"
    settings.STORAGES = {**settings.STORAGES, "archive": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "archive")}}}
    return tmp_path / "archive"


@pytest.fixture
def world(kh_tree: SimpleNamespace, use_rulebook: Any, archive_storage_dir: Any
          ) -> SimpleNamespace:
    """A meeting hosted by the district with the commune taking part, ended, with a ready
    recording stored (a few bytes standing for the MP4), and one person of each kind."""
    from diemcau.archive.services.storage import put_file

    use_rulebook("khanh-hoa-2023")
    t = kh_tree
    t.operator = UserFactory(role=Role.OPERATOR, agency=t.department)
    t.auditor = UserFactory(role=Role.AUDITOR, agency=t.province)
    t.host = UserFactory(role=Role.OFFICE, agency=t.district)
    t.host_tech = UserFactory(role=Role.TECHNICIAN, agency=t.district)
    t.participant = UserFactory(role=Role.TECHNICIAN, agency=t.commune)
    t.outsider = UserFactory(role=Role.OFFICE, agency=t.other_district)
    t.setup = live_meeting(None, t.district, [t.commune], status=MeetingStatus.ENDED,
                           recording_requested=True)
    t.meeting = t.setup.meeting
    payload = archive_storage_dir.parent / "meeting.mp4"
    payload.write_bytes(bytes(range(256)) * 40)  # 10 240 bytes
    size, digest = put_file(f"recordings/{t.meeting.pk}/meeting.mp4", payload)
    ended = timezone.now() - dt.timedelta(hours=1)
    t.record = Recording.objects.create(
        meeting=t.meeting, state=RecordingState.READY, started_at=ended - dt.timedelta(hours=1),
        session_ended_at=ended, handover_due_at=ended + dt.timedelta(days=2),
        file_name=f"recordings/{t.meeting.pk}/meeting.mp4", size_bytes=size, sha256=digest,
        duration_seconds=60.0, requested_by=t.meeting.created_by)
    t.secret_setup = live_meeting(None, t.district, [t.commune], status=MeetingStatus.ENDED,
                                  recording_requested=True,
                                  classification=Classification.STATE_SECRET)
    return t
