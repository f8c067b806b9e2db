"""The one outbound chokepoint: every call the hub makes to DACS or DERMS.

It adds authentication (Basic or OAuth2 client credentials, token cached until
it expires), `X-Correlation-ID`, connect/read timeouts and a bound on the
calls in flight per partner, records every call as an OutboundCall, and
classifies the answer as success, business error or technical error.
"""

from __future__ import annotations

import fcntl
import json
import logging
import random
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from hub.models import Item, Message, OutboundCall

log = logging.getLogger(__name__)

BUSINESS_STATUSES = {"ERROR", "VAL-ERROR"}
TECHNICAL_HTTP = {401, 403, 408, 429}
MAX_RECORDED_BODY = 64 * 1024


class PartnerError(Exception):
    """A technical failure that is not an HTTP answer (e.g. a bad token endpoint)."""


@dataclass
class Result:
    outcome: str  # OutboundCall.Outcome
    status: int | None
    body: Any  # parsed JSON when possible, else text
    error: str
    call: OutboundCall | None

    @property
    def ok(self) -> bool:
        return self.outcome == OutboundCall.Outcome.SUCCESS

    @property
    def technical(self) -> bool:
        return self.outcome == OutboundCall.Outcome.TECHNICAL


def classify(status: int | None, body: Any) -> str:
    """The contract's rules: success / business / technical."""
    if status is None or status >= 500 or status in TECHNICAL_HTTP:
        return OutboundCall.Outcome.TECHNICAL
    refused = isinstance(body, dict) and str(body.get("status", "")).upper() in BUSINESS_STATUSES
    if 200 <= status < 300 and not refused:
        return OutboundCall.Outcome.SUCCESS
    if 400 <= status < 500 or refused:
        return OutboundCall.Outcome.BUSINESS
    return OutboundCall.Outcome.TECHNICAL  # 1xx/3xx: not an answer the hub can use


# --- authentication ---------------------------------------------------------
_tokens: dict[str, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def _oauth2_token(partner: str, conf: dict, *, refresh: bool = False) -> str:
    with _tokens_lock:
        cached = _tokens.get(partner)
        if cached and not refresh and cached[1] > time.monotonic():
            return cached[0]
        data = {"grant_type": "client_credentials"}
        if conf["scope"]:
            data["scope"] = conf["scope"]
        try:
            resp = requests.post(
                conf["token_url"],
                data=data,
                auth=(conf["client_id"], conf["client_secret"]),
                timeout=(settings.PARTNER_CONNECT_TIMEOUT_S, settings.PARTNER_READ_TIMEOUT_S),
            )
            resp.raise_for_status()
            payload = resp.json()
            token = payload["access_token"]
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise PartnerError(f"{partner} token endpoint: {exc}") from exc
        # Renew a little early so a token never expires in flight.
        lifetime = float(payload.get("expires_in", 300))
        _tokens[partner] = (token, time.monotonic() + max(lifetime - 30, lifetime / 2))
        return token


def _auth_headers(partner: str, conf: dict, *, refresh: bool = False) -> tuple[dict, Any]:
    if conf["auth"] == "oauth2":
        return {"Authorization": f"Bearer {_oauth2_token(partner, conf, refresh=refresh)}"}, None
    if conf["username"]:
        return {}, (conf["username"], conf["password"])
    return {}, None


# --- concurrency bound -------------------------------------------------------
@contextmanager
def partner_slot(partner: str):
    """Hold one of PARTNER_CONCURRENCY slots for `partner`, across every process.

    PostgreSQL advisory locks bound all web and worker processes on every
    host; on SQLite (one machine) file locks under VAR_DIR do the same.
    """
    slots = list(range(settings.PARTNER_CONCURRENCY))
    key = zlib.crc32(partner.encode()) & 0x7FFFFFFF
    while True:
        random.shuffle(slots)
        for slot in slots:
            with _try_slot(key, partner, slot) as held:
                if held:
                    yield
                    return
        time.sleep(0.005)


@contextmanager
def _try_slot(key: int, partner: str, slot: int):
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, slot])
            held = cur.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s, %s)", [key, slot])
        return
    lock_dir = settings.VAR_DIR / "locks"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / f"{partner}-{slot}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- the call ----------------------------------------------------------------
_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.PARTNER_CONCURRENCY)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


def _clip(text: str) -> str:
    return text if len(text) <= MAX_RECORDED_BODY else text[:MAX_RECORDED_BODY] + "…[cut]"


def call(
    partner: str,
    operation: str,
    path: str,
    *,
    method: str = "POST",
    json_body: Any = None,
    data: Any = None,
    headers: dict | None = None,
    message: Message | None = None,
    item: Item | None = None,
    record: bool = True,
    read_timeout: float | None = None,
) -> Result:
    """Call `partner` at `path` (relative to its base URL) and record the call.

    Never raises for a partner's failure: the outcome says what happened.
    """
    conf = settings.PARTNERS[partner]
    url = f"{conf['base_url']}/{path.lstrip('/')}"
    sent_headers = {"Accept": "application/json", **(headers or {})}
    if message is not None:
        sent_headers["X-Correlation-ID"] = str(message.tracking_id)
    if json_body is not None:
        data = json.dumps(json_body, separators=(",", ":")).encode()
        sent_headers["Content-Type"] = "application/json"
    timeout = (settings.PARTNER_CONNECT_TIMEOUT_S, read_timeout or settings.PARTNER_READ_TIMEOUT_S)
    started = timezone.now()
    t0 = time.monotonic()
    status, body, error = None, None, ""
    with partner_slot(partner):
        for attempt in (1, 2):
            try:
                auth_headers, basic = _auth_headers(partner, conf, refresh=attempt == 2)
                resp = _session().request(
                    method, url, data=data, headers={**sent_headers, **auth_headers}, auth=basic, timeout=timeout
                )
            except (requests.RequestException, PartnerError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
            status = resp.status_code
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
            # An expired or revoked OAuth2 token: fetch a new one once.
            if status == 401 and conf["auth"] == "oauth2" and attempt == 1:
                continue
            break
    outcome = classify(status, body)
    if outcome != OutboundCall.Outcome.SUCCESS and not error:
        error = _error_text(status, body)
    record_row = None
    if record:
        record_row = OutboundCall.objects.create(
            message=message,
            item=item,
            partner=partner,
            operation=operation,
            method=method,
            url=url,
            request_headers=sent_headers,
            request_body=_clip(data.decode("utf-8", "replace")) if isinstance(data, bytes) else "",
            response_status=status,
            response_body=_clip(body if isinstance(body, str) else json.dumps(body)) if body is not None else "",
            outcome=outcome,
            error=error,
            started_at=started,
            duration_ms=int((time.monotonic() - t0) * 1000),
        )
    if outcome == OutboundCall.Outcome.TECHNICAL:
        log.warning("%s %s failed: %s", partner, operation, error)
    return Result(outcome=outcome, status=status, body=body, error=error, call=record_row)


def _error_text(status: int | None, body: Any) -> str:
    if isinstance(body, dict):
        text = body.get("messageText") or body.get("message") or body.get("error")
        if text:
            return str(text)
    snippet = body if isinstance(body, str) else json.dumps(body)
    return f"HTTP {status}: {(snippet or '')[:300]}"
