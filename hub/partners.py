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
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from hub.claims import claim_check
from hub.htmltext import html_summary, looks_like_html
from hub.models import Item, Message, OutboundCall

log = logging.getLogger(__name__)

BUSINESS_STATUSES = {"ERROR", "VAL-ERROR"}
TECHNICAL_HTTP = {401, 403, 408, 429}
MAX_RECORDED_BODY = 64 * 1024


@dataclass(frozen=True)
class Operation:
    """A partner operation a flow calls, declared once in the flow's package: the partner, the name
    its calls are recorded under, and the setting holding its path (relative to the partner's base
    URL; a setting because a deployment's API gateway may route it differently)."""

    partner: str  # System.DACS or System.DERMS
    name: str
    path_setting: str
    method: str = "POST"

    @property
    def path(self) -> str:
        return getattr(settings, self.path_setting)


# DACS's health check: the availability check before sending (flows 5 and 7) and "test connection".
DACS_HEALTH = Operation("DACS", "healthCheck", "DACS_HEALTH_PATH", method="GET")


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
_local = threading.local()  # per thread: its requests session and the slots it holds

# While every slot is taken, a waiting thread blocks on one slot for at most this long, then
# checks its claim (renewing the heartbeat) and tries all slots again.
SLOT_WAIT_S = 2.0


@contextmanager
def partner_slot(partner: str, *, wait: bool = True):
    """Hold one of PARTNER_CONCURRENCY slots for `partner`, across every process; yields whether it got one.

    PostgreSQL advisory locks bound all web and worker processes on every
    host; on SQLite (one machine) file locks under VAR_DIR do the same. A
    thread may hold its slot across many calls: nested uses are free. With
    `wait=False` a thread takes a free slot or none. Waiting blocks in the
    database (or on a file lock): it costs three queries per SLOT_WAIT_S (one
    tries every slot, two wait on one), not a query per poll.
    """
    held = _local.__dict__.setdefault("slots", set())
    if partner in held:  # this thread already holds one (see runner.run_parallel)
        yield True
        return
    slots = list(range(settings.PARTNER_CONCURRENCY))
    key = zlib.crc32(partner.encode()) & 0x7FFFFFFF
    vendor = "postgresql" if connection.vendor == "postgresql" else "file"
    while True:
        random.shuffle(slots)
        slot = _slot_take_free(vendor, key, partner, slots)
        if slot is None and wait:
            slot = slots[0] if _slot_take(vendor, key, partner, slots[0], block=True) else None
        if slot is not None:
            held.add(partner)
            try:
                yield True
            finally:
                held.discard(partner)
                _slot_free(vendor, key, partner, slot)
            return
        if not wait:
            yield False
            return
        claim_check()  # still ours? (raises Abandoned otherwise) and a heartbeat while waiting


def _slot_take_free(vendor: str, key: int, partner: str, slots: list[int]) -> int | None:
    """Take the first of `slots` that is free, without waiting; on PostgreSQL in one query."""
    if vendor == "postgresql":
        with connection.cursor() as cur:
            # The condition is evaluated row by row and the scan stops at the first lock taken, so at most
            # one slot is taken (an ORDER BY would evaluate it on every row first).
            cur.execute(
                "SELECT s FROM unnest(%s::int[]) AS s WHERE pg_try_advisory_lock(%s::int, s) LIMIT 1", [slots, key]
            )
            row = cur.fetchone()
        return None if row is None else row[0]
    return next((s for s in slots if _slot_take(vendor, key, partner, s, block=False)), None)


def _slot_take(vendor: str, key: int, partner: str, slot: int, *, block: bool) -> bool:
    """Take `slot`, waiting up to SLOT_WAIT_S if `block` (always on PostgreSQL: see _slot_take_free)."""
    if vendor == "postgresql":
        # A session-level lock, waited for in the server; lock_timeout bounds the wait. Inside a
        # transaction the wait gets a savepoint, so running out of time leaves the transaction usable.
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = %s", [f"{int(SLOT_WAIT_S * 1000)}ms"])
                cur.execute("SELECT pg_advisory_lock(%s, %s)", [key, slot])
            return True
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
                return False
            raise
    handles = _local.__dict__.setdefault("slot_files", {})
    lock_dir = settings.VAR_DIR / "locks"
    lock_dir.mkdir(exist_ok=True)
    fh = open(lock_dir / f"{partner}-{slot}.lock", "w")
    deadline = time.monotonic() + (SLOT_WAIT_S if block else 0)
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            handles[(partner, slot)] = fh
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                return False
            time.sleep(0.02)  # a file lock has no timed wait; this polls a file, not the database


def _slot_free(vendor: str, key: int, partner: str, slot: int) -> None:
    if vendor == "postgresql":
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", [key, slot])
        except (OperationalError, InterfaceError):
            pass  # the connection is gone, and its session locks with it
        return
    fh = _local.__dict__.setdefault("slot_files", {}).pop((partner, slot))
    fcntl.flock(fh, fcntl.LOCK_UN)
    fh.close()


# --- the call ----------------------------------------------------------------
@contextmanager
def recording_into(append):
    """Calls made by this thread inside the block are handed to `append` unsaved, for a bulk insert."""
    _local.recorder = append
    try:
        yield
    finally:
        _local.recorder = None


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.PARTNER_CONCURRENCY)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


class StreamBody:
    """A request body sent as it is read, never held whole in memory.

    `source` is an iterable of byte chunks or a file-like object; its length is
    known up front, so the body goes out with Content-Length, not chunked. It
    can be sent once only. A source that fails mid-way should raise OSError,
    which ends the call as a technical error like a dropped connection.
    """

    def __init__(self, source: Any, length: int, chunk_size: int = 1024 * 1024):
        self.length = length
        self._chunks = iter(lambda: source.read(chunk_size), b"") if hasattr(source, "read") else iter(source)

    def __iter__(self):
        return self._chunks

    def __len__(self) -> int:
        return self.length


def _clip(text: str) -> str:
    return text if len(text) <= MAX_RECORDED_BODY else text[:MAX_RECORDED_BODY] + "…[cut]"


def call(
    op: Operation,
    *,
    json_body: Any = None,
    data: Any = None,
    headers: dict | None = None,
    message: Message | None = None,
    item: Item | None = None,
    record: bool = True,
    read_timeout: float | None = None,
    body_length: int | None = None,
) -> Result:
    """Call the partner operation `op` and record the call.

    With `body_length`, `data` (chunks or a file-like object) is streamed as a
    StreamBody. Never raises for a partner's failure: the outcome says what happened.
    """
    partner, operation, method = op.partner, op.name, op.method
    conf = settings.PARTNERS[partner]
    url = f"{conf['base_url']}/{op.path.lstrip('/')}"
    sent_headers = {"Accept": "application/json", **(headers or {})}
    if message is not None:
        sent_headers["X-Correlation-ID"] = str(message.tracking_id)
    if json_body is not None:
        data = json.dumps(json_body, separators=(",", ":")).encode()
        sent_headers["Content-Type"] = "application/json"
    streamed = body_length is not None
    if body_length is not None:
        data = StreamBody(data, body_length)
    timeout = (settings.PARTNER_CONNECT_TIMEOUT_S, read_timeout or settings.PARTNER_READ_TIMEOUT_S)
    started = timezone.now()
    t0 = time.monotonic()
    status, body, error = None, None, ""
    with partner_slot(partner):
        claim_check()  # a worker that lost its message starts no call
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
                if not streamed:
                    continue
                with _tokens_lock:  # a stream cannot be sent again: the next call gets a new token
                    _tokens.pop(partner, None)
            break
    outcome = classify(status, body)
    if outcome != OutboundCall.Outcome.SUCCESS and not error:
        error = _error_text(status, body)
    record_row = None
    if record:
        record_row = OutboundCall(
            message=message,
            item=item,
            partner=partner,
            operation=operation,
            method=method,
            url=url,
            request_headers=sent_headers,
            request_body=_clip(data.decode("utf-8", "replace"))
            if isinstance(data, bytes)
            else (f"[{body_length} bytes streamed]" if streamed else ""),
            response_status=status,
            response_body=_clip(body if isinstance(body, str) else json.dumps(body)) if body is not None else "",
            outcome=outcome,
            error=error,
            started_at=started,
            duration_ms=int((time.monotonic() - t0) * 1000),
        )
        recorder = _local.__dict__.get("recorder")
        if recorder is not None:
            recorder(record_row)
        else:
            record_row.save()
    if outcome == OutboundCall.Outcome.TECHNICAL:
        log.warning("%s %s failed: %s", partner, operation, error)
    return Result(outcome=outcome, status=status, body=body, error=error, call=record_row)


def _error_text(status: int | None, body: Any) -> str:
    if isinstance(body, dict):
        text = body.get("messageText") or body.get("message") or body.get("error")
        if text:
            return str(text)
    if isinstance(body, str) and looks_like_html(body):
        return f"HTTP {status}: {html_summary(body)}"
    snippet = body if isinstance(body, str) else json.dumps(body)
    return f"HTTP {status}: {(snippet or '')[:300]}"
