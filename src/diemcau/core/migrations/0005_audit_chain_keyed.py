"""The audit chain is keyed from here on (R22): events written before keep their plain SHA-256
hashes, and one keyed `audit.chain_keyed` event seals them (its hash covers theirs), so that
`diemcau audit verify` accepts them only as the chain's beginning. Nothing is rewritten."""

from django.db import migrations

from diemcau.core import audit


def seal(apps, schema_editor):
    audit.seal_unkeyed_events(apps.get_model("core", "AuditEvent"),
                              apps.get_model("core", "AuditChainHead"))


class Migration(migrations.Migration):
    dependencies = [("core", "0004_user_language")]
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
