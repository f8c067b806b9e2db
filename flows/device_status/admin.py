from django.contrib import admin

from flows.device_status.models import StatusCheck
from hub.admin.audit import RecordAdmin


@admin.register(StatusCheck)
class StatusCheckAdmin(RecordAdmin):
    """Read-only: the hub writes these rows; support staff act on the messages they link to."""

    list_display = (
        "communication_id",
        "nic_id",
        "state",
        "late",
        "asked_at",
        "forwarded_at",
        "answered_at",
        "timed_out_at",
        "response_code",
        "dacs_result",
        "dacs_updated_at",
    )
    list_filter = ("state", "late", "response_code", "dacs_result", "reason")
    search_fields = ("=communication_id", "=nic_id")
    readonly_fields = [field.name for field in StatusCheck._meta.fields]
    raw_id_fields = ("check_message", "response_message")
