"""Read-only pages of the audit trail (items, calls, timeline, emails) and the editable lookups."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from hub.models import Activity, Item, Lookup, Notification, OutboundCall


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the hub: everyone with view permission reads them, nobody edits them."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class RecordAdmin(ReadOnlyAdmin):
    """A flow's own record of its work (events, checks, syncs, score runs): not even a superuser deletes it here."""

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ("id", "message", "seq", "key", "nic_id", "external_id", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    list_select_related = ("message",)
    search_fields = ("=key", "=nic_id", "=external_id")
    raw_id_fields = ("message",)
    exclude = ("data",)
    readonly_fields = ("data_pretty",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("message__raw_body", "message__headers")

    @admin.display(description="data")
    def data_pretty(self, obj: Item) -> str:
        from django.utils.html import format_html

        from hub.admin.detail import pretty

        return format_html("<pre>{}</pre>", pretty(obj.data))


@admin.register(OutboundCall)
class OutboundCallAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "partner", "operation", "response_status", "outcome", "duration_ms", "message")
    list_filter = ("partner", "outcome")
    raw_id_fields = ("message", "item")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("message")
            .defer("message__raw_body", "message__headers", "request_body", "response_body")
        )


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "actor", "message", "text")
    # No filter by kind: listing the kinds in use would read the whole table.
    list_select_related = ("actor", "message")
    raw_id_fields = ("message",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("message__raw_body", "message__headers")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "subject", "error")
    list_filter = ("kind",)
    raw_id_fields = ("message",)


@admin.register(Lookup)
class LookupAdmin(admin.ModelAdmin):
    """Code translations; every change is kept in the page's history (Django's log entries)."""

    list_display = ("kind", "source", "target", "description")
    list_filter = ("kind",)
    search_fields = ("source", "target", "description")
