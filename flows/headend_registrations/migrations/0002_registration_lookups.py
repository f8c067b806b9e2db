"""The contract's translations of DERMS's head-end registration to DACS's code (editable in the console)."""

from django.db import migrations

KIND = "headend_registration"
CODES = {"REGISTERED": "D1RE", "DEREGISTERED": "D1DR", "NOT_REGISTERED": "D1NR"}


def forwards(apps, schema_editor):
    Lookup = apps.get_model("hub", "Lookup")
    for source, target in CODES.items():
        Lookup.objects.get_or_create(kind=KIND, source=source, defaults={"target": target})


def backwards(apps, schema_editor):
    apps.get_model("hub", "Lookup").objects.filter(kind=KIND, source__in=CODES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("headend_registrations", "0001_initial"),
        ("hub", "0002_groups_lookups_schedules"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
