"""The messages list and the message page."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.urls import path
from django.utils.html import format_html

from hub.admin import detail
from hub.admin.actions import bulk_action, message_action_view, message_actions_context
from hub.admin.audit import TimelineHistory
from hub.admin.filters import AttentionFilter, FailedItemsFilter, FlowFilter, StatusFilter
from hub.admin.people import SenderAccount
from hub.admin.search import messages_matching
from hub.models import Item, Message
from hub.why import cell, messages_why, when_cell

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

LIST_DEFERRED = ("raw_body", "headers", "errors", "ack", "reply_body")


class FirstItemKeys(TypedDict):
    """The keys of a message's first item, which the list's rows carry."""

    first_key: str | None
    first_nic: str | None
    first_external: str | None


class MessageChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        first = Item.objects.filter(message=OuterRef("pk")).order_by("seq")
        return queryset.defer(*LIST_DEFERRED).annotate(
            first_key=Subquery(first.values("key")[:1]),
            first_nic=Subquery(first.values("nic_id")[:1]),
            first_external=Subquery(first.values("external_id")[:1]),
        )

    def get_results(self, request):
        """The page's rows, each with why it is where it is (a few queries for the whole page)."""
        super().get_results(request)
        self.result_list = list(self.result_list)
        reasons = messages_why(self.result_list)
        for message in self.result_list:
            message.why = reasons[message.id]


@admin.register(Message)
class MessageAdmin(TimelineHistory, SenderAccount, admin.ModelAdmin):
    # Fits 1400 px beside the menu and the filters: one line per message, long text cut with its title.
    # The flow is in the message's title and in the filters: its column would leave the reason no room.
    list_display = ("message_shown", "status_shown", "why_shown", "business_keys", "received")
    list_display_links = ("message_shown",)
    list_filter = (
        FlowFilter,
        StatusFilter,
        AttentionFilter,
        ("received_at", admin.DateFieldListFilter),
        FailedItemsFilter,
    )
    search_fields = ("=message_key",)
    search_help_text = (
        "Exact match on any business key: message id, tracking id, request id, nicId, enrollment id, "
        "event id, communication id, sync request id…"
    )
    show_full_result_count = False
    list_per_page = 50
    change_list_template = "admin/hub/message/change_list.html"
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
                    "next_attempt",
                )
            },
        ),
        (
            "Request",
            {
                "fields": ("method", "path", "content_type", "remote_addr", "body_size", "http_status"),
                "classes": ("collapse",),
            },
        ),
    )
    readonly_fields = [f for section in fieldsets for f in section[1]["fields"] if isinstance(f, str)]

    # --- the list ---------------------------------------------------------------
    def get_changelist(self, request, **kwargs):
        return MessageChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return messages_matching(queryset, search_term), False

    @admin.display(description="message", ordering="-id")
    def message_shown(self, obj: Message) -> str:
        key = obj.message_key or str(obj.tracking_id)
        return format_html('<span class="cut" title="{}: {}">{}</span>', obj.flow.replace("_", " "), key, key)

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj: Message) -> str:
        return obj.why.badge()

    @admin.display(description="why")
    def why_shown(self, obj: Message) -> str:
        """The reason for anything not succeeded; the item count otherwise."""
        if obj.why.text:
            return cell(obj.why.text)
        total = obj.why.total
        return cell(f"{total} item{'s' if total != 1 else ''}", "cut quiet") if total else ""

    @admin.display(description="business keys")
    def business_keys(self, obj: WithAnnotations[Message, FirstItemKeys]) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (("nicId", obj.first_nic), ("id", obj.first_external), ("key", obj.first_key))
            if value
        ]
        more = obj.why.total - 1
        text = " · ".join(parts)
        return cell(f"{text} (+{more} more)" if more > 0 and parts else text)

    @admin.display(description="received", ordering="received_at")
    def received(self, obj: Message) -> str:
        return when_cell(obj.received_at)

    @admin.display(description="next attempt at")
    def next_attempt(self, obj: Message):
        """The message's own retry (its reply), or else its records' soonest one."""
        if obj.next_attempt_at:
            return obj.next_attempt_at
        soonest = obj.items.filter(status=Item.Status.RETRY).order_by("next_attempt_at").first()
        return soonest.next_attempt_at if soonest and soonest.next_attempt_at else "—"

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
            extra.update(message_actions_context(self, request, message))
        return super().change_view(request, object_id, form_url, extra)
