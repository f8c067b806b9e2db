"""Read-only pages of the audit trail (items, calls, timeline, emails) and the editable lookups."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Q
from django.http import HttpRequest

from hub.models import Activity, Item, Lookup, Notification, OutboundCall
from hub.notify import emails_send_again

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
    list_display = (
        "id",
        "created_at",
        "kind",
        "subject",
        "status_shown",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "error",
    )
    list_filter = ("status", "kind")
    raw_id_fields = ("message",)
    exclude = ("body_html",)
    actions = ["send_again"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body_text", "body_html")

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj: Notification) -> str:
        """What support staff want to know at a glance: sent, still trying, or given up."""
        limit = settings.RETRY_ATTEMPTS
        shown: dict[str, str] = {
            Notification.Status.QUEUED: "Queued",
            Notification.Status.SENDING: f"Sending (attempt {obj.attempts} of {limit})",
            Notification.Status.RETRY: f"Retrying ({obj.attempts} of {limit} attempts failed)",
            Notification.Status.SENT: "Sent",
            Notification.Status.FAILED: f"FAILED after {obj.attempts} attempt(s)",
        }
        return shown.get(obj.status, obj.status)

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
