"""The audit log spread over several chains (R22): audited commits of different objects lock
different heads, and every guarantee of the single chain holds chain by chain: an edit, a
removal or a reordering in any chain is found, and a signed checkpoint covers every head."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from diemcau.core import audit, audit_guards
from diemcau.core.models import AuditChainHead, AuditEvent

from .conftest import restart_event_numbers

CHAINS = 4


@pytest.fixture(autouse=True)
def chains(settings):
    settings.AUDIT_CHAINS = CHAINS
    restart_event_numbers()


def _record(object_ids: list[str]) -> None:
    for object_id in object_ids:
        with transaction.atomic():
            audit.record("test.event", None, actor=None, object_type="test",
                         object_id=object_id, after={"id": object_id})


def _by_chain() -> dict[int, list[AuditEvent]]:
    found: dict[int, list[AuditEvent]] = {}
    for event in AuditEvent.objects.order_by("chain", "chain_seq"):
        found.setdefault(event.chain, []).append(event)
    return found


class _Owner:
    """The database's owner: any SQL, triggers included."""

    def __enter__(self) -> _Owner:
        audit_guards.remove(connection)
        return self

    def __exit__(self, *exc: object) -> None:
        audit_guards.install(connection)


def _two_deep_chain() -> list[AuditEvent]:
    """A chain other than 0 with at least three events."""
    _record([str(n % 9) for n in range(40)])
    chain = next(c for c, events in sorted(_by_chain().items()) if c and len(events) >= 3)
    return _by_chain()[chain]


@pytest.mark.django_db
def test_events_of_different_objects_go_to_several_chains_each_whole():
    _record([str(n) for n in range(12)] + ["1", "1"])
    chains = _by_chain()
    assert len(chains) > 1
    for chain, events in chains.items():
        assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].prev_hash == audit.GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
        head = AuditChainHead.objects.get(pk=audit.head_pk(chain))
        assert (head.seq, head.hash) == (events[-1].chain_seq, events[-1].hash)
    # One object's history is in one chain, in order; every event has its own number.
    ones = AuditEvent.objects.filter(object_id="1").order_by("seq")
    assert len({e.chain for e in ones}) == 1 and [e.chain_seq for e in ones] == sorted(
        e.chain_seq for e in ones)
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 15))
    report = audit.verify_chain()
    assert report.ok, report.problem
    assert report.checked == 14 and report.chains == len(chains)


@pytest.mark.django_db
def test_an_edit_in_any_chain_is_found():
    events = _two_deep_chain()
    with _Owner():
        AuditEvent.objects.filter(pk=events[1].pk).update(object_repr="forged")
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == events[1].seq
    assert "changed" in report.problem


@pytest.mark.django_db
def test_a_removal_inside_a_chain_is_found():
    events = _two_deep_chain()
    with _Owner():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == events[2].seq
    assert "missing" in report.problem and f"chain {events[0].chain}" in report.problem


@pytest.mark.django_db
def test_reordering_inside_a_chain_or_moving_an_event_to_another_is_found():
    events = _two_deep_chain()
    first, second = events[0], events[1]
    with _Owner():  # swap the places of two events
        AuditEvent.objects.filter(pk=first.pk).update(chain_seq=10**9)
        AuditEvent.objects.filter(pk=second.pk).update(chain_seq=first.chain_seq)
        AuditEvent.objects.filter(pk=first.pk).update(chain_seq=second.chain_seq)
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == second.seq
    with _Owner():  # put them back, then move the last one to a chain of its own
        AuditEvent.objects.filter(pk=second.pk).update(chain_seq=10**9)
        AuditEvent.objects.filter(pk=first.pk).update(chain_seq=1)
        AuditEvent.objects.filter(pk=second.pk).update(chain_seq=2)
    assert audit.verify_chain().ok
    last = events[-1]
    with _Owner():
        AuditEvent.objects.filter(pk=last.pk).update(chain=CHAINS + 1, chain_seq=1)
    report = audit.verify_chain()
    assert not report.ok  # its old head no longer matches, and it fits no other chain


@pytest.mark.django_db
def test_a_checkpoint_covers_every_head():
    events = _two_deep_chain()
    checkpoint = audit.make_checkpoint()
    assert checkpoint.signature_ok and len(checkpoint.heads) >= 1
    assert checkpoint.all_heads()[events[0].chain] == (events[-1].chain_seq, events[-1].hash)
    again = audit.Checkpoint.from_json(checkpoint.to_json())
    assert again == checkpoint and again.signature_ok
    _record(["later"])
    assert audit.verify_chain(checkpoints=[checkpoint]).ok

    # A head changed in the file: the signature no longer fits.
    chain, count, digest = checkpoint.heads[0]
    forged = audit.Checkpoint(checkpoint.seq, checkpoint.hash, checkpoint.at,
                              checkpoint.signature, ((chain, count - 1, digest),)
                              + checkpoint.heads[1:])
    assert not audit.verify_chain(checkpoints=[forged]).ok

    # Someone with the key drops the newest event of a chain and moves its head back.
    last = events[-1]
    with _Owner():
        AuditEvent.objects.filter(pk=last.pk).delete()
        AuditChainHead.objects.filter(pk=audit.head_pk(last.chain)).update(
            seq=events[-2].chain_seq, hash=events[-2].hash)
    assert audit.verify_chain().ok  # the key alone no longer helps…
    report = audit.verify_chain(checkpoints=[checkpoint])
    assert not report.ok and "removed" in report.problem and f"chain {last.chain}" in (
        report.problem)


@pytest.mark.django_db
def test_a_checkpoint_catches_a_rewritten_chain():
    events = _two_deep_chain()
    checkpoint = audit.make_checkpoint()
    prev = events[0].prev_hash
    with _Owner():  # the key holder edits an event and rehashes the rest of its chain
        for n, event in enumerate(events):
            if n == 1:
                event.object_repr = "forged"
            event.prev_hash = prev
            event.hash = prev = audit._event_hash(event)
            AuditEvent.objects.filter(pk=event.pk).update(
                object_repr=event.object_repr, prev_hash=event.prev_hash, hash=event.hash)
        AuditChainHead.objects.filter(pk=audit.head_pk(events[0].chain)).update(hash=prev)
    assert audit.verify_chain().ok
    report = audit.verify_chain(checkpoints=[checkpoint])
    assert not report.ok and "rewritten" in report.problem


@pytest.mark.django_db(transaction=True)  # each thread commits through its own connection
def test_concurrent_writers_on_several_chains_keep_every_chain_whole():
    writers, each = 4, 12
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        try:
            start.wait()
            _record([f"{n}-{i % 5}" for i in range(each)])
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert AuditEvent.objects.count() == writers * each
    assert len(set(AuditEvent.objects.values_list("seq", flat=True))) == writers * each
    for events in _by_chain().values():
        assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    report = audit.verify_chain()
    assert report.ok, report.problem
