"""The machinery every stand-in endpoint shares: knobs, latency, failures, recording.

Knobs (per partner, stored in the database so every web process sees them):
  latency_ms     delay before each answer
  failure_rate   share of calls answered 503 (a transient failure), 0..1
  fail_times     the first N calls for each key are answered 503 (a deterministic transient failure)
  down           answer 503 to everything (health checks included)
  error_ids      ids refused with a business error (matched by each endpoint)
plus endpoint-specific knobs documented beside each endpoint. Defaults come
from SIM_<PARTNER>_<KNOB> environment variables.

The knobs (/sim/<partner>/_knobs) and what a stand-in received
(/sim/<partner>/_records) ask for an account of the hub: a staff user
(logged in to the console, or HTTP Basic / `Authorization: Token <key>`) or a
DERMS or DACS partner account (HTTP Basic or Token), the accounts a test or
demo already drives the hub with. No credentials: 401; any other user: 403.
The stand-in partner endpoints themselves take what the hub sends, as the
real partners would.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import environ
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.authentication import BasicAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from hub.inbound import user_system
from hub.simulators.models import SimKnobs, SimRecord

env = environ.Env()
log = logging.getLogger(__name__)


def default_knobs(partner: str) -> dict[str, Any]:
    prefix = f"SIM_{partner}_"
    return {
        "latency_ms": env.float(prefix + "LATENCY_MS", default=20),
        "failure_rate": env.float(prefix + "FAILURE_RATE", default=0.0),
        "fail_times": env.int(prefix + "FAIL_TIMES", default=0),
        "down": env.bool(prefix + "DOWN", default=False),
        "error_ids": env.list(prefix + "ERROR_IDS", default=["BYOT-X"]),
    }


_knobs_cache: dict[str, tuple[float, dict]] = {}
KNOBS_CACHE_S = 1.0


def knobs_for(partner: str, *, fresh: bool = False) -> dict[str, Any]:
    """The partner's knobs; read from the database at most once a second per process (a change made
    through this process's knobs endpoint is seen at once, by the others within a second)."""
    cached = _knobs_cache.get(partner)
    if cached and not fresh and time.monotonic() - cached[0] < KNOBS_CACHE_S:
        return cached[1]
    row = SimKnobs.objects.filter(partner=partner).first()
    knobs = {**default_knobs(partner), **(row.knobs if row else {})}
    _knobs_cache[partner] = (time.monotonic(), knobs)
    return knobs


def record(partner: str, endpoint: str, key: str, body: Any, status: int, answer: Any) -> SimRecord:
    return SimRecord.objects.create(
        partner=partner, endpoint=endpoint, key=str(key or "")[:200], body=body, status=status, answer=answer
    )


Handler = Callable[[Any, dict], tuple[int, Any]]


def failing_still(partner: str, name: str, key: str, knobs: dict) -> bool:
    """True while this key has had fewer than `fail_times` calls answered 503 (by any knob)."""
    if not knobs.get("fail_times"):
        return False
    answered = SimRecord.objects.filter(partner=partner, endpoint=name, key=str(key or "")[:200], status=503)
    return answered.count() < knobs["fail_times"]


def endpoint(partner: str, name: str, key: Callable[[Any], str], handler: Handler, method: str = "POST"):
    """A stand-in endpoint: applies the knobs, calls `handler(body, knobs)`, records the exchange."""

    @csrf_exempt
    @require_http_methods([method])
    def view(request: HttpRequest):
        knobs = knobs_for(partner)
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            body = request.body.decode("utf-8", "replace")[:10000]
        if knobs["latency_ms"]:
            time.sleep(knobs["latency_ms"] / 1000)
        try:
            record_key = key(body)
        except (KeyError, TypeError, AttributeError):
            record_key = ""
        if knobs["down"] or random.random() < knobs["failure_rate"] or failing_still(partner, name, record_key, knobs):
            status, answer = 503, {"error": "Service temporarily unavailable"}
        else:
            status, answer = handler(body, knobs)
        record(partner, name, record_key, body, status, answer)
        return JsonResponse(answer, status=status, safe=False)

    return view


def operator_required(view):
    """Only the accounts the module docstring names may see or change a stand-in."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs):
        user = request.user if request.user.is_authenticated else None
        try:
            for scheme in (BasicAuthentication(), TokenAuthentication()):
                user = user or (scheme.authenticate(Request(request)) or (None,))[0]
        except AuthenticationFailed as exc:
            user, reason = None, str(exc.detail)
        else:
            reason = "Credentials are required: a staff user or a DERMS or DACS partner account."
        if user is None:
            response = JsonResponse({"error": "not_authenticated", "message": reason}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="stand-ins"'
            return response
        if not (user.is_staff or user_system(user)):
            return JsonResponse(
                {"error": "forbidden", "message": "Only staff users and partner accounts may use the stand-ins."},
                status=403,
            )
        return view(request, *args, **kwargs)

    return guarded


@csrf_exempt
@operator_required
@require_http_methods(["GET", "PUT", "POST"])
def knobs_view(request: HttpRequest, partner: str):
    """GET the knobs; PUT/POST a JSON object to change some of them."""
    if request.method != "GET":
        changes = json.loads(request.body or b"{}")
        row, _ = SimKnobs.objects.get_or_create(partner=partner)
        row.knobs = {**row.knobs, **changes}
        row.save()
    return JsonResponse(knobs_for(partner, fresh=True))


@csrf_exempt
@operator_required
@require_http_methods(["GET", "DELETE"])
def records_view(request: HttpRequest, partner: str):
    """GET what the stand-in received (?endpoint=, ?key=, ?status=); DELETE forgets it all."""
    rows = SimRecord.objects.filter(partner=partner)
    if request.method == "DELETE":
        rows.delete()
        SimKnobs.objects.filter(partner=partner).delete()
        _knobs_cache.pop(partner, None)
        return JsonResponse({"deleted": True})
    for field in ("endpoint", "key", "status"):
        if request.GET.get(field):
            rows = rows.filter(**{field: request.GET[field]})
    data = [
        {
            "endpoint": r.endpoint,
            "key": r.key,
            "status": r.status,
            "body": r.body,
            "answer": r.answer,
            "receivedAt": r.received_at.isoformat(),
        }
        for r in rows
    ]
    return JsonResponse({"count": len(data), "records": data})


def derms_token() -> str:
    """The stand-in calls the hub as the first DERMS partner account."""
    user = User.objects.filter(groups__name="DERMS", is_active=True).order_by("id").first()
    if user is None:
        raise RuntimeError("No DERMS partner account for the stand-in to call the hub with")
    return Token.objects.get_or_create(user=user)[0].key


def hub_callback(path: str, body: dict, *, delay_s: float = 0, wait: bool = False) -> None:
    """POST `body` to the hub's /api/v1/<path> as DERMS, after `delay_s`; inline when `wait`."""
    url = f"{settings.HUB_BASE_URL}/api/v1/{path}"
    headers = {"Authorization": f"Token {derms_token()}"}

    def post() -> None:
        for attempt in range(1, 6):
            try:
                resp = requests.post(url, json=body, headers=headers, timeout=60)
                if resp.status_code < 500:
                    return
            except requests.RequestException as exc:
                log.warning("stand-in callback to %s failed: %s", url, exc)
            time.sleep(attempt * 0.5)

    if wait:
        post()
        return
    timer = threading.Timer(delay_s, post)
    timer.daemon = True
    timer.start()
