"""Several writers at once (threads with their own database connections) still produce one
unbroken chain: the chain head row is locked inside each writer's transaction."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from diemcau.core import audit
from diemcau.core.models import AuditEvent

WRITERS = 4
EVENTS_EACH = 15


@pytest.mark.django_db(transaction=True)  # each thread commits through its own connection
@pytest.mark.usefixtures("one_chain")
def test_concurrent_writers_keep_the_chain_whole():
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                with transaction.atomic():
                    audit.record(
                        "test.concurrent",
                        None,
                        actor=None,
                        object_type="test",
                        object_id=f"{n}-{i}",
                        after={"writer": n, "i": i},
                    )
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EVENTS_EACH + 1))
    report = audit.verify_chain()
    assert report.ok, report.problem
