"""MCU nodes move from the `media` app to their own app, which booking and the live plane
both stand on. The table is renamed; no row changes."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('media', '0003_live_participation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE media_mcunode RENAME TO mcu_mcunode",
                    reverse_sql="ALTER TABLE mcu_mcunode RENAME TO media_mcunode",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name='McuNode',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, unique=True, verbose_name='name')),
                        ('max_meetings', models.PositiveIntegerField(verbose_name='maximum concurrent meetings')),
                        ('max_endpoints', models.PositiveIntegerField(verbose_name='maximum connected endpoints')),
                        ('is_active', models.BooleanField(default=True, verbose_name='in service')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('janus_url', models.URLField(blank=True, help_text='http://127.0.0.1:8088/janus', verbose_name='Janus API URL')),
                        ('admin_url', models.URLField(blank=True, help_text='http://127.0.0.1:7088/admin', verbose_name='Janus admin API URL')),
                        ('ws_url', models.CharField(blank=True, help_text='wss://mcu.example.gov.vn/janus-ws', max_length=200, validators=[django.core.validators.URLValidator(schemes=['ws', 'wss'])], verbose_name='WebSocket URL for browsers')),
                        ('api_secret', models.CharField(blank=True, max_length=200, verbose_name='Janus API secret')),
                        ('admin_secret', models.CharField(blank=True, max_length=200, verbose_name='admin API secret')),
                        ('room_admin_secret', models.CharField(blank=True, max_length=200, verbose_name='room admin key')),
                        ('health', models.CharField(choices=[('unknown', 'Not checked yet'), ('up', 'Answering'), ('down', 'Not answering')], default='unknown', max_length=10, verbose_name='health')),
                        ('health_checked_at', models.DateTimeField(blank=True, null=True, verbose_name='last checked')),
                        ('last_seen_at', models.DateTimeField(blank=True, null=True, verbose_name='last answered')),
                        ('last_error', models.TextField(blank=True, verbose_name='last error')),
                    ],
                    options={
                        'verbose_name': 'MCU node',
                        'verbose_name_plural': 'MCU nodes',
                        'db_table': 'mcu_mcunode',
                        'ordering': ['name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('max_meetings__gte', 1), ('max_endpoints__gte', 1)), name='mcunode_capacity_positive')],
                    },
                ),
            ],
        ),
    ]
