"""The figures on the console's front page, read with a few grouped queries."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django_q.models import Schedule, Task

from flows.registry import FLOWS
from hub.admin.filters import needs_attention_q
from hub.models import Item, Message

ATTENTION_SHOWN = 20


def flow_counts(since) -> dict[str, dict[str, int]]:
    rows = (
        Message.objects.filter(received_at__gte=since)
        .order_by()
        .values_list("flow", "status")
        .annotate(n=Count("id"))
    )
    out: dict[str, dict[str, int]] = {}
    for flow, status, n in rows:
        out.setdefault(flow, {})[status] = n
    return out


def flow_table(now) -> list[dict]:
    day, week = flow_counts(now - timedelta(hours=24)), flow_counts(now - timedelta(days=7))
    retrying = dict(
        Item.objects.filter(status=Item.Status.RETRY)
        .order_by()
        .values_list("message__flow")
        .annotate(n=Count("id"))
    )
    rows = []
    for name in sorted(set(FLOWS) | set(week)):
        oldest = (
            Message.objects.filter(flow=name, status__in=Message.UNFINISHED)
            .order_by("received_at")
            .only("id", "received_at", "message_key", "flow")
            .first()
        )
        rows.append({
            "flow": name,
            "day": sorted(day.get(name, {}).items()),
            "day_total": sum(day.get(name, {}).values()),
            "week": sorted(week.get(name, {}).items()),
            "week_total": sum(week.get(name, {}).values()),
            "retrying": retrying.get(name, 0),
            "oldest": oldest,
        })
    return rows


def schedules() -> list[dict]:
    rows = []
    for schedule in Schedule.objects.order_by("name"):
        last = None
        if schedule.task:
            last = Task.objects.filter(id=schedule.task).only("started", "stopped", "success").first()
        rows.append({"schedule": schedule, "last": last})
    return rows


def dashboard() -> dict:
    now = timezone.now()
    attention = (
        Message.objects.filter(needs_attention_q(now))
        .filter(Q(received_at__gte=now - timedelta(days=30)) | Q(status__in=Message.UNFINISHED))
        .only("id", "flow", "message_key", "status", "received_at", "finished_at")
        .order_by("-id")
    )
    return {
        "flows": flow_table(now),
        "schedules": schedules(),
        "attention": list(attention[:ATTENTION_SHOWN]),
        "items_retrying": Item.objects.filter(status=Item.Status.RETRY).count(),
    }
