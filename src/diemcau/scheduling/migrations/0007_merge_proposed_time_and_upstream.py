# Joins the two 0006 migrations: the proposed time of a refusal and the upstream link with
# mixers. Neither touches the other's fields, so the merge has no operations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0006_meeting_proposed_time'),
        ('scheduling', '0006_meeting_upstream_link_and_mixers'),
    ]

    operations = []
