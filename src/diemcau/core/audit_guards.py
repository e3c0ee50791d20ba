"""Database triggers that make the audit log append-only (R22).

UPDATE, DELETE (and on PostgreSQL TRUNCATE) of core_auditevent are refused on SQLite and
PostgreSQL alike, so not even code that bypasses the services — or hand-typed SQL — can
rewrite history. Only `remove()` (used by the test suite to empty its database between
tests) lifts them; `diemcau audit verify` would still see the gap in the chain.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

_SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete BEFORE DELETE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete;",
]
_POSTGRES_INSTALL = [
    """CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER core_auditevent_no_change
       BEFORE UPDATE OR DELETE ON core_auditevent
       FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_change();""",
    """CREATE OR REPLACE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse_change();""",
]
_POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_change ON core_auditevent;",
    "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;",
    "DROP FUNCTION IF EXISTS core_auditevent_refuse_change();",
]


def _run(connection: BaseDatabaseWrapper, by_vendor: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for statement in by_vendor.get(connection.vendor, []):
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"sqlite": _SQLITE_INSTALL, "postgresql": _POSTGRES_INSTALL})


def remove(connection: BaseDatabaseWrapper) -> None:
    _run(connection, {"sqlite": _SQLITE_REMOVE, "postgresql": _POSTGRES_REMOVE})
