"""The partners page: how each partner has answered over the last hour, and a connection test.

Where the hub calls each partner and how it authenticates is shown, never with
what secret. The figures come from the recorded calls (OutboundCall), per
partner and operation: last success, last failure, error rate, median and p95
latency.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Aggregate, Count, IntegerField, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from hub import partners
from hub.admin.detail import pretty_body
from hub.htmltext import html_summary, looks_like_html
from hub.models import OutboundCall

CREDENTIAL_KEYS = {"basic": ("username", "password"), "oauth2": ("token_url", "client_id", "client_secret")}
WINDOW = timedelta(hours=1)
BODY_SHOWN = 4000
Outcome = OutboundCall.Outcome


def connection_test_path(name: str) -> str:
    """What "Test connection" calls, relative to the partner's base URL (DACS_TEST_PATH, DERMS_TEST_PATH)."""
    return getattr(settings, f"{name}_TEST_PATH", "")


def partner_rows() -> list[dict]:
    rows = []
    for name, conf in sorted(settings.PARTNERS.items()):
        needed = CREDENTIAL_KEYS[conf["auth"]]
        rows.append(
            {
                "name": name,
                "base_url": conf["base_url"],
                "auth": conf["auth"],
                "credentials": "configured" if all(conf.get(k) for k in needed) else "not configured",
                "test_path": connection_test_path(name),
            }
        )
    return rows


# --- the last hour, per partner and operation ---------------------------------------------------
class Percentile(Aggregate):
    """PostgreSQL's nearest-rank percentile, computed in the grouping query itself."""

    function = "percentile_disc"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = IntegerField()

    def __init__(self, expression, *, share: float):
        super().__init__(expression, share=float(share))


def _percentile(calls, share: float, count: int) -> int:
    """The same percentile elsewhere (SQLite): one sorted read of the group's rows, not every row in Python."""
    rank = max(math.ceil(share * count), 1)
    return calls.order_by("duration_ms").values_list("duration_ms", flat=True)[rank - 1]


def partner_health(*, now: datetime | None = None) -> dict[str, list[dict]]:
    """Per partner, one row per operation called in the last hour (partners without calls: no rows)."""
    since = (now or timezone.now()) - WINDOW
    recent = OutboundCall.objects.filter(started_at__gte=since)
    groups = (
        recent.order_by()
        .values("partner", "operation")
        .annotate(
            calls=Count("id"),
            technical=Count("id", filter=Q(outcome=Outcome.TECHNICAL)),
            business=Count("id", filter=Q(outcome=Outcome.BUSINESS)),
            last_success=Max("started_at", filter=Q(outcome=Outcome.SUCCESS)),
            last_failure_at=Max("started_at", filter=~Q(outcome=Outcome.SUCCESS)),
        )
        .order_by("partner", "operation")
    )
    in_sql = connection.vendor == "postgresql"
    if in_sql:
        groups = groups.annotate(
            median_ms=Percentile("duration_ms", share=0.5), p95_ms=Percentile("duration_ms", share=0.95)
        )
    health: dict[str, list[dict]] = {name: [] for name in sorted(settings.PARTNERS)}
    for values in groups:
        row: dict[str, Any] = dict(values)  # the group's values, with the figures added below
        calls = recent.filter(partner=row["partner"], operation=row["operation"])
        failed = row["technical"] + row["business"]
        row["error_rate"] = round(100 * failed / row["calls"], 1)
        if not in_sql:
            row["median_ms"] = _percentile(calls, 0.5, row["calls"])
            row["p95_ms"] = _percentile(calls, 0.95, row["calls"])
        row["last_failure"] = (
            calls.exclude(outcome=Outcome.SUCCESS)
            .order_by("-started_at")
            .only("id", "started_at", "response_status", "outcome", "error")
            .first()
            if failed
            else None
        )
        health.setdefault(row["partner"], []).append(row)
    return health


# --- the connection test ------------------------------------------------------------------------
def verdict(name: str, result: partners.Result) -> tuple[bool, str]:
    """Whether the hub can talk to the partner, and what to check when it cannot.

    A connection test asks for no record, so no answer is a business error:
    anything but a 2xx is a connection problem.
    """
    status = result.status
    if result.ok:
        return True, f"Connected: {name} answered HTTP {status}."
    if status is None:
        return False, f"Cannot reach {name}: check {name}_BASE_URL and the network."
    if status in (401, 403):
        return False, f"{name} is reachable but refused the hub's credentials (HTTP {status}): check {name}_AUTH."
    if status == 404:
        return False, (
            f"{name} is reachable but nothing answers at the test path (HTTP 404): check {name}_BASE_URL"
            f" and {name}_TEST_PATH."
        )
    if status >= 500:
        return False, f"{name} is reachable but failed to answer (HTTP {status}): it may be down or overloaded."
    return False, f"{name} gave an answer the hub did not expect (HTTP {status})."


def connection_test(name: str) -> dict:
    """Call the partner's test path once, record the call as a technical outcome unless it succeeded."""
    result = partners.call(
        partners.Operation(name, "connection_test", f"{name}_TEST_PATH", method="GET"),
        read_timeout=settings.PARTNER_CONNECT_TIMEOUT_S,
    )
    body, summary = result.body, ""
    if isinstance(body, str) and looks_like_html(body):
        summary = html_summary(body)
        body = summary
    elif body is None or isinstance(body, str):
        body = body or ""
    else:
        body = pretty_body(json.dumps(body))
    error = result.error
    if summary and result.status is not None:
        error = f"HTTP {result.status}: {summary}"
    outcome = result.outcome
    if outcome == Outcome.BUSINESS:
        outcome = Outcome.TECHNICAL
    if result.call is not None and (outcome, error) != (result.call.outcome, result.call.error):
        OutboundCall.objects.filter(pk=result.call.pk).update(outcome=outcome, error=error)
    connected, text = verdict(name, result)
    return {
        "partner": name,
        "connected": connected,
        "verdict": text,
        "outcome": outcome,
        "status": result.status,
        "error": error,
        "body": body[:BODY_SHOWN],
        "body_is_summary": bool(summary),
        "duration_ms": result.call.duration_ms if result.call else None,
        "call": result.call,
    }


def partners_view(site, request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("hub.view_outboundcall"):
        raise PermissionDenied
    can_test = request.user.has_perm("hub.test_connection")
    answer = None
    if request.method == "POST":
        if not can_test:
            raise PermissionDenied
        name = request.POST.get("partner", "")
        if name not in settings.PARTNERS:
            raise Http404("unknown partner")
        answer = connection_test(name)
    health = partner_health()
    rows = partner_rows()
    for row in rows:
        row["operations"] = health.get(row["name"], [])
    context = {
        **site.each_context(request),
        "title": "Partners",
        "partners": rows,
        "window_minutes": int(WINDOW.total_seconds() // 60),
        "can_test": can_test,
        "answer": answer,
    }
    return TemplateResponse(request, "admin/hub/partners.html", context)
