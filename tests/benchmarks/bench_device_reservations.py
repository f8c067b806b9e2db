"""100,000 devices reserved from one multipart CSV, DACS answering each collection in 100 ms.

Runs on PostgreSQL (BENCH_DATABASE_URL, default the local server) as the
targets are stated for it; prints the time to the 202, the time to the
acknowledgement at DERMS, and the peak memory of the web and worker processes.
BENCH_RESERVATION_DEVICES changes the number of devices (the targets are for 100,000).
"""

import os
import tempfile
import time
from pathlib import Path

import requests

from flows.device_reservations.samples import multipart_body, reservation_csv, reservation_header
from tests.benchmarks.procs import group_peaks
from tests.e2e.harness import Hub

COUNT = int(os.environ.get("BENCH_RESERVATION_DEVICES", 100_000))
LATENCY_MS = 100
COLLECTION = 500


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    body, content_type = multipart_body(reservation_header("BENCH-RSV-100K", "EVT-BENCH-100K"), reservation_csv(COUNT))
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), LOG_LEVEL="WARNING", Q_WORKERS="2")
        hub.start()
        try:
            hub.knobs("DACS", latency_ms=LATENCY_MS, error_ids=[])
            started = time.monotonic()
            resp = requests.post(
                f"{hub.base}/api/v1/derms/device-reservations",
                data=body,
                headers={"Authorization": f"Token {hub.tokens['DERMS']}", "Content-Type": content_type},
                timeout=120,
            )
            accepted = time.monotonic() - started
            assert resp.status_code == 202, resp.text
            (ack,) = hub.wait_for(
                lambda: [r["body"] for r in hub.records("DERMS", endpoint="reservation_ack", key="BENCH-RSV-100K")],
                timeout=900,
                every=0.5,
                what="the acknowledgement",
            )
            elapsed = time.monotonic() - started
            worker_peak = max(group_peaks(hub.process("worker").pid).values())
            web_peak = max(group_peaks(hub.process("web").pid).values())
            concurrency = int(hub.env.get("PARTNER_CONCURRENCY", 16))
        finally:
            hub.stop()
    collections = COUNT // COLLECTION
    floor = collections * LATENCY_MS / 1000 / concurrency
    return [
        f"database: {'PostgreSQL' if 'postgres' in hub.database_url else 'SQLite'}",
        f"CSV of {COUNT} devices, {len(body) / 1e6:.1f} MB",
        f"202 after {accepted:.2f} s (target for 100,000: < 3 s)",
        f"POST → reservation_ack at DERMS: {elapsed:.1f} s (target for 100,000: < 30 s); ackType {ack['ackType']},"
        f" {ack['reservedCount']} reserved",
        f"floor: {collections} collections × {LATENCY_MS} ms at bound {concurrency}: {floor:.1f} s",
        f"peak memory: worker {worker_peak:.0f} MB, web + stand-ins {web_peak:.0f} MB (target < 300 MB each)",
    ]
