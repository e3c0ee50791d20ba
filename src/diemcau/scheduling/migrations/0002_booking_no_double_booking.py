"""On PostgreSQL, the database itself refuses two held bookings of one endpoint that overlap
in time, whatever code path or process writes them. A range on the endpoint id stands in for
equality so that no extension (btree_gist) is needed."""

from django.db import migrations

CONSTRAINT = "scheduling_booking_endpoint_no_overlap"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: accept_meeting serializes writers and re-checks inside its transaction
    schema_editor.execute(
        f"""ALTER TABLE scheduling_booking ADD CONSTRAINT {CONSTRAINT}
            EXCLUDE USING gist (
                int8range(endpoint_id, endpoint_id, '[]') WITH &&,
                tstzrange(starts_at, ends_at, '[)') WITH &&
            ) WHERE (holds AND endpoint_id IS NOT NULL)"""
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE scheduling_booking DROP CONSTRAINT {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
