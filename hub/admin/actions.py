"""Resubmit, retry failed items, discard: on one message (done at once) or many (queued as tasks).

Every action asks for confirmation first, is refused without its permission,
and is recorded in each message's timeline with the user and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django_q.tasks import async_task

from hub.messages import NOT_DISCARDABLE, NOT_RESUBMITTABLE, message_discard, message_resubmit
from hub.models import Item, Message

BULK_CHUNK = 500  # message ids per queued task
# Larger selections go through `manage.py reprocess` / `discard`, which name them by flow and status.
BULK_LIMIT = 10_000


@dataclass(frozen=True)
class Kind:
    name: str
    verb: str
    past: str
    permission: str  # the ModelAdmin's has_<permission>_permission
    reason_required: bool
    explanation: str

    def eligible(self, queryset: QuerySet) -> QuerySet:
        if self.name == "discard":
            return queryset.exclude(status__in=NOT_DISCARDABLE)
        queryset = queryset.exclude(status__in=NOT_RESUBMITTABLE)
        if self.name == "retry_failed":
            failed_items = Item.objects.filter(
                message=OuterRef("pk"), status__in=(Item.Status.ERROR, Item.Status.FAILURE)
            )
            queryset = queryset.filter(Q(status=Message.Status.FAILED) | Q(Exists(failed_items)))
        return queryset

    def run_one(self, message: Message, user, reason: str) -> bool:
        if self.name == "discard":
            return message_discard(message=message, actor=user, reason=reason)
        if not self.eligible(Message.objects.filter(pk=message.pk)).exists():
            return False
        message_resubmit(message=message, actor=user, failed_only=self.name == "retry_failed", reason=reason)
        return True

    def queue(self, ids: list[int], user, reason: str) -> None:
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            if self.name == "discard":
                async_task("hub.processing.messages_discard", ids=chunk, actor_id=user.id, reason=reason)
            else:
                async_task(
                    "hub.processing.messages_resubmit",
                    ids=chunk,
                    actor_id=user.id,
                    failed_only=self.name == "retry_failed",
                    reason=reason,
                )


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "resubmit",
            "Resubmit",
            "resubmitted",
            "resubmit",
            False,
            "Every item is sent again and the reply is sent again if the outcome changes.",
        ),
        Kind(
            "retry_failed",
            "Retry failed items of",
            "retried",
            "resubmit",
            False,
            "Only items that ended in ERROR or FAILURE are sent again.",
        ),
        Kind(
            "discard",
            "Discard",
            "discarded",
            "discard",
            True,
            "Work on the message stops for good and it can never be sent again: its open items become FAILURE"
            " with your reason, and the partner waiting for an answer gets one FAILURE answer.",
        ),
    )
}


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"size": 80}))

    def __init__(self, *args, required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


def _check(model_admin: admin.ModelAdmin, request: HttpRequest, kind: Kind) -> None:
    if not getattr(model_admin, f"has_{kind.permission}_permission")(request):
        raise PermissionDenied


def _confirm(model_admin, request, kind: Kind, form: ReasonForm, chosen: QuerySet, total: int, extra: dict):
    eligible = kind.eligible(chosen)
    eligible_count = eligible.count()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{kind.verb} {'this message' if total == 1 else 'messages'}?",
        "opts": model_admin.model._meta,
        "kind": kind,
        "form": form,
        "total": total,
        "eligible_count": eligible_count,
        "too_many": eligible_count > BULK_LIMIT,
        "limit": BULK_LIMIT,
        "shown": list(eligible.only("id", "flow", "message_key", "status", "received_at")[:20]),
        **extra,
    }
    return TemplateResponse(request, "admin/hub/message/confirm_action.html", context)


def message_action_view(model_admin, request: HttpRequest, object_id: str, kind_name: str) -> HttpResponse:
    """One message, from its page: confirm, then act at once."""
    kind = KINDS[kind_name]
    _check(model_admin, request, kind)
    message = get_object_or_404(Message.objects.defer("raw_body"), pk=object_id)
    page = reverse("admin:hub_message_change", args=[message.pk])
    form = ReasonForm(request.POST or None, required=kind.reason_required)
    if request.method == "POST" and form.is_valid():
        done = kind.run_one(message, request.user, form.cleaned_data["reason"])
        if done:
            model_admin.message_user(request, f"{kind.verb} 1 message: done.", messages.SUCCESS)
        else:
            model_admin.message_user(request, f"{kind.verb}: this message cannot be, as it is.", messages.WARNING)
        return HttpResponseRedirect(page)
    chosen = Message.objects.filter(pk=message.pk)
    return _confirm(model_admin, request, kind, form, chosen, 1, {"single": message, "cancel_url": page})


def bulk_action(kind_name: str):
    kind = KINDS[kind_name]

    @admin.action(permissions=[kind.permission], description=f"{kind.verb} selected messages…")
    def action(model_admin, request: HttpRequest, queryset: QuerySet):
        form = ReasonForm(request.POST if request.POST.get("confirmed") else None, required=kind.reason_required)
        if request.POST.get("confirmed") and form.is_valid():
            ids = list(kind.eligible(queryset).order_by("id").values_list("id", flat=True)[: BULK_LIMIT + 1])
            if len(ids) > BULK_LIMIT:
                model_admin.message_user(
                    request, f"More than {BULK_LIMIT} messages: nothing queued. Narrow the selection.", messages.ERROR
                )
                return None
            kind.queue(ids, request.user, form.cleaned_data["reason"])
            model_admin.message_user(request, f"{kind.verb} {len(ids)} message(s): queued.", messages.SUCCESS)
            return None
        extra = {
            "action_name": f"{kind_name}_selected",
            "selected_ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return _confirm(model_admin, request, kind, form, queryset, queryset.count(), extra)

    action.__name__ = f"{kind_name}_selected"
    return action
