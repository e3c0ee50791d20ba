"""A meeting's node rows hold each window and each technical check apart (KH Đ12.4a counts
what runs at the same time): rows written before, from the check to the end of the window,
are split into the windows and the checks' own windows."""

import datetime as dt

from django.db import migrations, models


def split_holds(apps, schema_editor):
    from diemcau.rulebooks import active_rulebook

    Booking = apps.get_model("scheduling", "Booking")
    Meeting = apps.get_model("scheduling", "Meeting")
    TechnicalCheck = apps.get_model("scheduling", "TechnicalCheck")
    length = dt.timedelta(minutes=active_rulebook().technical_check.check_minutes)
    held = Booking.objects.filter(endpoint__isnull=True, holds=True)
    for meeting in Meeting.objects.filter(pk__in=held.values("meeting_id")).iterator():
        rows = list(held.filter(meeting=meeting))
        windows = []
        if meeting.rehearsal_starts_at and meeting.rehearsal_ends_at:
            windows.append(("rehearsal", meeting.rehearsal_starts_at, meeting.rehearsal_ends_at))
        windows.append(("session", meeting.starts_at, meeting.ends_at))
        dues = sorted(set(TechnicalCheck.objects.filter(meeting=meeting)
                          .values_list("kind", "due_at")))
        windows += [("check", due - length, due) for _, due in dict(dues).items()]
        new = [
            Booking(meeting=meeting, kind=kind, node_id=rows[0].node_id, starts_at=start,
                    ends_at=end, endpoints_count=rows[0].endpoints_count,
                    needs_mixer=any(row.needs_mixer for row in rows))
            for kind, start, end in windows
        ]
        Booking.objects.filter(pk__in=[row.pk for row in rows]).delete()
        Booking.objects.bulk_create(new)


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0007_merge_proposed_time_and_upstream"),
    ]

    operations = [
        migrations.AlterField(
            model_name="booking",
            name="kind",
            field=models.CharField(
                choices=[("rehearsal", "Rehearsal"), ("session", "Official session"),
                         ("check", "Technical check")],
                max_length=10,
            ),
        ),
        migrations.RunPython(split_holds, migrations.RunPython.noop),
    ]
