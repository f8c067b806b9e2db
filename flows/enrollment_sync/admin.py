from django.contrib import admin

from flows.enrollment_sync.models import EnrollmentSync
from hub.admin.audit import RecordAdmin


@admin.register(EnrollmentSync)
class EnrollmentSyncAdmin(RecordAdmin):
    """Read-only: the hub writes these rows; support staff act on the messages they link to."""

    list_display = (
        "sync_request_id",
        "action",
        "cis_person_id",
        "program_code",
        "state",
        "ack_mode",
        "derms_ack_type",
        "received_at",
        "acknowledged_at",
        "overdue_at",
        "dacs_status",
        "dacs_acked_at",
    )
    list_filter = (
        "state",
        "action",
        "ack_mode",
        "derms_ack_type",
        "dacs_status",
        ("overdue_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("=sync_request_id", "=cis_person_id", "=subscription_id", "=service_point_id")
    readonly_fields = [field.name for field in EnrollmentSync._meta.fields]
    raw_id_fields = ("sync_message", "ack_message")
