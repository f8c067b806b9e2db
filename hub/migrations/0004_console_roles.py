"""Permissions of the console's groups: `Business users` view, `Support` also resubmit, discard, edit lookups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from hub.admin.roles import roles_grant


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations; the grant needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    roles_grant(Group=apps.get_model("auth", "Group"), Permission=apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0003_console_indexes_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
