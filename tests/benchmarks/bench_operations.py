"""/metrics, /readyz and the retention purge on a large audit trail in PostgreSQL.

A real web server on its own database (BENCH_DATABASE_URL, default the local
server); BENCH_OPS_MESSAGES messages (default 200,000) with two items and two
outbound calls each are made with `generate_series`. Each endpoint is fetched
three times and the median printed; then every body is purged once.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
import requests

from tests.e2e.harness import Hub

COUNT = int(os.environ.get("BENCH_OPS_MESSAGES", 200_000))
FLOWS = ["enrollment_requests", "device_status_checks", "device_reservations", "event_cancellations"]

MESSAGES_SQL = """
INSERT INTO hub_message (tracking_id, flow, sender, message_key, accepted_key, status, http_status, method, path,
    content_type, headers, body_size, raw_body, ack_type, reply_status, reply_attempts, received_at, finished_at,
    claim, crashes, last_error)
SELECT gen_random_uuid(), (%(flows)s::text[])[1 + g %% 4], 'DERMS', 'OPS-' || g, 'OPS-' || g,
    CASE WHEN g %% 1000 = 0 THEN 'QUEUED' WHEN g %% 50 = 0 THEN 'FAILED' ELSE 'COMPLETED' END,
    202, 'POST', '/api/v1/bench', 'application/json', '{}'::jsonb, 2000, convert_to(repeat('x', 2000), 'UTF8'),
    'SUCCESS', 'SENT', 1, now() - interval '100 days' - g * interval '1 second', now() - interval '100 days',
    '', 0, ''
FROM generate_series(1, %(count)s) AS g
"""
ITEMS_SQL = """
INSERT INTO hub_item (message_id, seq, key, nic_id, external_id, data, status, attempts, last_error, updated_at)
SELECT m.id, s, s::text, 'NIC-' || m.id || '-' || s, '', '{}'::jsonb,
    CASE WHEN m.status = 'QUEUED' THEN 'PENDING' WHEN m.status = 'FAILED' THEN 'FAILURE' ELSE 'SUCCESS' END,
    1, '', now()
FROM hub_message m CROSS JOIN generate_series(0, 1) AS s
"""
CALLS_SQL = """
INSERT INTO hub_outboundcall (message_id, partner, operation, method, url, request_headers, request_body,
    response_status, response_body, outcome, error, started_at, duration_ms)
SELECT m.id, CASE WHEN s = 0 THEN 'DACS' ELSE 'DERMS' END, 'op' || s, 'POST', 'http://partner/x', '{}'::jsonb,
    repeat('r', 1000), 200, repeat('a', 500), CASE WHEN m.status = 'FAILED' THEN 'TECHNICAL' ELSE 'SUCCESS' END,
    '', m.received_at, (m.id * 7 + s * 13) % 2000
FROM hub_message m CROSS JOIN generate_series(0, 1) AS s
"""


def fill(database_url: str) -> float:
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(MESSAGES_SQL, {"flows": FLOWS, "count": COUNT})
        conn.execute(ITEMS_SQL)
        conn.execute(CALLS_SQL)
        for table in ("hub_message", "hub_item", "hub_outboundcall"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


def timed(url: str) -> tuple[float, int]:
    times = []
    for _ in range(3):
        started = time.monotonic()
        response = requests.get(url, timeout=300)
        times.append(time.monotonic() - started)
    return statistics.median(times), response.status_code


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), LOG_LEVEL="WARNING", Q_WORKERS="1")
        hub.start()
        try:
            hub.kill_worker()  # nothing to process; keeps the sweeper off the made-up rows
            made = fill(hub.database_url)
            lines.append(f"made {COUNT:,} messages, {2 * COUNT:,} items, {2 * COUNT:,} calls in {made:.0f} s")
            for label, path in (("/metrics", "/metrics"), ("/readyz", "/readyz"), ("/healthz", "/healthz")):
                seconds, status = timed(f"{hub.base}{path}")
                lines.append(f"{label}: {seconds * 1000:.0f} ms (HTTP {status})")
            started = time.monotonic()
            out = hub.manage("purge").stdout.strip()
            lines.append(f"purge: {time.monotonic() - started:.1f} s: {out}")
        finally:
            hub.stop()
    lines.append("target: /metrics well under a 15 s scrape timeout; /readyz < 1 s")
    return lines
