"""The figures on the console's front page, read with a few grouped queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Avg, Count, Max, Q
from django.db.models.functions import TruncHour
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_q.models import Schedule, Task

from hub.models import Item, Message, OutboundCall
from hub.registry import FLOWS, flow_apps
from hub.why import WHY_FIELDS, messages_why, status_label

ATTENTION_SHOWN = 20
ATTENTION_DAYS = 30  # failures older than this are history, not work


# The charts' series, stacked bottom to top: (name, statuses, colour).
SERIES = (
    ("completed", (Message.Status.COMPLETED,), "#2e7d32"),
    ("with business errors", (Message.Status.COMPLETED_WITH_ERRORS,), "#d08a00"),
    ("failed", (Message.Status.FAILED,), "#c62828"),
    ("rejected", (Message.Status.REJECTED,), "#7b1fa2"),
    ("in progress", Message.UNFINISHED, "#1565c0"),
    ("discarded or duplicate", (Message.Status.DISCARDED, Message.Status.DUPLICATE), "#9e9e9e"),
)
SERIES_OF: dict[str, str] = {status: name for name, statuses, _ in SERIES for status in statuses}


def hourly_counts(now) -> dict[str, dict[datetime, dict[str, int]]]:
    """Messages received per flow, hour and status over the last 7 days: one grouped query on the
    (received_at, flow, status) index."""
    rows = (
        Message.objects.filter(received_at__gte=hour_of(now) - timedelta(days=7) + timedelta(hours=1))
        .annotate(hour=TruncHour("received_at"))
        .order_by()
        .values_list("flow", "hour", "status")
        .annotate(n=Count("id"))
    )
    out: dict[str, dict[datetime, dict[str, int]]] = {}
    for flow, hour, status, n in rows:
        out.setdefault(flow, {}).setdefault(hour, {})[status] = n
    return out


def hour_of(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)


def totals(hours: dict[datetime, dict[str, int]], since: datetime) -> list[tuple[str, int]]:
    out: dict[str, int] = {}
    for hour, counts in hours.items():
        if hour >= since:
            for status, n in counts.items():
                out[status] = out.get(status, 0) + n
    return sorted(out.items())


def flow_table(now) -> list[dict]:
    counts = hourly_counts(now)
    last = hour_of(now)
    day_hours = [last - timedelta(hours=h) for h in range(23, -1, -1)]
    week_hours = [last - timedelta(hours=h) for h in range(7 * 24 - 1, -1, -1)]
    retrying = dict(
        Item.objects.filter(status=Item.Status.RETRY).order_by().values_list("message__flow").annotate(n=Count("id"))
    )
    rows = []
    for name in sorted(set(FLOWS) | set(counts)):
        hours = counts.get(name, {})
        oldest = (
            Message.objects.filter(flow=name, status__in=Message.UNFINISHED)
            .order_by("received_at")
            .only("id", "received_at", "message_key", "flow")
            .first()
        )
        day, week = totals(hours, day_hours[0]), totals(hours, week_hours[0])
        rows.append(
            {
                "flow": name,
                "day": day,
                "day_total": sum(n for _, n in day),
                "week": week,
                "week_total": sum(n for _, n in week),
                "day_chart": bar_chart(
                    [(hour, hours.get(hour, {})) for hour in day_hours], bar=9, label_every=6, label="%H:%M"
                ),
                "week_chart": bar_chart(
                    [(hour, hours.get(hour, {})) for hour in week_hours], bar=3, label_every=24, label="%a %d"
                ),
                "retrying": retrying.get(name, 0),
                "oldest": oldest,
            }
        )
    return rows


CHART_HEIGHT = 64
AXIS = 14  # px under the bars for the time labels


def bar_chart(buckets: list[tuple[datetime, dict[str, int]]], *, bar: int, label_every: int, label: str) -> str:
    """Messages per hour as stacked bars, one per bucket, in inline SVG: no script, no library, works offline.

    Each bar says what it holds in its title (shown on hover); the tallest bar's count is written at the top.
    """
    highest = max((sum(counts.values()) for _, counts in buckets), default=0)
    width = bar * len(buckets)
    parts = [
        format_html(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
            'width="{}" height="{}" viewBox="0 0 {} {}">',
            width,
            CHART_HEIGHT + AXIS,
            width,
            CHART_HEIGHT + AXIS,
        ),
        format_html(
            '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-opacity=".3"/>',
            CHART_HEIGHT,
            width,
            CHART_HEIGHT,
        ),
    ]
    scale = (CHART_HEIGHT - 10) / highest if highest else 0
    for index, (hour, counts) in enumerate(buckets):
        x = index * bar
        if index % label_every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="9" fill="currentColor" fill-opacity=".7">{}</text>',
                    x,
                    CHART_HEIGHT + AXIS - 3,
                    hour.strftime(label),
                )
            )
        by_series: dict[str, int] = {}
        for status, n in counts.items():
            name = SERIES_OF.get(status, SERIES[-1][0])
            by_series[name] = by_series.get(name, 0) + n
        if not by_series:
            continue
        said = ", ".join(f"{by_series[name]} {name}" for name, _, _ in SERIES if by_series.get(name))
        parts.append(format_html("<g><title>{}: {}</title>", hour.strftime("%d %b %H:00"), said))
        top: float = CHART_HEIGHT
        for name, _, colour in SERIES:
            n = by_series.get(name, 0)
            if not n:
                continue
            height = max(n * scale, 1)
            top -= height
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    x,
                    f"{top:.1f}",
                    max(bar - 1, 1),
                    f"{height:.1f}",
                    colour,
                )
            )
        parts.append(mark_safe("</g>"))
    if highest:
        parts.append(
            format_html('<text x="2" y="8" font-size="9" fill="currentColor" fill-opacity=".7">max {}</text>', highest)
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def partner_health(now) -> list[dict]:
    """Per partner and operation: calls, error rate and latency over the last hour and the last 24 hours."""
    hour_ago = now - timedelta(hours=1)
    recent = Q(started_at__gte=hour_ago)
    failed = ~Q(outcome=OutboundCall.Outcome.SUCCESS)
    rows = (
        OutboundCall.objects.filter(started_at__gte=now - timedelta(hours=24))
        .order_by()
        .values("partner", "operation")
        .annotate(
            calls=Count("id"),
            technical=Count("id", filter=Q(outcome=OutboundCall.Outcome.TECHNICAL)),
            business=Count("id", filter=Q(outcome=OutboundCall.Outcome.BUSINESS)),
            average_ms=Avg("duration_ms"),
            slowest_ms=Max("duration_ms"),
            hour_calls=Count("id", filter=recent),
            hour_failed=Count("id", filter=recent & failed),
            hour_average_ms=Avg("duration_ms", filter=recent),
        )
        .order_by("partner", "operation")
    )
    out = []
    for row in rows:
        failed_day = row["technical"] + row["business"]
        out.append(
            {
                **row,
                "error_rate": 100 * failed_day / row["calls"],
                "hour_error_rate": 100 * row["hour_failed"] / row["hour_calls"] if row["hour_calls"] else None,
            }
        )
    return out


def readable(labels: dict, value: str) -> str:
    """A state's own label when its model names it, else its value made readable ("PENDING" → "Pending")."""
    label = str(labels.get(value, ""))
    return label if label and label != value else status_label(value)


def flow_records(now) -> list[dict]:
    """Each flow package's own records (its FlowApp.records), counted by state over the last 7 days."""
    rows = []
    for records in (records for app in flow_apps() for records in app.records):
        title, state, when = records.title, records.state, records.time
        model = apps.get_model(records.model)
        labels = dict(model._meta.get_field(state).choices or ())
        counts = (
            model._default_manager.filter(**{f"{when}__gte": now - timedelta(days=7)})
            .order_by()
            .values_list(state)
            .annotate(n=Count("pk"))
        )
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            url = ""
        rows.append(
            {
                "title": title,
                "url": url,
                "counts": sorted((readable(labels, value), n) for value, n in counts),
            }
        )
    return rows


def schedules() -> list[dict]:
    rows = []
    for schedule in Schedule.objects.order_by("name"):
        last = None
        if schedule.task:
            last = Task.objects.filter(id=schedule.task).only("started", "stopped", "success").first()
        rows.append({"schedule": schedule, "last": last})
    return rows


def attention(now) -> list[Message]:
    """The newest messages that need attention, business errors included: each kind read on its own index,
    then merged; each with why (hub/why.py)."""
    overdue = now - timedelta(minutes=settings.CONSOLE_OVERDUE_MIN)
    unfinished = Message.objects.filter(status__in=Message.UNFINISHED)
    recent = now - timedelta(days=ATTENTION_DAYS)
    kinds = [
        Message.objects.filter(status=Message.Status.FAILED),
        Message.objects.filter(status=Message.Status.COMPLETED_WITH_ERRORS),
        unfinished.filter(received_at__lt=overdue),
        unfinished.filter(reply_status=Message.Reply.RETRY),
        unfinished.filter(id__in=Item.objects.filter(status=Item.Status.RETRY).values("message_id")),
    ]
    ids: set[int] = set()
    for kind in kinds:
        # The newest of each kind on its (status, -id) index; the ended ones only if recent, checked here
        # rather than in the query, which would walk the index past every older one.
        rows = kind.order_by("-id").values_list("id", "status", "received_at")[:ATTENTION_SHOWN]
        ids.update(pk for pk, status, at in rows if status in Message.UNFINISHED or at >= recent)
    newest = sorted(ids, reverse=True)[:ATTENTION_SHOWN]
    shown = list(Message.objects.filter(id__in=newest).only(*WHY_FIELDS).order_by("-id"))
    reasons = messages_why(shown, now=now)
    for message in shown:
        message.why = reasons[message.id]
    return shown


def dashboard() -> dict:
    now = timezone.now()
    return {
        "flows": flow_table(now),
        "records": flow_records(now),
        "schedules": schedules(),
        "attention": attention(now),
        "partners": partner_health(now),
        "series": [(name, colour) for name, _, colour in SERIES],
        "items_retrying": Item.objects.filter(status=Item.Status.RETRY).count(),
    }
