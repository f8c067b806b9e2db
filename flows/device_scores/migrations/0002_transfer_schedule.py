"""The transfer schedule (every SCORE_SCHEDULE_MINUTES, 15 by default); support
staff change its interval or pause it in the admin, and a later migrate keeps
their change."""

from django.conf import settings
from django.db import migrations

NAME = "device score files transfer"


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={
            "func": "flows.device_scores.tasks.transfer_scheduled",
            "schedule_type": "I",
            "minutes": settings.SCORE_SCHEDULE_MINUTES,
            "repeats": -1,
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("device_scores", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
