"""100,000 event outcomes from one multipart CSV, DACS answering each collection in 100 ms.

Runs on PostgreSQL (BENCH_DATABASE_URL, default the local server) as the
targets are stated for it; prints the time to the 202, the time to the
acknowledgement at DERMS, and the peak memory of each hub process.
BENCH_OUTCOME_DEVICES changes the number of devices (the targets are for 100,000).
"""

import os
import tempfile
import time
from pathlib import Path

import requests

from flows.event_outcomes.samples import multipart_body, outcome_csv, outcome_header
from tests.benchmarks.procs import group_cpu_seconds, group_peaks
from tests.e2e.harness import Hub

COUNT = int(os.environ.get("BENCH_OUTCOME_DEVICES", 100_000))
LATENCY_MS = 100
COLLECTION = 500


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    body, content_type = multipart_body(outcome_header("BENCH-OUT-100K", "EVT-BENCH-OUT-100K"), outcome_csv(COUNT))
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), LOG_LEVEL="WARNING", Q_WORKERS="2")
        hub.start()
        assert hub.web is not None and hub.worker is not None
        try:
            hub.knobs("DACS", latency_ms=LATENCY_MS, error_ids=[])
            web_cpu, worker_cpu = group_cpu_seconds(hub.web.pid), group_cpu_seconds(hub.worker.pid)
            started = time.monotonic()
            resp = requests.post(
                f"{hub.base}/api/v1/derms/event-outcomes",
                data=body,
                headers={"Authorization": f"Token {hub.tokens['DERMS']}", "Content-Type": content_type},
                timeout=120,
            )
            accepted = time.monotonic() - started
            web_cpu = group_cpu_seconds(hub.web.pid) - web_cpu
            assert resp.status_code == 202, resp.text
            (ack,) = hub.wait_for(
                lambda: [r["body"] for r in hub.records("DERMS", endpoint="event_outcome_ack", key="BENCH-OUT-100K")],
                timeout=900,
                every=0.5,
                what="the acknowledgement",
            )
            elapsed = time.monotonic() - started
            worker_cpu = group_cpu_seconds(hub.worker.pid) - worker_cpu
            load = os.getloadavg()[0]
            worker_peaks = group_peaks(hub.worker.pid)
            web_peaks = group_peaks(hub.web.pid)
            concurrency = int(hub.env.get("PARTNER_CONCURRENCY", 16))
        finally:
            hub.stop()
    collections = -(-COUNT // COLLECTION)
    floor = collections * LATENCY_MS / 1000 / concurrency
    return [
        f"database: {'PostgreSQL' if 'postgres' in hub.database_url else 'SQLite'}",
        f"CSV of {COUNT} outcomes, {len(body) / 1e6:.1f} MB",
        f"202 after {accepted:.2f} s (target for 100,000: < 3 s)",
        f"POST → event_outcome_ack at DERMS: {elapsed:.1f} s (target for 100,000: < 30 s); ackType {ack['ackType']},"
        f" {ack['postedCount']} posted",
        f"CPU: web {web_cpu:.1f} s to the 202; worker cluster {worker_cpu:.1f} s to the acknowledgement"
        f" (load average {load:.1f}: on a shared machine the CPU times say more than the clock)",
        f"floor: {collections} collections × {LATENCY_MS} ms at bound {concurrency}: {floor:.1f} s",
        "peak memory per process (target < 300 MB each): worker cluster "
        + ", ".join(f"{mb:.0f}" for mb in sorted(worker_peaks.values(), reverse=True))
        + " MB; web + stand-ins "
        + ", ".join(f"{mb:.0f}" for mb in sorted(web_peaks.values(), reverse=True))
        + " MB",
    ]
