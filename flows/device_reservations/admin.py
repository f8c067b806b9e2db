"""Read-only console pages for program events and their devices' reservation state."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from hub.admin.audit import RecordAdmin

STATES = [state for state, _label in EventDevice.State.choices]


def device_count(state: str | None = None):
    devices = EventDevice.objects.filter(event=OuterRef("pk"))
    if state:
        devices = devices.filter(state=state)
    return Coalesce(Subquery(devices.order_by().values("event").annotate(n=Count("*")).values("n")), 0)


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
class ProgramEventAdmin(RecordAdmin):
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The event's status history, device counts and opt-outs (records/console.py)."""
        from records.console import event_panels

        event = self.get_object(request, object_id)
        extra = event_panels(event) if event is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_queryset(self, request):
        # Correlated counts are computed for the events on the page only, each
        # from the (event, state) index, rather than grouping every device of
        # every event before the page is cut.
        counts = {f"n_{s.lower()}": device_count(state=s) for s in STATES}
        return super().get_queryset(request).annotate(n_devices=device_count(), **counts)

    @admin.display(description="devices")
    def n_devices(self, obj: ProgramEvent) -> int:
        return getattr(obj, "n_devices", 0)  # annotated by get_queryset

    n_pending = state_count("PENDING")
    n_reserved = state_count("RESERVED")
    n_error = state_count("ERROR")
    n_failed = state_count("FAILED")
    n_cancelled = state_count("CANCELLED")
    n_opted_out = state_count("OPTED_OUT")


@admin.register(EventDevice)
class EventDeviceAdmin(RecordAdmin):
    list_display = ("nic_id", "head_end_system", "event", "record_id", "state", "start", "end", "error", "updated_at")
    list_filter = ("state",)
    list_select_related = ("event",)
    search_fields = ("=nic_id",)
    raw_id_fields = ("event", "message")
    search_help_text = "Exact nicId, or an event's eventId for all its devices."

    def get_search_results(self, request, queryset, search_term):
        """A nicId or an eventId, both by index: the event is looked up first instead of an OR across a join."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(nic_id=term)
        event = ProgramEvent.objects.filter(event_id=term).values_list("id", flat=True).first()
        if event is not None:
            match |= Q(event_id=event)
        return queryset.filter(match), False

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
