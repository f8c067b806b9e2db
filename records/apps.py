from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    label = "records"
    verbose_name = "Enrollments and devices"
    default_auto_field = "django.db.models.BigAutoField"
