"""Resubmit, retry failed items, discard: on one message (done at once) or many (queued as tasks).

Every action asks for confirmation first, is refused without its permission,
and is recorded in each message's timeline with the user and the reason. What
cannot apply is not offered, or says why, in the words of hub.messages'
NOT_RESUBMITTABLE / NOT_DISCARDABLE; feedback says what happened: done, or
only queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django_q.conf import Conf
from django_q.tasks import async_task

from hub.messages import NOT_DISCARDABLE, NOT_RESUBMITTABLE, message_discard, message_resubmit
from hub.models import Item, Message, OutboundCall

BULK_CHUNK = 500  # message ids per queued task
# Larger selections go through `manage.py reprocess` / `discard`, which name them by flow and status.
BULK_LIMIT = 10_000
SHOWN = 20  # messages listed by name on a confirmation page, per group
# A message page refreshes itself this often while its message is not final.
REFRESH_S = 5
NO_FAILED_ITEMS = "none of its items failed"
FAILED = (Item.Status.ERROR, Item.Status.FAILURE)
Outcome = OutboundCall.Outcome


@dataclass(frozen=True)
class Kind:
    name: str
    verb: str  # "Resubmit"
    past: str  # "resubmitted"
    permission: str  # the ModelAdmin's has_<permission>_permission
    reason_required: bool
    explanation: str

    @property
    def refusals(self) -> dict[str, str]:
        return NOT_DISCARDABLE if self.name == "discard" else NOT_RESUBMITTABLE

    def eligible(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.exclude(status__in=self.refusals)
        if self.name == "retry_failed":
            failed_items = Item.objects.filter(message=OuterRef("pk"), status__in=FAILED)
            queryset = queryset.filter(Q(status=Message.Status.FAILED) | Q(Exists(failed_items)))
        return queryset

    def why_not(self, message: Message) -> str:
        """Why this action does not apply to `message` ("" when it does)."""
        if message.status in self.refusals:
            return self.refusals[message.status]
        if not self.eligible(Message.objects.filter(pk=message.pk)).exists():
            return NO_FAILED_ITEMS
        return ""

    def button(self, count: int) -> str:
        """The confirmation button, as a sentence: "Resubmit this message", "Discard 3 messages"."""
        what = "this message" if count == 1 else f"{count} messages"
        if self.name == "retry_failed":
            return f"Send the failed items of {what} again"
        return f"{self.verb} {what}"

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
            "Retry failed items",
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


class ActionForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"size": 80}))
    partner_rules = forms.BooleanField(required=False)

    def __init__(self, *args, reason_required: bool, business_errors: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        self.fields["partner_rules"].required = business_errors
        self.fields["partner_rules"].error_messages["required"] = (
            "Tick the box: these records failed on the partner's rules, and are sent again as they are."
        )


def _check(model_admin: admin.ModelAdmin, request: HttpRequest, kind: Kind) -> None:
    if not getattr(model_admin, f"has_{kind.permission}_permission")(request):
        raise PermissionDenied


# --- what the confirmation page says ----------------------------------------------------
def business_errors(kind: Kind, eligible: QuerySet) -> dict | None:
    """Items about to be sent again that the partner refused under its rules (ERROR), if any."""
    if kind.name == "discard":
        return None
    refused = Item.objects.filter(message__in=eligible.values("pk"), status=Item.Status.ERROR)
    count = refused.count()
    if not count:
        return None
    # The partner that refused them, as its recorded answers say (a sample of the items is enough).
    calls = OutboundCall.objects.filter(item__in=refused.order_by().values("pk")[:200], outcome=Outcome.BUSINESS)
    partners = sorted(calls.order_by().values_list("partner", flat=True).distinct()) or ["the partner"]
    samples = refused.exclude(last_error="").order_by("last_error").values_list("last_error", flat=True).distinct()
    return {"count": count, "partners": " and ".join(partners), "samples": list(samples[:3])}


def skipped_groups(kind: Kind, chosen: QuerySet, eligible: QuerySet, *, examples: bool = True) -> list[dict]:
    """The chosen messages the action does not apply to, by status, each group with its reason."""
    skipped = chosen.exclude(pk__in=eligible.values("pk"))
    groups = []
    for row in skipped.order_by().values("status").annotate(n=Count("id")).order_by("status"):
        status = row["status"]
        groups.append(
            {
                "status": Message.Status(status).label,
                "count": row["n"],
                "reason": kind.refusals.get(status, NO_FAILED_ITEMS),
                "shown": list(skipped.filter(status=status).only("id", "flow", "message_key", "tracking_id")[:SHOWN])
                if examples
                else [],
            }
        )
    return groups


def _confirm(model_admin, request, kind: Kind, form: ActionForm, chosen: QuerySet, total: int, extra: dict):
    eligible = kind.eligible(chosen)
    eligible_count = eligible.count()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{kind.button(total)}?",
        "opts": model_admin.model._meta,
        "kind": kind,
        "form": form,
        "total": total,
        "eligible_count": eligible_count,
        "button": kind.button(eligible_count or total),
        "too_many": eligible_count > BULK_LIMIT,
        "limit": BULK_LIMIT,
        "shown": list(eligible.only("id", "flow", "message_key", "tracking_id", "status", "received_at")[:SHOWN]),
        "skipped": skipped_groups(kind, chosen, eligible) if eligible_count < total else [],
        "business": business_errors(kind, eligible) if eligible_count <= BULK_LIMIT else None,
        **extra,
    }
    return TemplateResponse(request, "admin/hub/actions/confirm.html", context)


# --- one message, from its page ------------------------------------------------------------
def _done_one(kind: Kind, message: Message, reopened: int) -> tuple[str, int]:
    """What truly happened after acting on one message, read back from the database."""
    message.refresh_from_db(fields=["status", "reply_status"])
    status = Message.Status(message.status).label
    if kind.name == "discard":
        text = "Discarded: its open items are FAILURE with your reason"
        if message.reply_status in (Message.Reply.PENDING, Message.Reply.RETRY):
            text += f"; the partner's FAILURE answer is queued ({message.get_reply_status_display()})"
        return text + ".", messages.SUCCESS
    what = f"{reopened} item(s)" if reopened else "the message"
    if message.is_finished:
        return f"{kind.verb}: done. {what.capitalize()} sent again; the message is {status} now.", messages.SUCCESS
    return (
        f"{kind.verb}: queued. {what.capitalize()} will be sent again by a worker; the message is {status}"
        " and this page refreshes itself until it finishes.",
        messages.INFO,
    )


def message_action_view(model_admin, request: HttpRequest, object_id: str, kind_name: str) -> HttpResponse:
    """One message, from its page: confirm, then act at once and say what happened."""
    kind = KINDS[kind_name]
    _check(model_admin, request, kind)
    message = get_object_or_404(Message.objects.defer("raw_body"), pk=object_id)
    page = reverse("admin:hub_message_change", args=[message.pk])
    chosen = Message.objects.filter(pk=message.pk)
    business = business_errors(kind, kind.eligible(chosen))
    form = ActionForm(request.POST or None, reason_required=kind.reason_required, business_errors=bool(business))
    if request.method == "POST" and form.is_valid():
        why = kind.why_not(message)
        if why:
            model_admin.message_user(request, f"This message cannot be {kind.past}: {why}.", messages.WARNING)
            return HttpResponseRedirect(page)
        reason = form.cleaned_data["reason"]
        if kind.name == "discard":
            acted, reopened = message_discard(message=message, actor=request.user, reason=reason), 0
        else:
            # 0 items reopened may still be a resubmit (a message that failed before its items): the
            # timeline says whether it happened.
            last = message.activities.order_by("-id").values_list("id", flat=True).first() or 0
            reopened = message_resubmit(
                message=message, actor=request.user, failed_only=kind.name == "retry_failed", reason=reason
            )
            acted = message.activities.filter(id__gt=last, kind__in=("resubmitted", "retry_failed")).exists()
        if acted:
            model_admin.message_user(request, *_done_one(kind, message, reopened))
        else:  # its status changed between the check and the action
            message.refresh_from_db(fields=["status"])
            why = kind.why_not(message) or "its status changed meanwhile"
            model_admin.message_user(request, f"This message cannot be {kind.past}: {why}.", messages.WARNING)
        return HttpResponseRedirect(page)
    return _confirm(model_admin, request, kind, form, chosen, 1, {"single": message, "cancel_url": page})


def message_actions_context(model_admin, request: HttpRequest, message: Message) -> dict:
    """The message page's action buttons (only those that apply, or why not) and whether it refreshes itself."""
    allowed = {
        "resubmit": model_admin.has_resubmit_permission(request),
        "discard": model_admin.has_discard_permission(request),
    }
    allowed["retry_failed"] = allowed["resubmit"]
    failed = message.items.filter(status__in=FAILED).count() if allowed["resubmit"] else 0
    offered: list[dict[str, str]] = []
    refused: dict[str, list[str]] = {}
    for name, kind in KINDS.items():
        if not allowed[name]:
            continue
        why = kind.why_not(message)
        label = f"{kind.verb} ({failed})" if name == "retry_failed" else kind.verb
        if not why:
            offered.append({"id": f"action-{name.replace('_', '-')}", "label": label, "url": _url(name, message)})
        elif not (name == "retry_failed" and why == NO_FAILED_ITEMS):  # nothing failed: nothing to say
            refused.setdefault(why, []).append(kind.verb)
    return {
        "can_resubmit": allowed["resubmit"],
        "can_discard": allowed["discard"],
        "action_urls": {name: _url(name, message) for name in KINDS},
        "offered_actions": offered,
        "refused_actions": [f"{' and '.join(verbs)}: not offered, as {why}." for why, verbs in refused.items()],
        "refresh_seconds": REFRESH_S if not message.is_finished else 0,
    }


def _url(name: str, message: Message) -> str:
    return reverse(f"admin:hub_message_{name}", args=[message.pk])


# --- many messages, from the list -----------------------------------------------------------
def _bulk_feedback(kind: Kind, ids: list[int], skipped: list[dict]) -> str:
    if Conf.SYNC:  # tasks ran inline (tests, demos): say where they left the messages
        rows = Message.objects.filter(id__in=ids).values("status").annotate(n=Count("id")).order_by("status")
        now = ", ".join(f"{row['n']} {Message.Status(row['status']).label}" for row in rows) or "none"
        text = f"{len(ids)} message(s) {kind.past}; now {now}."
    else:
        text = f"{len(ids)} message(s): queued to be {kind.past} by a worker; each message's page shows its progress."
    if skipped:
        why = "; ".join(f"{group['count']} {group['status']}, as {group['reason']}" for group in skipped)
        text += f" Skipped: {why}."
    return text


def bulk_action(kind_name: str):
    kind = KINDS[kind_name]
    description = "Retry the failed items of selected messages…" if kind_name == "retry_failed" else None

    @admin.action(permissions=[kind.permission], description=description or f"{kind.verb} selected messages…")
    def action(model_admin, request: HttpRequest, queryset: QuerySet):
        confirmed = bool(request.POST.get("confirmed"))
        eligible = kind.eligible(queryset)
        business = business_errors(kind, eligible) if confirmed else None
        form = ActionForm(
            request.POST if confirmed else None, reason_required=kind.reason_required, business_errors=bool(business)
        )
        if confirmed and form.is_valid():
            ids = list(eligible.order_by("id").values_list("id", flat=True)[: BULK_LIMIT + 1])
            if len(ids) > BULK_LIMIT:
                model_admin.message_user(
                    request, f"More than {BULK_LIMIT} messages: nothing queued. Narrow the selection.", messages.ERROR
                )
                return None
            skipped = skipped_groups(kind, queryset, eligible, examples=False)  # before acting changes them
            kind.queue(ids, request.user, form.cleaned_data["reason"])
            model_admin.message_user(request, _bulk_feedback(kind, ids, skipped), messages.SUCCESS)
            return None
        extra = {
            "action_name": f"{kind_name}_selected",
            "selected_ids": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return _confirm(model_admin, request, kind, form, queryset, queryset.count(), extra)

    action.__name__ = f"{kind_name}_selected"
    return action
