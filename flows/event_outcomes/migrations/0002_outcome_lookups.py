"""The contract's translation of DERMS's outcome codes to DACS's (flow 7), editable in the console."""

from django.db import migrations

OUTCOMES = {"PARTICIPATED": "D1SP", "CANCELLED": "D1CN", "ERROR": "D1ER", "OVERRIDDEN": "D1IO", "NON_RESPONSIVE": "D1ND"}


def forwards(apps, schema_editor):
    Lookup = apps.get_model("hub", "Lookup")
    for source, target in OUTCOMES.items():
        Lookup.objects.get_or_create(kind="event_outcome", source=source, defaults={"target": target})


def backwards(apps, schema_editor):
    apps.get_model("hub", "Lookup").objects.filter(kind="event_outcome", source__in=OUTCOMES).delete()


class Migration(migrations.Migration):
    dependencies = [("event_outcomes", "0001_initial"), ("hub", "0002_groups_lookups_schedules")]
    operations = [migrations.RunPython(forwards, backwards)]
