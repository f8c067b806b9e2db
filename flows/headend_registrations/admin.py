from django.contrib import admin

from flows.headend_registrations.models import DeviceRegistration
from hub.admin.audit import RecordAdmin


@admin.register(DeviceRegistration)
class DeviceRegistrationAdmin(RecordAdmin):
    """Read-only: each device's latest registration as DERMS reported it; its report links the message."""

    list_display = ("nic_id", "head_end_system", "device_id", "registration", "sync_request_id", "reported_at")
    list_filter = ("registration", "head_end_system")
    search_fields = ("=nic_id", "=device_id", "=sync_request_id")
    readonly_fields = [field.name for field in DeviceRegistration._meta.fields]
    raw_id_fields = ("report",)
