"""`/metrics` in the Prometheus text format, computed from the database at scrape time.

Every figure is read from the audit trail when Prometheus asks, so it is the
same whichever of several web processes answers, and nothing is lost when a
process restarts. Counters count rows that are never deleted (retention only
clears bodies), so they only grow.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Min, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_q.brokers import get_broker
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from hub.health import BACKLOG, worker_heartbeat
from hub.models import Item, Message, Notification, OutboundCall
from hub.registry import flow_apps

LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def message_metrics() -> Iterator[Metric]:
    received = CounterMetricFamily("hub_messages_received", "Inbound messages stored, by flow.", labels=["flow"])
    by_status = GaugeMetricFamily("hub_messages", "Inbound messages by flow and status.", labels=["flow", "status"])
    totals: dict[str, int] = {}
    for row in Message.objects.values("flow", "status").annotate(n=Count("id")).order_by():
        by_status.add_metric([row["flow"], row["status"]], row["n"])
        totals[row["flow"]] = totals.get(row["flow"], 0) + row["n"]
    for flow, n in sorted(totals.items()):
        received.add_metric([flow], n)
    yield received
    yield by_status

    items = GaugeMetricFamily("hub_items", "Records of messages by flow and status.", labels=["flow", "status"])
    for item_row in Item.objects.values("message__flow", "status").annotate(n=Count("id")).order_by():
        items.add_metric([item_row["message__flow"], item_row["status"]], item_row["n"])
    yield items


def queue_metrics() -> Iterator[Metric]:
    now = timezone.now()
    depth = GaugeMetricFamily("hub_queue_depth", "Accepted messages not finished yet, by flow.", labels=["flow"])
    oldest = GaugeMetricFamily(
        "hub_queue_oldest_age_seconds", "Age of the oldest unfinished message, by flow.", labels=["flow"]
    )
    rows = Message.objects.filter(status__in=BACKLOG).values("flow").annotate(n=Count("id"), first=Min("received_at"))
    for row in rows.order_by():
        depth.add_metric([row["flow"]], row["n"])
        oldest.add_metric([row["flow"]], (now - row["first"]).total_seconds())
    yield depth
    yield oldest
    yield GaugeMetricFamily(
        "hub_broker_queued_tasks", "Tasks waiting in the django-q2 broker.", value=get_broker().queue_size()
    )
    heartbeat = worker_heartbeat()
    if heartbeat is not None:
        yield GaugeMetricFamily(
            "hub_worker_heartbeat_age_seconds",
            "Seconds since a worker cluster showed life.",
            value=(now - heartbeat).total_seconds(),
        )


def partner_metrics() -> Iterator[Metric]:
    calls = CounterMetricFamily(
        "hub_partner_calls",
        "Calls to partners by partner, operation and outcome.",
        labels=["partner", "operation", "outcome"],
    )
    for row in OutboundCall.objects.values("partner", "operation", "outcome").annotate(n=Count("id")).order_by():
        calls.add_metric([row["partner"], row["operation"], row["outcome"]], row["n"])
    yield calls

    latency = HistogramMetricFamily(
        "hub_partner_call_duration_seconds", "Duration of calls to partners.", labels=["partner"]
    )
    per_bucket = {f"le{i}": Count("id", filter=Q(duration_ms__lte=b * 1000)) for i, b in enumerate(LATENCY_BUCKETS_S)}
    rows = OutboundCall.objects.values("partner").annotate(n=Count("id"), ms=Sum("duration_ms"), **per_bucket)
    for partner in rows.order_by():
        # The django-stubs plugin leaves the **per_bucket annotations out of the row's TypedDict.
        buckets = [(str(float(b)), partner[f"le{i}"]) for i, b in enumerate(LATENCY_BUCKETS_S)]  # type: ignore[literal-required]
        buckets.append(("+Inf", partner["n"]))
        latency.add_metric([partner["partner"]], buckets, sum_value=(partner["ms"] or 0) / 1000)
    yield latency


def email_metrics() -> Iterator[Metric]:
    """Emails by kind and status: RETRY growing means the SMTP server is down, FAILED ones wait for support."""
    emails = GaugeMetricFamily("hub_emails", "Emails by kind and status.", labels=["kind", "status"])
    for row in Notification.objects.values("kind", "status").annotate(n=Count("id")).order_by():
        emails.add_metric([row["kind"], row["status"]], row["n"])
    yield emails


class DatabaseCollector:
    def collect(self) -> Iterator[Metric]:
        yield from message_metrics()
        yield from queue_metrics()
        yield from partner_metrics()
        yield from email_metrics()
        for app in flow_apps():
            yield from app.metrics()


def authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not authorized(request):
        response = HttpResponse(
            "Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
