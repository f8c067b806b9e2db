"""Read-only console pages for program events and their devices' reservation state."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.http import HttpRequest

from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation

STATES = [state for state, _label in EventDevice.State.choices]


class ReadOnly(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def state_count(state: str):
    @admin.display(description=state.lower())
    def count(self, obj: ProgramEvent) -> int:
        return getattr(obj, f"n_{state.lower()}")

    return count


class ReservationInline(admin.TabularInline):
    model = Reservation
    fields = ("message", "device_count", "collection_size", "prepared", "dacs_down_since")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message").defer("message__raw_body")


@admin.register(ProgramEvent)
class ProgramEventAdmin(ReadOnly):
    list_display = (
        "event_id",
        "event_type",
        "status",
        "start",
        "end",
        "n_devices",
        *[f"n_{s.lower()}" for s in STATES],
    )
    list_filter = ("status", "event_type")
    search_fields = ("=event_id",)
    date_hierarchy = "start"
    inlines = [ReservationInline]
    readonly_fields = (
        "event_id",
        "event_type",
        "program_code",
        "start",
        "end",
        "status",
        "cancel_reason",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        counts = {f"n_{s.lower()}": Count("devices", filter=Q(devices__state=s)) for s in STATES}
        return super().get_queryset(request).annotate(n_devices=Count("devices"), **counts)

    @admin.display(description="devices")
    def n_devices(self, obj: ProgramEvent) -> int:
        return obj.n_devices

    n_pending = state_count("PENDING")
    n_reserved = state_count("RESERVED")
    n_error = state_count("ERROR")
    n_failed = state_count("FAILED")
    n_cancelled = state_count("CANCELLED")


@admin.register(EventDevice)
class EventDeviceAdmin(ReadOnly):
    list_display = ("nic_id", "head_end_system", "event", "record_id", "state", "start", "end", "error", "updated_at")
    list_filter = ("state",)
    list_select_related = ("event",)
    search_fields = ("=nic_id", "=event__event_id")
    raw_id_fields = ("event", "message")
    readonly_fields = (
        "event",
        "nic_id",
        "head_end_system",
        "record_id",
        "start",
        "end",
        "state",
        "error",
        "message",
        "seq",
        "updated_at",
    )
