from django.apps import AppConfig


class EnrollmentSyncConfig(AppConfig):
    name = "flows.enrollment_sync"
    label = "enrollment_sync"
    verbose_name = "Enrollment synchronisation"
