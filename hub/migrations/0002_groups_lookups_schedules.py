"""Groups of the console and of the partner systems, the contract's default
code translations, and the sweeper schedule."""

from django.db import migrations

GROUPS = ["DERMS", "DACS", "Business users", "Support"]

LOOKUPS = {
    "installation_method": {"BRING_YOUR_OWN": "X1SI", "SHIP_DEVICE": "X1SD", "UTILITY_INSTALLED": "X1UI"},
    "asset_ownership": {"CUSTOMER_OWNED": "W1CO", "UTILITY_OWNED": "W1OW"},
    "asset_type": {"THERMOSTAT": "X1TH", "EV_CHARGER": "X1EV", "BATTERY": "X1BT", "WATER_HEATER": "X1WH"},
    "asset_specification": {"ECOBEE!SMART-PREMIUM": "ECOBEE-SMART-PREMIUM"},
    "event_type": {"ECONOMIC": "X1EC", "EMERGENCY": "X1EM"},
}


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Lookup = apps.get_model("hub", "Lookup")
    Schedule = apps.get_model("django_q", "Schedule")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    for kind, pairs in LOOKUPS.items():
        for source, target in pairs.items():
            Lookup.objects.get_or_create(kind=kind, source=source, defaults={"target": target})
    Schedule.objects.get_or_create(
        name="hub sweeper",
        defaults={"func": "hub.processing.sweep", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="hub sweeper").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
