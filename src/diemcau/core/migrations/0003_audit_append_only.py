from django.db import migrations

from diemcau.core import audit_guards


def forwards(apps, schema_editor):
    audit_guards.install(schema_editor.connection)


def backwards(apps, schema_editor):
    audit_guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
