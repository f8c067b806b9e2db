from django.contrib import admin

from hub.models import Activity, Item, Lookup, Message, Notification, OutboundCall


class ItemInline(admin.TabularInline):
    model = Item
    fields = ("seq", "key", "nic_id", "status", "attempts", "external_id", "message_number", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "flow", "sender", "message_key", "status", "ack_type", "finished_at")
    list_filter = ("flow", "status")
    search_fields = ("=message_key", "=tracking_id", "=items__key", "=items__nic_id", "=items__external_id")
    show_full_result_count = False
    inlines = [ItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw_body")


admin.site.register([Item, OutboundCall, Lookup, Activity, Notification])
