"""The audit chain against its database owner (R22): the hashes are keyed with a secret that
is not in the database, and signed checkpoints catch truncation and a rewrite by someone who
also has the key. Chains written before the key keep verifying."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from diemcau.core import audit, audit_guards
from diemcau.core.models import AuditChainHead, AuditEvent
from diemcau.testing.factories import AgencyFactory

from .conftest import restart_event_numbers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_chain")]


def _record(n: int) -> None:
    agency = AgencyFactory()
    for i in range(n):
        with transaction.atomic():
            audit.record("test.event", agency, actor=None, after={"i": i})


class _Owner:
    """What the owner of the database can do: any SQL, triggers included."""

    def __enter__(self) -> _Owner:
        audit_guards.remove(connection)
        return self

    def __exit__(self, *exc: object) -> None:
        audit_guards.install(connection)

    def rehash_from(self, seq: int, hasher) -> None:
        """Recompute the hashes from `seq` on with `hasher` and move the head: a rewrite."""
        prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS_HASH
        for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
            event.prev_hash = prev
            event.hash = hasher(event)
            AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash,
                                                          hash=event.hash)
            prev = event.hash
        last = AuditEvent.objects.order_by("-seq").first()
        AuditChainHead.objects.filter(pk=1).update(seq=last.seq if last else 0,
                                                   hash=prev)

    def truncate_after(self, seq: int) -> None:
        AuditEvent.objects.filter(seq__gt=seq).delete()
        self.rehash_from(seq + 1, audit._event_hash)  # only moves the head back


def test_hashes_are_keyed_and_a_plain_rehash_is_caught():
    _record(4)
    event = AuditEvent.objects.get(seq=2)
    assert event.hash != audit._unkeyed_hash(event)
    with _Owner() as owner:
        AuditEvent.objects.filter(seq=2).update(object_repr="forged")
        owner.rehash_from(2, audit._unkeyed_hash)
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 2 and report.checked == 1


def test_rewriting_the_whole_chain_as_unkeyed_events_is_caught():
    _record(3)
    with _Owner() as owner:
        AuditEvent.objects.filter(seq=3).update(object_repr="forged")
        owner.rehash_from(1, audit._unkeyed_hash)
    report = audit.verify_chain()
    assert not report.ok and "not sealed" in report.problem


def test_another_key_does_not_verify():
    _record(2)
    with override_settings(AUDIT_KEY="another key that is long enough to be a real key"):
        report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 1 and "audit key" in report.problem


def test_a_checkpoint_catches_a_rewrite_by_someone_with_the_key():
    _record(3)
    checkpoint = audit.make_checkpoint()
    assert checkpoint.seq == 3 and checkpoint.signature_ok
    with _Owner() as owner:
        AuditEvent.objects.filter(seq=2).update(object_repr="forged")
        owner.rehash_from(2, audit._event_hash)
    assert audit.verify_chain().ok  # the key alone no longer helps…
    report = audit.verify_chain(checkpoints=[checkpoint])
    assert not report.ok and report.first_bad_seq == 3 and "rewritten" in report.problem


def test_a_checkpoint_catches_removed_newest_events():
    _record(5)
    checkpoint = audit.make_checkpoint()
    _record(1)
    with _Owner() as owner:
        owner.truncate_after(3)
    assert audit.verify_chain().ok  # the head was moved back too
    report = audit.verify_chain(checkpoints=[checkpoint])
    assert not report.ok and "removed" in report.problem and "#5" in report.problem


def test_later_events_keep_an_old_checkpoint_valid():
    _record(2)
    checkpoint = audit.make_checkpoint()
    _record(3)
    report = audit.verify_chain(checkpoints=[checkpoint])
    assert report.ok and report.checkpoints == 1 and report.checked == 5


def test_a_forged_checkpoint_is_refused():
    _record(2)
    genuine = audit.make_checkpoint()
    forged = audit.Checkpoint(1, AuditEvent.objects.get(seq=1).hash, genuine.at,
                              genuine.signature)
    report = audit.verify_chain(checkpoints=[forged])
    assert not report.ok and "not signed" in report.problem
    with pytest.raises(ValueError):
        audit.Checkpoint.from_json('{"type": "something else"}')


def test_events_written_before_the_key_still_verify_once_sealed():
    # Three events as the unkeyed chain wrote them (placed in chain 0 by migration 0006),
    # then the migration's seal.
    prev = audit.GENESIS_HASH
    with _Owner():
        for seq in (1, 2, 3):
            event = AuditEvent(seq=seq, chain_seq=seq,
                               at=timezone.now() - dt.timedelta(days=30 - seq),
                               action="old.event", object_type="x", object_id=str(seq),
                               object_repr="old", after={"n": seq}, prev_hash=prev)
            event.hash = audit._unkeyed_hash(event)
            event.save(force_insert=True)
            prev = event.hash
        AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": 3, "hash": prev})
    restart_event_numbers()  # as the migration does, after the events of before
    assert not audit.verify_chain().ok  # unkeyed and not sealed
    with transaction.atomic():
        seal = audit.seal_unkeyed_events(AuditEvent, AuditChainHead)
    assert seal.action == audit.CHAIN_KEYED_ACTION and seal.after == {"unkeyed_events": 3}
    with transaction.atomic():
        assert audit.seal_unkeyed_events(AuditEvent, AuditChainHead) is None  # once
    _record(2)
    report = audit.verify_chain()
    assert report.ok and report.checked == 6 and report.unkeyed == 3
    # An old event changed and re-hashed the old way breaks the seal.
    with _Owner() as owner:
        AuditEvent.objects.filter(seq=2).update(object_repr="forged")
        owner.rehash_from(2, audit._unkeyed_hash)
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 4


def test_checkpoint_and_verify_commands(tmp_path, capsys):
    _record(3)
    path = tmp_path / "checkpoint.json"
    call_command("audit", "checkpoint", "-o", str(path))
    data = json.loads(path.read_text())
    assert data["seq"] == 3 and data["hash"] == AuditChainHead.objects.get().hash
    assert data["signature"] and data["at"]
    _record(1)
    call_command("audit", "verify", "--checkpoint", str(path))
    assert "OK: 4 event(s), matches 1 checkpoint(s)" in capsys.readouterr().out
    with _Owner() as owner:
        owner.truncate_after(2)
    with pytest.raises(CommandError, match="removed"):
        call_command("audit", "verify", "--checkpoint", str(path))
    with pytest.raises(CommandError, match="broken chain"):
        with _Owner():
            AuditEvent.objects.filter(seq=1).update(object_repr="x")
        call_command("audit", "checkpoint")
    not_json = tmp_path / "other.json"
    not_json.write_text("[]")
    with pytest.raises(CommandError, match="not a diemcau audit checkpoint"):
        call_command("audit", "verify", "--checkpoint", str(not_json))


def test_the_audit_key_comes_from_a_generated_private_file(tmp_path):
    from diemcau.settings import secret_from_file

    path = tmp_path / "sub" / "audit-key"
    first = secret_from_file(path)
    assert len(first) >= 48 and secret_from_file(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
