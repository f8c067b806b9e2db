"""The console on 1,000,000 messages (2,000,000 items) in PostgreSQL: how long each page takes.

A real web server on its own database (BENCH_DATABASE_URL, default the
local server); rows are made with `generate_series`, then each page is
fetched three times by a logged-in superuser and the median is printed.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
import requests

from tests.e2e.harness import Hub

COUNT = int(os.environ.get("BENCH_CONSOLE_MESSAGES", 1_000_000))
FLOWS = ["enrollment_requests", "device_status", "enrollment_sync", "device_reservations", "event_cancellations"]
TARGET_S = 1.0

MESSAGES_SQL = """
INSERT INTO hub_message (tracking_id, flow, sender, message_key, accepted_key, status, http_status, method, path,
    content_type, headers, body_size, raw_body, ack_type, reply_status, reply_attempts, received_at, finished_at,
    claim, crashes, last_error)
SELECT gen_random_uuid(), (%(flows)s::text[])[1 + g %% 5], 'DERMS', 'BENCH-' || g, 'BENCH-' || g,
    CASE WHEN g %% 100 = 0 THEN 'FAILED' WHEN g %% 100 < 8 THEN 'COMPLETED_WITH_ERRORS'
         WHEN g %% 1000 = 999 THEN 'RECEIVED' ELSE 'COMPLETED' END,
    202, 'POST', '/api/v1/bench', 'application/json', '{}'::jsonb, 300, convert_to(repeat('x', 300), 'UTF8'),
    'SUCCESS', 'SENT', 1, now() - g * interval '20 seconds', now() - g * interval '20 seconds' + interval '3 seconds',
    '', 0, ''
FROM generate_series(1, %(count)s) AS g
"""
ITEMS_SQL = """
INSERT INTO hub_item (message_id, seq, key, nic_id, external_id, data, status, attempts, last_error, updated_at)
SELECT m.id, s, s::text, 'NIC-' || m.id || '-' || s, CASE WHEN s = 0 THEN 'E-' || m.id ELSE '' END, '{}'::jsonb,
    CASE WHEN m.status = 'FAILED' AND s = 1 THEN 'FAILURE' WHEN m.status = 'RECEIVED' THEN 'PENDING'
         ELSE 'SUCCESS' END, 1, '', now()
FROM hub_message m CROSS JOIN generate_series(0, 1) AS s
"""


def fill(database_url: str) -> float:
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(MESSAGES_SQL, {"flows": FLOWS, "count": COUNT})
        conn.execute(ITEMS_SQL)
        conn.execute("VACUUM ANALYZE hub_message")
        conn.execute("VACUUM ANALYZE hub_item")
    return time.monotonic() - started


def login(hub: Hub) -> requests.Session:
    hub.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.create_superuser('bench', password='bench-pass-123')",
    )
    session = requests.Session()
    page = session.get(f"{hub.base}/admin/login/", timeout=30)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found is not None, "no CSRF token on the login page"
    token = found.group(1)
    session.post(
        f"{hub.base}/admin/login/",
        timeout=30,
        data={
            "csrfmiddlewaretoken": token,
            "username": "bench",
            "password": "bench-pass-123",
            "next": "/admin/",
        },
    )
    return session


def timed(session: requests.Session, url: str) -> tuple[float, int]:
    times = []
    for _ in range(3):
        started = time.monotonic()
        response = session.get(url, timeout=120)
        times.append(time.monotonic() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(response.content)


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), LOG_LEVEL="WARNING", Q_WORKERS="1")
        hub.start()
        try:
            hub.kill_worker()  # nothing to process; keeps the sweeper off the made-up rows
            lines.append(f"made {COUNT:,} messages and {2 * COUNT:,} items in {fill(hub.database_url):.0f} s")
            session = login(hub)
            with psycopg.connect(hub.database_url) as conn:
                row = conn.execute(
                    "SELECT id, tracking_id FROM hub_message WHERE message_key = %s", [f"BENCH-{COUNT // 2}"]
                ).fetchone()
                assert row is not None
                middle, tracking = row
            admin = f"{hub.base}/admin/"
            busiest = "flow=enrollment_requests&status=COMPLETED&p=50"
            pages = {
                "dashboard (admin index)": admin,
                "messages, newest first": f"{admin}hub/message/",
                "filter by flow": f"{admin}hub/message/?flow=device_status",
                "filter by status FAILED": f"{admin}hub/message/?status=FAILED",
                "filter needs attention": f"{admin}hub/message/?attention=any",
                "filter by flow + status, page 50": f"{admin}hub/message/?{busiest}",
                "search by message id": f"{admin}hub/message/?q=BENCH-{COUNT // 2}",
                "search by tracking id": f"{admin}hub/message/?q={tracking}",
                "search by nicId (on items)": f"{admin}hub/message/?q=NIC-{middle}-1",
                "search by enrollment id (on items)": f"{admin}hub/message/?q=E-{middle}",
                "message page": f"{admin}hub/message/{middle}/change/",
                "items list": f"{admin}hub/item/",
                "error hospital": f"{admin}hospital/",
                "partners page": f"{admin}partners/",
            }
            for label, url in pages.items():
                seconds, size = timed(session, url)
                lines.append(f"{label}: {seconds * 1000:.0f} ms ({size // 1024} KB)")
        finally:
            hub.stop()
    lines.append(f"target: every page < {TARGET_S:.0f} s")
    return lines
