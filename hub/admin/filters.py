"""List filters of the messages page that stay fast on millions of rows (no DISTINCT over the table)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hub.admin.hospital import DEFAULT_DAYS, WHOLE, failed_whole
from hub.models import Item, Message
from hub.registry import FLOWS
from hub.why import status_badge, status_label


class FlowFilter(admin.SimpleListFilter):
    title = "flow"
    parameter_name = "flow"

    def lookups(self, request, model_admin):
        return [(name, name.replace("_", " ")) for name in sorted(FLOWS)]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(flow=self.value()) if self.value() else queryset


class StatusFilter(admin.SimpleListFilter):
    """A list's status filter naming each status as its badge does: readable, in its colour (hub/why.py)."""

    title = "status"
    parameter_name = "status"  # as Django's own filter on the field took it: ?status=FAILED

    def lookups(self, request, model_admin):
        choices = getattr(model_admin.model._meta.get_field("status"), "choices", None) or []
        return [(value, status_badge(value)) for value, _ in choices]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(status=self.value()) if self.value() else queryset


def needs_attention_q(now=None) -> Q:
    """Failed, ended with business errors, still retrying, or unfinished for longer than CONSOLE_OVERDUE_MIN.

    Shaped for PostgreSQL to count them on the (status, -id) index alone: the ended ones by status, the
    few unfinished ones by id from a subquery. The same test as one OR across status, reply status,
    received time and items read every page holding a failed message (17,000 pages of a 1,000,000-message
    table, 1.45 s cold).
    """
    now = now or timezone.now()
    retrying = Exists(Item.objects.filter(message=OuterRef("pk"), status=Item.Status.RETRY))
    overdue = now - timedelta(minutes=settings.CONSOLE_OVERDUE_MIN)
    waiting = Message.objects.filter(status__in=Message.UNFINISHED).filter(
        Q(reply_status=Message.Reply.RETRY) | Q(received_at__lt=overdue) | Q(retrying)
    )
    ended = (Message.Status.FAILED, Message.Status.COMPLETED_WITH_ERRORS)
    return Q(status__in=(*ended, *Message.UNFINISHED)) & (Q(status__in=ended) | Q(id__in=waiting.values("id")))


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"
    CHOICES = {
        "any": "any of these",
        "failed": "failed",
        "business_errors": "business errors",
        "retrying": "retrying",
        "overdue": "overdue",
    }

    def lookups(self, request, model_admin):
        return list(self.CHOICES.items())

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        match self.value():
            case "any":
                return queryset.filter(needs_attention_q(now))
            case "failed":
                return queryset.filter(status=Message.Status.FAILED)
            case "business_errors":
                return queryset.filter(status=Message.Status.COMPLETED_WITH_ERRORS)
            case "retrying":
                retrying = Exists(Item.objects.filter(message=OuterRef("pk"), status=Item.Status.RETRY))
                return queryset.filter(status__in=Message.UNFINISHED).filter(
                    Q(retrying) | Q(reply_status=Message.Reply.RETRY)
                )
            case "overdue":
                cutoff = now - timedelta(minutes=settings.CONSOLE_OVERDUE_MIN)
                return queryset.filter(status__in=Message.UNFINISHED, received_at__lt=cutoff)
        return queryset


class FailedItemsFilter(admin.ListFilter):
    """Messages with records that ended in one status with one error: a group of the error hospital; or, with
    `failed_status=FAILED`, its messages that failed as a whole (no failed record) with one error.

    Reached from the hospital's "open the records" link (`failed_status`,
    `failed_error`, `failed_code`, `failed_days`); the messages are found
    through the failed items' partial index, not by reading the messages.
    """

    title = "failed records"
    parameters = ("failed_status", "failed_error", "failed_code", "failed_days")
    KINDS = (Item.Status.FAILURE, Item.Status.ERROR, WHOLE)

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value

    def has_output(self) -> bool:
        return self.values.get("failed_status") in self.KINDS

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameters)

    def choices(self, changelist):
        status = self.values.get("failed_status", "")
        error = self.values.get("failed_error", "")
        kind = "Failed as a whole" if status == WHOLE else status_label(status)
        yield {
            "selected": False,
            "query_string": changelist.get_query_string(remove=self.parameters),
            "display": "all messages",
        }
        yield {
            "selected": True,
            "query_string": changelist.get_query_string(),
            "display": f"{kind}: {error[:80] or '(no error text)'}",
        }

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        status = self.values.get("failed_status")
        if status not in self.KINDS:
            return queryset
        days = self.values.get("failed_days", "")
        if status == WHOLE:
            whole = failed_whole(days=int(days) if days.isdigit() else DEFAULT_DAYS)
            return queryset.filter(pk__in=whole.filter(error=self.values.get("failed_error", "")).values("id"))
        items = Item.objects.filter(status=status, last_error=self.values.get("failed_error", ""))
        code = self.values.get("failed_code", "")
        if code.lstrip("-").isdigit():
            items = items.filter(message_number=int(code))
        else:
            items = items.filter(message_number__isnull=True)
        if days.isdigit():
            items = items.filter(updated_at__gte=timezone.now() - timedelta(days=int(days)))
        # As the hospital counts them: discarded messages are no longer the hospital's.
        return queryset.filter(pk__in=items.values("message_id")).exclude(status=Message.Status.DISCARDED)
