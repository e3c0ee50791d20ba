"""Meetings and bookings point at the MCU node in its new app (same table, state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mcu', '0001_initial'),
        ('scheduling', '0004_remove_booking_booking_node_window_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='meeting',
                    name='node',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='meetings', to='mcu.mcunode', verbose_name='MCU node'),
                ),
                migrations.AlterField(
                    model_name='booking',
                    name='node',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='mcu.mcunode'),
                ),
            ],
        ),
    ]
