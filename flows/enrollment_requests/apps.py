from django.apps import AppConfig


class EnrollmentRequestsConfig(AppConfig):
    name = "flows.enrollment_requests"
    label = "enrollment_requests"
    verbose_name = "Enrollment requests"
