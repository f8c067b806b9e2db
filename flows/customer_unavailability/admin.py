from django.contrib import admin

from flows.customer_unavailability.models import UnavailabilityPeriod
from hub.admin.audit import RecordAdmin


@admin.register(UnavailabilityPeriod)
class UnavailabilityPeriodAdmin(RecordAdmin):
    """Read-only: each period as DERMS last accepted it; its messages show how it got there."""

    list_display = (
        "unavailability_id",
        "nic_id",
        "head_end_system",
        "start",
        "end",
        "cancelled",
        "last_action",
        "updated_at",
    )
    list_filter = ("cancelled", "last_action", "head_end_system")
    search_fields = ("=unavailability_id", "=nic_id", "=cis_person_id")
    readonly_fields = [field.name for field in UnavailabilityPeriod._meta.fields]
    raw_id_fields = ("last_message",)
