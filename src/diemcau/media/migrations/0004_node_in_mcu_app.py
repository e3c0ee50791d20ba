"""Rooms and participations point at the MCU node in its new app (same table, state only);
the node model leaves this app."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mcu', '0001_initial'),
        ('media', '0003_live_participation'),
        ('scheduling', '0005_node_in_mcu_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='room',
                    name='node',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rooms', to='mcu.mcunode'),
                ),
                migrations.AlterField(
                    model_name='participation',
                    name='node',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mcu.mcunode'),
                ),
                migrations.DeleteModel(name='McuNode'),
            ],
        ),
    ]
