import pytest
from django.db import connection

from diemcau.core import audit


@pytest.fixture
def one_chain(settings):
    """The single chain of before (as on SQLite), numbered from 1 in each test: PostgreSQL's
    sequence of event numbers is not rolled back with a test's transaction."""
    settings.AUDIT_CHAINS = 1
    restart_event_numbers()


def restart_event_numbers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval('{audit.GLOBAL_SEQUENCE}', COALESCE("
                           "(SELECT max(seq) FROM core_auditevent), 0) + 1, false)")
