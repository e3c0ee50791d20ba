"""The audit log is spread over several independent chains (core.audit, R22): each event has
its chain and its place in it. The events written so far are chain 0, their place equal to
their number, so their hashes are those they were written with; nothing is re-hashed. On
PostgreSQL a sequence numbers the events of every chain, starting after the last one."""

from django.db import migrations, models

from diemcau.core import audit, audit_guards


def place_existing_events(apps, schema_editor):
    connection = schema_editor.connection
    # Only the new column is filled: the append-only guards are lifted for this statement
    # and put back at once, in the migration's transaction.
    audit_guards.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET chain = 0, chain_seq = seq")
    audit_guards.install(connection)


def number_sequence(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {audit.GLOBAL_SEQUENCE}")
        cursor.execute(f"SELECT setval('{audit.GLOBAL_SEQUENCE}', "
                       "COALESCE((SELECT max(seq) FROM core_auditevent), 0) + 1, false)")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {audit.GLOBAL_SEQUENCE}")


def guards(apps, schema_editor):
    # SQLite rebuilds the table to add a column, and the rebuilt table has no triggers.
    audit_guards.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_chain_keyed")]
    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.RunPython(guards, migrations.RunPython.noop),
        migrations.RunPython(place_existing_events, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("chain", "chain_seq"),
                                               name="core_auditevent_place"),
        ),
        migrations.RunPython(guards, migrations.RunPython.noop),
        migrations.RunPython(number_sequence, drop_sequence),
    ]
