"""The contract's program event categories: DERMS's event type → DACS's programEventCategory."""

from django.db import migrations

CATEGORIES = {"ECONOMIC": "X1EC", "EMERGENCY": "X1EM", "RELIABILITY": "X1RE", "DEVICE_TEST": "X1DT"}


def forwards(apps, schema_editor):
    Lookup = apps.get_model("hub", "Lookup")
    for source, target in CATEGORIES.items():
        Lookup.objects.get_or_create(kind="program_event_category", source=source, defaults={"target": target})


def backwards(apps, schema_editor):
    apps.get_model("hub", "Lookup").objects.filter(kind="program_event_category").delete()


class Migration(migrations.Migration):
    dependencies = [("event_status", "0001_initial"), ("hub", "0002_groups_lookups_schedules")]
    operations = [migrations.RunPython(forwards, backwards)]
