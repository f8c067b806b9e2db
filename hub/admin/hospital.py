"""The error hospital: records that failed (FAILURE) or were refused (ERROR), grouped by flow, partner and error;
and messages that FAILED with no such record (failed as a whole), grouped by flow and error.

One aggregate query over the failed items (on the `item_failed` partial
index) makes the groups; a group is named by its flow, status, partner's
code and error text. A second one finds the messages FAILED without a failed
record (their runs kept crashing, they failed before sending, their reply
could not be delivered), so that nothing failed is out of sight. Per group
support staff open the messages, resubmit them (their failed records are
sent again, or the whole message when none failed) or discard them with a
reason, through hub/messages.py's services, queued as tasks like the list's
bulk actions. Business users see the groups; only support staff act.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, QuerySet, Subquery, TextField, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from hub.messages import NOT_DISCARDABLE, NOT_RESUBMITTABLE
from hub.models import Item, Message
from hub.registry import FLOWS

FAILED = (Item.Status.FAILURE, Item.Status.ERROR)
# The status naming a group of messages that failed as a whole (no failed record).
WHOLE = Message.Status.FAILED
REPLY_FAILED = "The reply could not be delivered"
# Records that ended this many days ago at most (by default 30): older ones are history, not work, and a
# window keeps the aggregate on the recent end of the partial index however many failures the years hold.
DAYS = (1, 7, 30, 90, 365)
DEFAULT_DAYS = 30
GROUPS_SHOWN = 200
CHUNK = 500  # message ids per queued task
LIMIT = 10_000  # messages per group action; larger groups go through `manage.py reprocess` / `discard`


@dataclass(frozen=True)
class Group:
    flow: str
    status: str  # Item.Status.FAILURE or ERROR, or WHOLE
    code: int | None  # the partner's message number, when it gave one
    error: str
    days: int = DEFAULT_DAYS
    records: int = 0
    messages: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def partner(self) -> str:
        flow = FLOWS.get(self.flow)
        return (flow.partner if flow else None) or ""

    @property
    def business(self) -> bool:
        return self.status == Item.Status.ERROR

    @property
    def whole(self) -> bool:
        """Messages that failed with no failed record: resubmitted whole, not only their failed records."""
        return self.status == WHOLE

    def params(self) -> dict[str, str]:
        return {
            "flow": self.flow,
            "status": self.status,
            "code": "" if self.code is None else str(self.code),
            "error": self.error,
            "days": str(self.days),
        }

    def query(self) -> str:
        return urlencode(self.params())

    def records_url(self) -> str:
        """The messages list, filtered to this group's messages (hub/admin/filters.py FailedItemsFilter)."""
        params = {
            "flow": self.flow,
            "failed_status": self.status,
            "failed_error": self.error,
            "failed_days": str(self.days),
        }
        if self.code is not None:
            params["failed_code"] = str(self.code)
        return f"{reverse('admin:hub_message_changelist')}?{urlencode(params)}"

    def items(self) -> QuerySet:
        if self.whole:
            return Item.objects.filter(message__in=self.message_ids())
        return failed_items(flow=self.flow, status=self.status, code=self.code, error=self.error, days=self.days)

    def message_ids(self) -> QuerySet:
        if self.whole:
            return failed_whole(days=self.days).filter(flow=self.flow, error=self.error).values("id")
        return self.items().order_by().values("message_id").distinct()


def failed_items(*, flow: str, status: str, code: int | None, error: str, days: int) -> QuerySet:
    """The items of one group that ended in the last `days` days, in messages not discarded."""
    since = timezone.now() - timedelta(days=days)
    items = Item.objects.filter(status=status, last_error=error, message__flow=flow, updated_at__gte=since)
    items = items.filter(message_number=code) if code is not None else items.filter(message_number__isnull=True)
    return items.exclude(message__status=Message.Status.DISCARDED)


def failed_whole(*, days: int) -> QuerySet:
    """Messages received in the last `days` days that FAILED with no failed or refused record, each with
    `error`: what went wrong with the message as a whole (its last error, or its undelivered reply)."""
    since = timezone.now() - timedelta(days=days)
    failed_records = Item.objects.filter(message=OuterRef("pk"), status__in=FAILED)
    error = Case(
        When(last_error="", reply_status=Message.Reply.FAILED, then=Value(REPLY_FAILED)),
        default=F("last_error"),
        output_field=TextField(),
    )
    return (
        Message.objects.filter(status=WHOLE, received_at__gte=since)
        .filter(~Exists(failed_records))
        .annotate(error=error)
    )


def whole_groups(*, days: int = DEFAULT_DAYS) -> list[Group]:
    """The messages of `failed_whole` by flow and error, the most recent first (seen: when they ended)."""
    rows = (
        failed_whole(days=days)
        .values("flow", "error")
        .annotate(messages=Count("id"), first_seen=Min("finished_at"), last_seen=Max("finished_at"))
        .order_by(F("last_seen").desc(nulls_last=True))[:GROUPS_SHOWN]
    )
    return [
        Group(
            flow=row["flow"],
            status=WHOLE,
            code=None,
            error=row["error"],
            days=days,
            messages=row["messages"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )
        for row in rows
    ]


def hospital_groups(*, days: int = DEFAULT_DAYS) -> list[Group]:
    """Every group of records failed or refused in the last `days` days, the most recent first: one aggregate query.

    The items come from the `item_failed` partial index; each one's flow is read by its message's primary
    key (a subquery, not a join, which the planner could turn into a scan of every message).
    """
    flow = Subquery(Message.objects.filter(pk=OuterRef("message_id")).order_by().values("flow")[:1])
    discarded = Message.objects.filter(status=Message.Status.DISCARDED).values("id")
    rows = (
        Item.objects.filter(status__in=FAILED, updated_at__gte=timezone.now() - timedelta(days=days))
        .exclude(message_id__in=discarded)
        .annotate(flow=flow)
        .values("flow", "status", "message_number", "last_error")
        .annotate(
            records=Count("id"),
            messages=Count("message_id", distinct=True),
            first_seen=Min("updated_at"),
            last_seen=Max("updated_at"),
        )
        .order_by("-last_seen")[:GROUPS_SHOWN]
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The planner prices the per-item subquery high and would spend seconds compiling the query
            # (JIT) to run it in tens of milliseconds.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        found = list(rows)
    return [
        Group(
            flow=row["flow"],
            status=row["status"],
            code=row["message_number"],
            error=row["last_error"],
            days=days,
            records=row["records"],
            messages=row["messages"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )
        for row in found
    ]


def group_from(data) -> Group:
    """The group named by a request's flow, status, code and error; 404 for a malformed name."""
    flow, status, code = data.get("flow", ""), data.get("status", ""), data.get("code", "")
    if flow not in FLOWS or status not in (*FAILED, WHOLE) or (code and not code.lstrip("-").isdigit()):
        raise Http404("No such group of failed records.")
    code_value = int(code) if code else None
    return Group(flow=flow, status=status, code=code_value, error=data.get("error", ""), days=days_from(data))


def days_from(data) -> int:
    days = data.get("days", "")
    return int(days) if days.isdigit() and int(days) in DAYS else DEFAULT_DAYS


class ActionForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, widget=forms.TextInput(attrs={"size": 80}))
    understood = forms.BooleanField(
        required=False, label="I understand these records were refused on the partner's rules"
    )

    def __init__(self, *args, action: str, business: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = action == "discard"
        if action == "resubmit" and business:
            self.fields["understood"].required = True
        else:
            del self.fields["understood"]


ACTIONS = {
    # action: (verb, permission, the rule that refuses a message, the task)
    "resubmit": ("Resubmit", "hub.resubmit_message", NOT_RESUBMITTABLE, "hub.processing.messages_resubmit"),
    "discard": ("Discard", "hub.discard_message", NOT_DISCARDABLE, "hub.processing.messages_discard"),
}


def group_messages(group: Group, refused: dict) -> tuple[list[int], list[tuple[str, int]]]:
    """The ids of the group's messages the action applies to, and what it skips: (why, how many)."""
    found = Message.objects.filter(id__in=group.message_ids()).order_by("id").values_list("id", "status")[: LIMIT + 1]
    eligible: list[int] = []
    skipped: dict[str, int] = {}
    for message_id, status in found:
        if status in refused:
            skipped[refused[status]] = skipped.get(refused[status], 0) + 1
        else:
            eligible.append(message_id)
    return eligible, sorted(skipped.items())


def _messages(n: int) -> str:
    return f"{n} message{'s' if n != 1 else ''}"


def _queue(action: str, ids: list[int], user, reason: str, *, whole: bool) -> None:
    task = ACTIONS[action][3]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if action == "resubmit":
            async_task(task, ids=chunk, actor_id=user.id, failed_only=not whole, reason=reason)
        else:
            async_task(task, ids=chunk, actor_id=user.id, reason=reason)


def _confirm(site, request: HttpRequest, action: str) -> HttpResponse:
    verb, permission, refused, _ = ACTIONS[action]
    if not request.user.has_perm(permission):
        raise PermissionDenied
    group = group_from(request.POST if request.method == "POST" else request.GET)
    form = ActionForm(request.POST or None, action=action, business=group.business)
    ids, skipped = group_messages(group, refused)
    hospital = f"{reverse('admin:hospital')}?days={group.days}"
    if request.method == "POST" and form.is_valid():
        if len(ids) > LIMIT:
            messages.error(request, f"More than {LIMIT} messages in this group: nothing queued.")
            return HttpResponseRedirect(hospital)
        _queue(action, ids, request.user, form.cleaned_data["reason"], whole=group.whole)
        text = f"{verb} {_messages(len(ids))} of the group: queued."
        if skipped:
            text += " Skipped: " + "; ".join(f"{_messages(n)} because {why}" for why, n in skipped) + "."
        if ids:
            messages.success(request, text)
        else:
            messages.warning(request, text)
        return HttpResponseRedirect(hospital)
    context = {
        **site.each_context(request),
        "title": f"{verb} this group?",
        "action": action,
        "verb": verb,
        "group": group,
        "records": group.items().count(),
        "eligible": len(ids),
        "too_many": len(ids) > LIMIT,
        "limit": LIMIT,
        "skipped": skipped,
        "form": form,
    }
    return TemplateResponse(request, "admin/hub/hospital_confirm.html", context)


def hospital_view(site, request: HttpRequest) -> HttpResponse:
    """GET: the groups; `?action=resubmit|discard` and the group's name: that action's confirmation, then it."""
    if not request.user.has_perm("hub.view_item"):
        raise PermissionDenied
    action = request.GET.get("action") or request.POST.get("action")
    if action:
        if action not in ACTIONS:
            raise Http404("No such action.")
        return _confirm(site, request, action)
    days = days_from(request.GET)
    context = {
        **site.each_context(request),
        "title": "Error hospital",
        "days": days,
        "day_choices": DAYS,
        "groups": hospital_groups(days=days),
        "whole_groups": whole_groups(days=days),
        "shown": GROUPS_SHOWN,
        "can_resubmit": request.user.has_perm("hub.resubmit_message"),
        "can_discard": request.user.has_perm("hub.discard_message"),
    }
    return TemplateResponse(request, "admin/hub/hospital.html", context)
