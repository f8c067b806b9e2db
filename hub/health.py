"""`/healthz` (the process answers) and `/readyz` (it can do its work).

Both are public and say nothing secret: no URLs, names or credentials, only
whether each part answers and when things last happened.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule, Task

from hub.models import Message, OutboundCall, System
from hub.timefmt import iso_z

log = logging.getLogger(__name__)

BACKLOG = (Message.Status.QUEUED, Message.Status.PROCESSING)


def backlog_size(*, up_to: int | None = None) -> int:
    """Accepted messages not yet finished; counting stops at `up_to` so the check stays cheap."""
    unfinished = Message.objects.filter(status__in=BACKLOG)
    if up_to is not None:
        return unfinished.values("id")[:up_to].count()
    return unfinished.count()


def backlog_full() -> bool:
    limit = settings.BACKLOG_LIMIT
    return limit > 0 and backlog_size(up_to=limit + 1) > limit


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _broker() -> dict[str, Any]:
    broker = get_broker()
    return {"ok": bool(broker.ping()), "queued": broker.queue_size()}


def worker_heartbeat() -> datetime | None:
    """When a worker cluster last showed life: a task finished, or the scheduler moved a schedule on.

    Both are rows in the database, so every web process sees them whatever the
    cache. The scheduler moves the one-minute sweeper on every minute while a
    cluster runs, so a `next_run` at most a minute ahead means "just now".
    """
    last_task = Task.objects.aggregate(at=Max("stopped"))["at"]
    # `task` is set once a scheduler has run the schedule; a schedule no cluster ever ran says nothing.
    ran = Schedule.objects.filter(func="hub.processing.sweep", task__isnull=False)
    next_run = ran.aggregate(at=Max("next_run"))["at"]
    scheduled = next_run - timedelta(minutes=1) if next_run else None
    moments = [at for at in (last_task, scheduled) if at is not None]
    return max(moments) if moments else None


def _worker() -> dict[str, Any]:
    heartbeat = worker_heartbeat()
    max_age = settings.WORKER_HEARTBEAT_MAX_AGE_S
    age = (timezone.now() - heartbeat).total_seconds() if heartbeat else None
    return {
        "ok": age is not None and age <= max_age,
        "lastHeartbeatAt": iso_z(heartbeat),
        "ageSeconds": round(age) if age is not None else None,
        "maxAgeSeconds": max_age,
    }


def _partners() -> dict[str, Any]:
    """Last success and last call per partner: information only, a partner outage is not the hub's."""
    out = {}
    for partner in System.values:
        calls = OutboundCall.objects.filter(partner=partner).order_by("-started_at")
        last_success = calls.filter(outcome=OutboundCall.Outcome.SUCCESS).values_list("started_at", flat=True)[:1]
        last = calls.values_list("started_at", "outcome")[:1]
        out[partner] = {
            "lastSuccessAt": iso_z(last_success[0]) if last_success else None,
            "lastCallAt": iso_z(last[0][0]) if last else None,
            "lastOutcome": last[0][1] if last else None,
        }
    return out


def _check(name: str, probe) -> dict[str, Any]:
    try:
        return probe()
    except Exception as exc:  # whatever a probe meets, the hub is not ready: say so rather than answer 500
        log.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check("database", _database), "broker": _check("broker", _broker)}
    checks["worker"] = _check("worker", _worker) if checks["database"]["ok"] else {"ok": False}
    ready = all(check["ok"] for check in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": checks,
        "partners": _check("partners", _partners) if checks["database"]["ok"] else {},
        "backlog": {"messages": backlog_size(), "limit": settings.BACKLOG_LIMIT} if checks["database"]["ok"] else {},
    }
    return JsonResponse(body, status=200 if ready else 503)
