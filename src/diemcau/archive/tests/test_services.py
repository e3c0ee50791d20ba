"""The archive's services: handover and receipt, the deadline's warning and breach, the
access matrix (written out by hand), materials and access requests, signed links, a ranged
download and a purge that keeps the record and its audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from diemcau.archive import permissions as perms
from diemcau.archive.choices import AccessState, RecordingState
from diemcau.archive.files import parse_range
from diemcau.archive.models import Recording
from diemcau.archive.services import handover, materials
from diemcau.archive.services.storage import archive_storage, usage
from diemcau.core.errors import InvalidInput, PermissionDenied, RuleViolation
from diemcau.core.models import AuditEvent
from diemcau.notifications.models import Notification

pytestmark = pytest.mark.django_db


def pdf(name: str = "bao-cao.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"x" * 500, content_type="application/pdf")


def test_handover_and_acknowledgement(world):
    record = handover.hand_over(world.record, actor=world.operator)
    assert record.state == RecordingState.HANDED_OVER and record.handed_over_by == world.operator
    told = Notification.objects.filter(kind="archive.handed_over").values_list("user", flat=True)
    assert {world.host.pk, world.host_tech.pk} <= set(told)
    with pytest.raises(PermissionDenied):
        handover.acknowledge_receipt(record, actor=world.participant)
    record = handover.acknowledge_receipt(record, actor=world.host)
    assert (record.acknowledged_by, record.acknowledged_at is not None) == (world.host, True)
    actions = list(AuditEvent.objects.filter(object_id=str(record.pk),
                                             action__startswith="archive.")
                   .values_list("action", flat=True))
    assert {"archive.hand_over", "archive.acknowledge"} <= set(actions)


def test_only_operators_hand_over(world):
    with pytest.raises(PermissionDenied):
        handover.hand_over(world.record, actor=world.host)


def test_warning_then_breach_like_the_reply_deadline(world):
    due = world.record.handover_due_at
    assert handover.warn_handovers_due_soon(due - dt.timedelta(hours=1)) == 1
    assert handover.warn_handovers_due_soon(due - dt.timedelta(minutes=30)) == 0  # once
    assert handover.record_handover_breaches(due - dt.timedelta(minutes=1)) == 0
    assert handover.record_handover_breaches(due + dt.timedelta(minutes=1)) == 1
    world.record.refresh_from_db()
    assert world.record.handover_breached_at is not None
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {"archive.handover_due_soon", "archive.handover_overdue"} <= kinds
    assert AuditEvent.objects.filter(action="archive.handover_overdue").exists()


# The access matrix: who may read the materials, play and download the recording, before and
# after the handover, and ask the host. Written out by hand.
MATRIX = {
    # who:           (materials, play before, play after, download after, may request)
    "operator":      (True, True, True, True, False),
    "host":          (True, False, True, True, False),
    "participant":   (True, False, False, False, False),
    "auditor":       (False, False, False, False, True),
    "outsider":      (False, False, False, False, True),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_access_matrix(world, who):
    user = getattr(world, who)
    meeting, record = world.meeting, world.record
    materials_, before, after, download, may_request = MATRIX[who]
    assert perms.can_read_materials(user, meeting) is materials_
    assert perms.can_play(user, record) is before
    assert perms.can_request_access(user, meeting) is may_request
    handover.hand_over(record, actor=world.operator)
    record.refresh_from_db()
    assert perms.can_play(user, record) is after
    assert perms.can_download(user, record) is download


def test_an_outsider_with_an_approved_request(world):
    meeting = world.meeting
    handover.hand_over(world.record, actor=world.operator)
    world.record.refresh_from_db()
    request = materials.request_access(meeting, actor=world.outsider, reason="Báo cáo tổng hợp")
    assert Notification.objects.filter(kind="archive.access_requested",
                                       user=world.host).exists()
    assert not perms.can_read_materials(world.outsider, meeting)
    with pytest.raises(RuleViolation):  # only the host decides (ĐN Đ13.4, KH Đ15.4)
        materials.decide_access(request, actor=world.participant, approve=True)
    with pytest.raises(InvalidInput):  # a refusal needs its reason
        materials.decide_access(request, actor=world.host, approve=False)
    materials.decide_access(request, actor=world.host, approve=True)
    assert perms.can_read_materials(world.outsider, meeting)
    assert perms.can_play(world.outsider, world.record)
    assert perms.recordings_visible_to(world.outsider).filter(pk=world.record.pk).exists()
    assert not perms.can_request_access(world.outsider, meeting)


def test_a_refused_request_gives_nothing(world):
    request = materials.request_access(world.meeting, actor=world.outsider, reason="Tham khảo")
    refused = materials.decide_access(request, actor=world.host, approve=False,
                                      reason="Nội dung nội bộ")
    assert refused.state == AccessState.REFUSED and refused.refusal_reason
    assert Notification.objects.filter(kind="archive.access_decided",
                                       user=world.outsider).exists()
    assert not perms.can_read_materials(world.outsider, world.meeting)


def test_state_secret_never_goes_beyond_the_participants(world):
    secret = world.secret_setup.meeting
    record = Recording.objects.create(meeting=secret, state=RecordingState.HANDED_OVER,
                                      file_name="x.mp4")
    assert not perms.can_request_access(world.outsider, secret)
    with pytest.raises(RuleViolation) as refused:
        materials.request_access(secret, actor=world.outsider, reason="xin")
    assert refused.value.code == "materials_state_secret"
    assert perms.can_read_materials(world.participant, secret)
    assert perms.can_play(world.host, record) and perms.can_play(world.participant, record)
    # R20: no export of a state-secret meeting's recording.
    assert not perms.can_download(world.host, record)
    assert not perms.can_download(world.operator, record)
    assert secret not in perms.catalogue_for(world.outsider)
    assert world.meeting in perms.catalogue_for(world.outsider)


def test_state_secret_recording_refusal_cites_the_deployment_setting(world):
    from diemcau.scheduling.rules import recording_refusal

    refusal = recording_refusal(world.secret_setup.meeting)
    assert refusal is not None and refusal.code == "recording_state_secret"
    assert "secrecy.state_secret_allows_recording" in refusal.article
    assert "Điều" not in refusal.article


def test_materials_upload_checks_the_host_and_the_kind_of_file(world):
    with pytest.raises(RuleViolation):
        materials.upload_material(world.meeting, actor=world.participant, title="x",
                                  upload=pdf())
    with pytest.raises(InvalidInput):
        materials.upload_material(world.meeting, actor=world.host, title="Chương trình",
                                  upload=SimpleUploadedFile("a.exe", b"MZ"))
    material = materials.upload_material(world.meeting, actor=world.host, title="Báo cáo",
                                         upload=pdf(), kind="report")
    assert material.size_bytes == 509 and len(material.sha256) == 64
    assert archive_storage().exists(material.file_name)
    assert list(perms.materials_readable_by(world.participant, world.meeting)) == [material]
    assert usage().used_bytes == world.record.size_bytes + material.size_bytes


def test_a_ranged_download_through_a_signed_link(world, client):
    handover.hand_over(world.record, actor=world.operator)
    client.force_login(world.host)
    response = client.post(reverse("archive:download", args=["recording", world.record.pk]))
    assert response.status_code == 302
    url = response["Location"]
    whole = bytes(range(256)) * 40
    ranged = client.get(url, HTTP_RANGE="bytes=100-299")
    assert ranged.status_code == 206
    assert ranged["Content-Range"] == "bytes 100-299/10240"
    assert b"".join(ranged.streaming_content) == whole[100:300]
    tail = client.get(url, HTTP_RANGE="bytes=-16")
    assert b"".join(tail.streaming_content) == whole[-16:]
    assert client.get(url, HTTP_RANGE="bytes=20000-").status_code == 416
    full = client.get(url)
    assert full.status_code == 200 and full["Accept-Ranges"] == "bytes"
    assert b"".join(full.streaming_content) == whole
    assert "attachment" in full["Content-Disposition"]
    # Issuing and each download (not each later range of it) are audited.
    assert AuditEvent.objects.filter(action="archive.link_issue").count() == 1
    assert AuditEvent.objects.filter(action="archive.download").count() == 1
    # The link is the host's own: someone else gets nothing from it.
    client.force_login(world.outsider)
    assert client.get(url).status_code == 403


def test_a_link_expires(world, client, settings):
    record = handover.hand_over(world.record, actor=world.operator)
    token = handover.issue_link(world.host, record)
    settings.ARCHIVE_LINK_MINUTES = 0
    client.force_login(world.host)
    import time

    time.sleep(1.1)
    response = client.get(reverse("archive:file", args=[token]))
    assert response.status_code == 403


def test_parse_range():
    assert parse_range("", 100) is None
    assert parse_range("bytes=0-", 100) == (0, 99)
    assert parse_range("bytes=10-20", 100) == (10, 20)
    assert parse_range("bytes=90-200", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=1-2,5-6", 100) is None
    with pytest.raises(ValueError):
        parse_range("bytes=100-", 100)


def test_a_purge_keeps_the_record_and_its_audit_trail(world, settings):
    material = materials.upload_material(world.meeting, actor=world.host, title="Báo cáo",
                                         upload=pdf())
    handover.hand_over(world.record, actor=world.operator)
    storage = archive_storage()
    name = world.record.file_name
    assert storage.exists(name)
    world.record.keep_until = timezone.now() - dt.timedelta(days=1)
    world.record.save(update_fields=["keep_until"])
    with pytest.raises(PermissionDenied):
        handover.purge(world.record, actor=world.host)
    from django.db import transaction

    with transaction.atomic():  # the files go when the purge commits
        assert handover.purge_expired() == 1
    record = Recording.objects.get(pk=world.record.pk)
    assert record.state == RecordingState.PURGED and record.purged_at is not None
    assert record.sha256 and record.size_bytes  # the record stays
    material.refresh_from_db()
    assert material.purged_at is not None
    assert not perms.can_play(world.host, record)
    events = AuditEvent.objects.filter(object_id=str(record.pk), action__startswith="archive.")
    assert {"archive.hand_over", "archive.purge"} <= set(events.values_list("action", flat=True))
    assert usage().used_bytes == 0
