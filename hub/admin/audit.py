"""Read-only pages of the audit trail (items, calls, timeline, emails) and the editable lookups."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from hub.admin.detail import pretty
from hub.admin.filters import StatusFilter
from hub.models import Activity, Item, Lookup, Notification, OutboundCall
from hub.notify import emails_send_again
from hub.why import cell, email_why, items_why, status_badge, when_cell

# Timeline entries that are someone's decision (in the console or with manage.py), not the hub's own steps.
ACTION_KINDS = ("resubmitted", "retry_failed", "discarded")
HISTORY_SHOWN = 500


class TimelineHistory(admin.ModelAdmin):
    """A message's History page: the actions taken on it (resubmit, retry, discard), who took them and why.

    Those live in the message's timeline (Activity), not in Django's log entries,
    which the page still lists below them.
    """

    object_history_template = "admin/hub/timeline_history.html"

    def history_view(self, request, object_id, extra_context=None):
        taken = (
            Activity.objects.filter(message_id=unquote(object_id))
            .filter(Q(kind__in=ACTION_KINDS) | Q(actor__isnull=False))
            .select_related("actor")
            .order_by("-id")
        )
        extra = {"actions_taken": list(taken[:HISTORY_SHOWN]) if object_id.isdigit() else []}
        return super().history_view(request, object_id, {**extra, **(extra_context or {})})


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


class ItemChangeList(ChangeList):
    def get_results(self, request):
        """The page's rows, each with why it is where it is (one query for the whole page)."""
        super().get_results(request)
        self.result_list = list(self.result_list)
        reasons = items_why(self.result_list)
        for item in self.result_list:
            item.why_text = reasons[item.id]


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    # One line per record at 1400 px beside the menu and the filters: its keys in one cell, and the attempts,
    # the next attempt and the last error in why.
    list_display = ("id", "message_shown", "keys_shown", "status_shown", "why_shown")
    list_filter = (StatusFilter,)
    list_select_related = ("message",)
    search_fields = ("=key", "=nic_id", "=external_id")
    raw_id_fields = ("message",)
    exclude = ("data",)
    readonly_fields = ("data_pretty",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("message__raw_body", "message__headers")

    def get_changelist(self, request, **kwargs):
        return ItemChangeList

    @admin.display(description="message", ordering="message_id")
    def message_shown(self, obj: Item) -> str:
        """The message's key, opening its page; its flow in the title."""
        message = obj.message
        key = message.message_key or str(message.tracking_id)
        url = reverse("admin:hub_message_change", args=[message.pk])
        return format_html(
            '<a class="cut" href="{}" title="{}: {}">{}</a>', url, message.flow.replace("_", " "), key, key
        )

    @admin.display(description="keys")
    def keys_shown(self, obj: Item) -> str:
        keys = (("key", obj.key), ("nicId", obj.nic_id), ("id", obj.external_id))
        return cell(" · ".join(f"{label} {value}" for label, value in keys if value))

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj: Item) -> str:
        return status_badge(obj.status)

    @admin.display(description="why")
    def why_shown(self, obj: Item) -> str:
        return cell(getattr(obj, "why_text", ""))

    @admin.display(description="data")
    def data_pretty(self, obj: Item) -> str:
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
    # One line per email at 1400 px: the attempts, the next attempt, the last error or when it was sent are in
    # why, as the messages list has them; the subject opens the email.
    list_display = ("created", "kind", "subject_shown", "status_shown", "why_shown")
    list_display_links = ("subject_shown",)
    list_filter = (StatusFilter, "kind")
    raw_id_fields = ("message",)
    exclude = ("body_html",)
    actions = ["send_again"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body_text", "body_html")

    @admin.display(description="created", ordering="-id")
    def created(self, obj: Notification) -> str:
        return when_cell(obj.created_at)

    @admin.display(description="subject", ordering="subject")
    def subject_shown(self, obj: Notification) -> str:
        return cell(obj.subject)

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj: Notification) -> str:
        return status_badge(obj.status)

    @admin.display(description="why")
    def why_shown(self, obj: Notification) -> str:
        """What support staff want to know at a glance: still trying and when, given up and why, or sent when."""
        return cell(email_why(obj), "cut" if obj.status != Notification.Status.SENT else "cut quiet")

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("hub.resend_notification")

    @admin.action(permissions=["send_again"], description="Send again (failed emails, or a copy of sent ones)")
    def send_again(self, request: HttpRequest, queryset) -> None:
        chosen = list(queryset.filter(status__in=(Notification.Status.FAILED, Notification.Status.SENT)))
        queued = emails_send_again(ids=[email.id for email in chosen])
        for email in chosen:
            self.log_change(request, email, "Queued to be sent again")
        if queued:
            self.message_user(request, f"{queued} email(s) queued to be sent again.", messages.SUCCESS)
        if skipped := queryset.count() - len(chosen):
            self.message_user(
                request, f"{skipped} email(s) not queued: only failed or sent emails are sent again.", messages.WARNING
            )


@admin.register(Lookup)
class LookupAdmin(admin.ModelAdmin):
    """Code translations; every change is kept in the page's history with its old and new values."""

    list_display = ("kind", "source", "target", "description")
    list_filter = ("kind",)
    search_fields = ("source", "target", "description")

    def construct_change_message(self, request, form, formsets, add=False):
        """ "Changed Target: “X1TH” → “X1TX”." rather than Django's "Changed Target." (a plain string is kept as is)."""
        if add:
            return f"Added {form.instance}."
        changes = [
            f"{form.fields[name].label}: “{form.initial.get(name, '')}” → “{form.cleaned_data.get(name, '')}”"
            for name in form.changed_data
        ]
        return f"Changed {'; '.join(changes)}." if changes else "No fields changed."
