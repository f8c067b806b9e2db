"""Retention: after RETENTION_DAYS the bodies go, the audit rows stay.

A finished message older than the limit loses its raw body (its size,
headers, status, errors and acknowledgement stay); an outbound call older than
the limit loses its request and response bodies (partner, operation, status,
outcome and duration stay). Work that is not finished is never touched, nor
are the calls it made, however old.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from hub.models import Message, OutboundCall

log = logging.getLogger(__name__)

CHUNK = 2000  # rows per UPDATE, so no statement holds its locks for long


def _in_chunks(queryset, **changes) -> int:
    done = 0
    while True:
        ids = list(queryset.values_list("id", flat=True)[:CHUNK])
        if not ids:
            return done
        # The filter is repeated so that a row that changed since it was listed is left alone.
        done += queryset.filter(id__in=ids).update(**changes)
        if len(ids) < CHUNK:
            return done


def purgeable(*, cutoff: datetime) -> dict[str, QuerySet]:
    """The querysets a purge with this cutoff clears."""
    messages = (
        Message.objects.filter(received_at__lt=cutoff, raw_body__isnull=False)
        .exclude(status__in=Message.UNFINISHED)
        .order_by()
    )
    calls = (
        OutboundCall.objects.filter(started_at__lt=cutoff)
        .exclude(request_body="", response_body="")
        .filter(Q(message__isnull=True) | ~Q(message__status__in=Message.UNFINISHED))
        .order_by()
    )
    return {"messages": messages, "calls": calls}


def retention_purge(*, days: int | None = None, dry_run: bool = False) -> dict[str, int]:
    """Clear the bodies older than `days` (RETENTION_DAYS by default); returns the rows changed per kind."""
    days = settings.RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = timezone.now() - timedelta(days=days)
    targets = purgeable(cutoff=cutoff)
    if dry_run:
        return {name: queryset.count() for name, queryset in targets.items()}
    counts = {
        "messages": _in_chunks(targets["messages"], raw_body=None),
        "calls": _in_chunks(targets["calls"], request_body="", response_body=""),
    }
    log.info(
        "retention purge older than %s days: %s message bodies, %s call bodies",
        days,
        counts["messages"],
        counts["calls"],
    )
    return counts


def retention_purge_task() -> dict[str, int]:
    """The daily django-q2 schedule (hub/ops/migrations)."""
    return retention_purge()
