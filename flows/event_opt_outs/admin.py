from django.contrib import admin

from flows.event_opt_outs.models import EventOptOut
from hub.admin.audit import RecordAdmin


@admin.register(EventOptOut)
class EventOptOutAdmin(RecordAdmin):
    """Read-only: the hub writes these rows; support staff act on the messages they link to."""

    list_display = ("opt_out_id", "event_id", "nic_id", "head_end_system", "state", "opted_out_at", "decided_at")
    list_filter = ("state", "head_end_system")
    search_fields = ("=opt_out_id", "=event_id", "=nic_id", "=cis_person_id")
    readonly_fields = [field.name for field in EventOptOut._meta.fields]
    raw_id_fields = ("message",)
