"""The figures on the console's front page, read with a few grouped queries."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_q.models import Schedule, Task

from hub.models import Item, Message
from hub.registry import FLOWS

ATTENTION_SHOWN = 20
ATTENTION_DAYS = 30  # failures older than this are history, not work


def flow_counts(since) -> dict[str, dict[str, int]]:
    rows = (
        Message.objects.filter(received_at__gte=since).order_by().values_list("flow", "status").annotate(n=Count("id"))
    )
    out: dict[str, dict[str, int]] = {}
    for flow, status, n in rows:
        out.setdefault(flow, {})[status] = n
    return out


def flow_table(now) -> list[dict]:
    day, week = flow_counts(now - timedelta(hours=24)), flow_counts(now - timedelta(days=7))
    retrying = dict(
        Item.objects.filter(status=Item.Status.RETRY).order_by().values_list("message__flow").annotate(n=Count("id"))
    )
    rows = []
    for name in sorted(set(FLOWS) | set(week)):
        oldest = (
            Message.objects.filter(flow=name, status__in=Message.UNFINISHED)
            .order_by("received_at")
            .only("id", "received_at", "message_key", "flow")
            .first()
        )
        rows.append(
            {
                "flow": name,
                "day": sorted(day.get(name, {}).items()),
                "day_total": sum(day.get(name, {}).values()),
                "week": sorted(week.get(name, {}).items()),
                "week_total": sum(week.get(name, {}).values()),
                "retrying": retrying.get(name, 0),
                "oldest": oldest,
            }
        )
    return rows


# The flows' own records, counted by state over the last 7 days: (title, model, state field, time field).
RECORDS = (
    ("Device status checks", "device_status.StatusCheck", "state", "asked_at"),
    ("Enrollment synchronisations", "enrollment_sync.EnrollmentSync", "state", "received_at"),
    ("Program events", "device_reservations.ProgramEvent", "status", "created_at"),
    ("Score-file runs", "device_scores.ScoreRun", "status", "started_at"),
    ("Score files", "device_scores.ScoreFile", "status", "claimed_at"),
)


def flow_records(now) -> list[dict]:
    rows = []
    for title, label, state, when in RECORDS:
        try:
            model = apps.get_model(label)
        except LookupError:  # a flow left out of this deployment
            continue
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
                "counts": sorted((str(labels.get(value, value)), n) for value, n in counts),
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
    """The newest messages that need attention: each kind read on its own index, then merged."""
    overdue = now - timedelta(minutes=settings.CONSOLE_OVERDUE_MIN)
    unfinished = Message.objects.filter(status__in=Message.UNFINISHED)
    kinds = [
        Message.objects.filter(status=Message.Status.FAILED, received_at__gte=now - timedelta(days=ATTENTION_DAYS)),
        unfinished.filter(received_at__lt=overdue),
        unfinished.filter(reply_status=Message.Reply.RETRY),
        unfinished.filter(id__in=Item.objects.filter(status=Item.Status.RETRY).values("message_id")),
    ]
    ids: set[int] = set()
    for kind in kinds:
        ids.update(kind.order_by("-id").values_list("id", flat=True)[:ATTENTION_SHOWN])
    newest = sorted(ids, reverse=True)[:ATTENTION_SHOWN]
    fields = ("id", "flow", "message_key", "status", "received_at", "finished_at")
    return list(Message.objects.filter(id__in=newest).only(*fields).order_by("-id"))


def dashboard() -> dict:
    now = timezone.now()
    return {
        "flows": flow_table(now),
        "records": flow_records(now),
        "schedules": schedules(),
        "attention": attention(now),
        "items_retrying": Item.objects.filter(status=Item.Status.RETRY).count(),
    }
