"""SLA targets in seconds (a chat first response may be 30 s): the column is renamed and
every existing target's minutes become seconds."""

from django.db import migrations, models
from django.db.models import F


def minutes_to_seconds(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("sla", "SlaTarget").objects.update(seconds=F("seconds") * 60)


def seconds_to_minutes(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("sla", "SlaTarget").objects.update(seconds=F("seconds") / 60)


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_overdue_breaches")]

    operations = [
        migrations.RenameField(model_name="slatarget", old_name="minutes", new_name="seconds"),
        migrations.AlterField(
            model_name="slatarget",
            name="seconds",
            field=models.PositiveIntegerField(verbose_name="时限（营业秒数）"),
        ),
        migrations.RunPython(minutes_to_seconds, seconds_to_minutes),
    ]
