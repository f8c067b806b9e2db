"""Read-only console pages for outcome messages and each device's outcome in its event."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from flows.device_reservations.models import EventDevice
from flows.event_outcomes.models import DeviceOutcome, OutcomeReport
from flows.event_outcomes.outcomes import event_outcome_counts
from hub.admin.audit import RecordAdmin


@admin.register(OutcomeReport)
class OutcomeReportAdmin(RecordAdmin):
    list_display = ("event_id", "message", "device_count", "collection_size", "prepared", "dacs_down_since")
    list_filter = ("prepared",)
    list_select_related = ("message",)
    search_fields = ("=event_id",)
    raw_id_fields = ("message",)
    readonly_fields = (
        "event_id",
        "message",
        "device_count",
        "collection_size",
        "prepared",
        "dacs_down_since",
        "health_checks",
        "outcomes_by_state",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("message__raw_body", "message__headers")

    @admin.display(description="the event's device outcomes")
    def outcomes_by_state(self, obj: OutcomeReport) -> str:
        counts = event_outcome_counts(event_id=obj.event_id)
        return ", ".join(f"{state.lower()}: {n}" for state, n in sorted(counts.items())) or "none"


@admin.register(DeviceOutcome)
class DeviceOutcomeAdmin(RecordAdmin):
    list_display = ("nic_id", "head_end_system", "event_id", "record_id", "outcome", "state", "error", "updated_at")
    list_filter = ("state", "outcome")
    search_fields = ("=nic_id", "=event_id")
    search_help_text = "Exact nicId, or an event's eventId for all its devices."
    raw_id_fields = ("message",)
    readonly_fields = (
        "event_id",
        "nic_id",
        "head_end_system",
        "record_id",
        "outcome",
        "participation_start",
        "participation_end",
        "error_message",
        "state",
        "error",
        "message",
        "seq",
        "updated_at",
        "reservation",
    )

    def get_search_results(self, request, queryset, search_term):
        """A nicId or an eventId, each by its own index rather than an OR the planner may not split."""
        term = search_term.strip()
        if not term:
            return queryset, False
        by_nic = queryset.filter(nic_id=term)
        if by_nic.exists():
            return by_nic, False
        return queryset.filter(event_id=term), False

    @admin.display(description="reservation in the event")
    def reservation(self, obj: DeviceOutcome) -> str:
        device = (
            EventDevice.objects.filter(
                event__event_id=obj.event_id, nic_id=obj.nic_id, head_end_system=obj.head_end_system
            )
            .only("id", "state")
            .first()
        )
        if device is None:
            return "none known"
        url = reverse("admin:device_reservations_eventdevice_change", args=[device.pk])
        return format_html('<a href="{}">{}</a>', url, device.state)
