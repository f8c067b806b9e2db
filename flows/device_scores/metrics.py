"""The score files' own figures on /metrics."""

from collections.abc import Iterator

from django.db.models import Count, Sum
from prometheus_client.core import CounterMetricFamily, Metric

from flows.device_scores.models import ScoreFile


def score_file_metrics() -> Iterator[Metric]:
    files = CounterMetricFamily("hub_score_files", "Score files taken by transfers, by outcome.", labels=["status"])
    sent = CounterMetricFamily("hub_score_bytes_sent", "Bytes of score files delivered to DERMS.")
    for row in ScoreFile.objects.values("status").annotate(n=Count("id")).order_by():
        files.add_metric([row["status"]], row["n"])
    sent.add_metric([], ScoreFile.objects.aggregate(b=Sum("bytes_sent"))["b"] or 0)
    yield files
    yield sent
