"""The messages list and the message page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from hub.admin import detail
from hub.admin.actions import bulk_action, message_action_view
from hub.admin.filters import AttentionFilter, FlowFilter
from hub.admin.search import messages_matching
from hub.models import Item, Message, System

LIST_DEFERRED = ("raw_body", "headers", "errors", "ack", "reply_body")
COUNTED = {
    "n_items": (),
    "n_success": (Item.Status.SUCCESS,),
    "n_error": (Item.Status.ERROR,),
    "n_failure": (Item.Status.FAILURE,),
    "n_open": Item.OPEN,
    "n_cancelled": (Item.Status.CANCELLED,),
}


def item_count(statuses: tuple) -> Coalesce:
    """Items of the row's message in `statuses`, as a correlated subquery on the (message, status) index."""
    items = Item.objects.filter(message=OuterRef("pk"))
    if statuses:
        items = items.filter(status__in=statuses)
    counted = items.order_by().values("message").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class MessageChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        first = Item.objects.filter(message=OuterRef("pk")).order_by("seq")
        return queryset.defer(*LIST_DEFERRED).annotate(
            **{name: item_count(statuses) for name, statuses in COUNTED.items()},
            first_key=Subquery(first.values("key")[:1]),
            first_nic=Subquery(first.values("nic_id")[:1]),
            first_external=Subquery(first.values("external_id")[:1]),
        )


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "flow",
        "direction",
        "status",
        "message_key",
        "business_keys",
        "items_shown",
        "received_at",
        "finished_at",
    )
    list_display_links = ("id", "message_key")
    list_filter = (FlowFilter, "status", AttentionFilter, ("received_at", admin.DateFieldListFilter))
    search_fields = ("=message_key",)
    search_help_text = (
        "Exact match on any business key: message id, tracking id, request id, nicId, enrollment id, "
        "event id, communication id, sync request id…"
    )
    show_full_result_count = False
    list_per_page = 50
    actions = [bulk_action("resubmit"), bulk_action("retry_failed"), bulk_action("discard")]
    change_form_template = "admin/hub/message/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tracking_id",
                    "flow",
                    "sender",
                    "sender_user",
                    "message_key",
                    "status",
                    "ack_type",
                    "reply_status",
                    "reply_attempts",
                    "received_at",
                    "started_at",
                    "finished_at",
                    "next_attempt_at",
                )
            },
        ),
        ("Request", {"fields": ("method", "path", "content_type", "remote_addr", "body_size", "http_status")}),
    )
    readonly_fields = [f for section in fieldsets for f in section[1]["fields"] if isinstance(f, str)]

    # --- the list ---------------------------------------------------------------
    def get_changelist(self, request, **kwargs):
        return MessageChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return messages_matching(queryset, search_term), False

    @admin.display(description="direction", ordering="sender")
    def direction(self, obj: Message) -> str:
        """Every flow passes through the hub from one partner to the other."""
        if not obj.sender:
            return "—"
        return f"{obj.sender} → {System.DACS if obj.sender == System.DERMS else System.DERMS}"

    @admin.display(description="business keys")
    def business_keys(self, obj: Message) -> str:
        parts = []
        for label, annotation in (("key", "first_key"), ("nicId", "first_nic"), ("id", "first_external")):
            if value := getattr(obj, annotation, None):
                parts.append((label, value))
        more = getattr(obj, "n_items", 0) - 1
        shown = format_html_join(" · ", "{}&nbsp;{}", parts)
        return format_html("{} (+{} more)", shown, more) if more > 0 and parts else shown

    @admin.display(description="items")
    def items_shown(self, obj: Message) -> str:
        labels = (
            ("n_success", "ok"),
            ("n_error", "error"),
            ("n_failure", "failed"),
            ("n_open", "open"),
            ("n_cancelled", "cancelled"),
        )
        counts = [(getattr(obj, name, 0), label) for name, label in labels if getattr(obj, name, 0)]
        return format_html(
            "{}: {}", getattr(obj, "n_items", 0), format_html_join(", ", "{} {}", counts) if counts else "—"
        )

    # --- permissions: the audit trail is read, never edited -------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_resubmit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("hub.resubmit_message")

    def has_discard_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("hub.discard_message")

    # --- the message page ---------------------------------------------------------
    def get_urls(self):
        def view(kind: str):
            return self.admin_site.admin_view(
                lambda request, object_id: message_action_view(self, request, object_id, kind)
            )

        own = [
            path("<path:object_id>/resubmit/", view("resubmit"), name="hub_message_resubmit"),
            path("<path:object_id>/retry-failed/", view("retry_failed"), name="hub_message_retry_failed"),
            path("<path:object_id>/discard/", view("discard"), name="hub_message_discard"),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if message is not None:
            extra.update(detail.message_context(request, message, self.admin_site))
            extra["can_resubmit"] = self.has_resubmit_permission(request)
            extra["can_discard"] = self.has_discard_permission(request)
            extra["action_urls"] = {
                name: reverse(f"admin:hub_message_{name}", args=[message.pk])
                for name in ("resubmit", "retry_failed", "discard")
            }
        return super().change_view(request, object_id, form_url, extra)
