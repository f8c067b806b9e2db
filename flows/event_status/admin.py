"""Read-only console pages for each event's status and its history of status updates."""

from __future__ import annotations

from django.contrib import admin

from flows.event_status.models import EventState, StatusUpdate
from hub.admin.audit import RecordAdmin


class StatusUpdateInline(admin.TabularInline):
    """The event's status history, in the order the updates arrived (refused ones included)."""

    model = StatusUpdate
    fields = ("created_at", "seq", "stage_id", "status", "status_at", "state", "error", "message")
    readonly_fields = fields
    ordering = ("id",)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message").defer("message__raw_body", "message__headers")


@admin.register(EventState)
class EventStateAdmin(RecordAdmin):
    list_display = ("event_id", "status", "status_at", "applied_status", "program_code", "event_type", "start", "end")
    list_filter = ("status", "applied_status", "event_type")
    search_fields = ("=event_id",)
    inlines = [StatusUpdateInline]
    readonly_fields = (
        "event_id",
        "status",
        "status_at",
        "applied_status",
        "applied_at",
        "stage_id",
        "program_code",
        "event_type",
        "start",
        "end",
        "accepted_count",
        "updated_at",
    )


@admin.register(StatusUpdate)
class StatusUpdateAdmin(RecordAdmin):
    list_display = ("event_key", "seq", "stage_id", "status", "status_at", "state", "message_key", "created_at")
    list_filter = ("state", "status")
    ordering = ("-id",)
    list_select_related = ("event", "message")
    search_fields = ("=event__event_id", "=stage_id", "=message__message_key")
    search_help_text = "Exact eventId, stageId or messageId."
    raw_id_fields = ("event", "message")
    readonly_fields = ("event", "message", "seq", "stage_id", "status", "status_at", "state", "error", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("message__raw_body", "message__headers")

    @admin.display(description="eventId", ordering="event__event_id")
    def event_key(self, obj: StatusUpdate) -> str:
        return obj.event.event_id

    @admin.display(description="messageId")
    def message_key(self, obj: StatusUpdate) -> str:
        return obj.message.message_key
