from django.contrib import admin

from flows.enrollment_sync.models import EnrollmentSync


@admin.register(EnrollmentSync)
class EnrollmentSyncAdmin(admin.ModelAdmin):
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
    show_full_result_count = False
    readonly_fields = [field.name for field in EnrollmentSync._meta.fields]
    raw_id_fields = ("sync_message", "ack_message")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
