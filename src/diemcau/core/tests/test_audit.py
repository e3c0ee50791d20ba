import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from diemcau.core import audit, audit_guards
from diemcau.core.models import AuditEvent
from diemcau.core.request_context import acting_from
from diemcau.testing.factories import AgencyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_chain")]


def _record(n: int, actor=None) -> None:
    agency = AgencyFactory()
    for i in range(n):
        with transaction.atomic():
            audit.record("test.event", agency, actor=actor, before={"i": i}, after={"i": i + 1})


def test_events_form_a_verifiable_chain():
    user = UserFactory()
    with acting_from("203.0.113.7"):
        _record(3, actor=user)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].ip == "203.0.113.7"
    assert events[2].actor_username == user.username
    assert audit.verify_chain().ok
    assert audit.verify_chain().checked == 3


@pytest.mark.django_db(transaction=True)  # autocommit: no test transaction around the call
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit.record("test.event", None, actor=None, object_type="x", object_id="1")


def test_database_refuses_update_and_delete():
    _record(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == "test.event"


def test_verify_detects_an_edit_made_behind_the_triggers():
    _record(3)
    audit_guards.remove(connection)
    AuditEvent.objects.filter(seq=2).update(after={"i": 999})
    audit_guards.install(connection)
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 2
    assert report.checked == 1


def test_verify_detects_removed_events():
    _record(3)
    audit_guards.remove(connection)
    AuditEvent.objects.filter(seq=3).delete()
    audit_guards.install(connection)
    assert not audit.verify_chain().ok


def test_secrets_are_left_out_of_snapshots():
    user = UserFactory()
    data = audit.snapshot(user)
    assert "password" not in data
    assert data["username"] == user.username


def test_audit_verify_command(capsys):
    _record(2)
    call_command("audit", "verify")
    assert "OK: 2" in capsys.readouterr().out
    audit_guards.remove(connection)
    AuditEvent.objects.filter(seq=1).update(action="forged")
    audit_guards.install(connection)
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


def _actions() -> list[tuple[str, str]]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", "object_id"))


def test_events_join_the_chain_as_the_transaction_ends_less_those_rolled_back():
    """The head is taken only as the service's outermost block ends; what a rolled-back
    savepoint recorded is dropped with it, in order and without a gap in the chain."""
    with transaction.atomic():
        audit.record("test.kept", None, actor=None, object_type="t", object_id="1")
        assert _actions() == []  # not linked yet: the head is not locked mid-transaction
        with pytest.raises(ValueError), transaction.atomic():
            audit.record("test.dropped", None, actor=None, object_type="t", object_id="2")
            raise ValueError
        with transaction.atomic():  # an inner block that succeeds keeps its event
            audit.record("test.kept", None, actor=None, object_type="t", object_id="3")
    assert _actions() == [("test.kept", "1"), ("test.kept", "3")]

    with pytest.raises(ValueError), transaction.atomic():
        audit.record("test.dropped", None, actor=None, object_type="t", object_id="4")
        raise ValueError
    with transaction.atomic():
        audit.record("test.kept", None, actor=None, object_type="t", object_id="5")
    assert _actions() == [("test.kept", "1"), ("test.kept", "3"), ("test.kept", "5")]
    assert [e.seq for e in AuditEvent.objects.order_by("seq")] == [1, 2, 3]
    assert audit.verify_chain().ok
