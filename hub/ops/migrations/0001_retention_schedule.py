"""The daily retention purge (hub/retention.py) as a django-q2 schedule, editable in the admin."""

from django.db import migrations

NAME = "hub retention purge"


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={"func": "hub.retention.retention_purge_task", "schedule_type": "D", "repeats": -1},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(forwards, backwards)]
