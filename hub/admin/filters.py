"""List filters of the messages page that stay fast on millions of rows (no DISTINCT over the table)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hub.models import Item, Message
from hub.registry import FLOWS


class FlowFilter(admin.SimpleListFilter):
    title = "flow"
    parameter_name = "flow"

    def lookups(self, request, model_admin):
        return [(name, name.replace("_", " ")) for name in sorted(FLOWS)]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(flow=self.value()) if self.value() else queryset


def needs_attention_q(now=None) -> Q:
    """Failed, still retrying, or unfinished for longer than CONSOLE_OVERDUE_MIN."""
    now = now or timezone.now()
    retrying = Exists(Item.objects.filter(message=OuterRef("pk"), status=Item.Status.RETRY))
    overdue = Q(status__in=Message.UNFINISHED, received_at__lt=now - timedelta(minutes=settings.CONSOLE_OVERDUE_MIN))
    return (
        Q(status=Message.Status.FAILED)
        | Q(status__in=Message.UNFINISHED, reply_status=Message.Reply.RETRY)
        | Q(status__in=Message.UNFINISHED) & Q(retrying)
        | overdue
    )


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"
    CHOICES = {
        "any": "any of these",
        "failed": "failed",
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
            case "retrying":
                retrying = Exists(Item.objects.filter(message=OuterRef("pk"), status=Item.Status.RETRY))
                return queryset.filter(status__in=Message.UNFINISHED).filter(
                    Q(retrying) | Q(reply_status=Message.Reply.RETRY)
                )
            case "overdue":
                cutoff = now - timedelta(minutes=settings.CONSOLE_OVERDUE_MIN)
                return queryset.filter(status__in=Message.UNFINISHED, received_at__lt=cutoff)
        return queryset
