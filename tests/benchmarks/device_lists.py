"""What the device-list benchmarks (flows 5 and 7) share: one multipart CSV posted to a hub of real
processes on PostgreSQL (BENCH_DATABASE_URL, default the local server; the targets are stated for it),
DACS answering each collection in LATENCY_MS, timed to the acknowledgement at DERMS."""

import os
import tempfile
import time
from pathlib import Path

from tests.benchmarks.procs import group_cpu_seconds, group_peaks
from tests.e2e.harness import Hub

LATENCY_MS = 100
COLLECTION = 500


def device_list_run(
    *, path: str, body: bytes, content_type: str, ack: str, key: str, noun: str, done: tuple[str, str]
) -> list[str]:
    """POST the CSV to `path`, wait for the acknowledgement `ack` of message `key`; the figures to print.

    `noun`: what the CSV lists ("devices"); `done`: the acknowledgement's count of those that went
    through and its word ("reservedCount", "reserved")."""
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), LOG_LEVEL="WARNING", Q_WORKERS="2")
        hub.start()
        try:
            web, worker = hub.process("web"), hub.process("worker")
            hub.knobs("DACS", latency_ms=LATENCY_MS, error_ids=[])
            web_cpu, worker_cpu = group_cpu_seconds(web.pid), group_cpu_seconds(worker.pid)
            started = time.monotonic()
            resp = hub.post_body(path, body, content_type)
            accepted = time.monotonic() - started
            web_cpu = group_cpu_seconds(web.pid) - web_cpu
            assert resp.status_code == 202, resp.text
            (body_ack,) = hub.wait_for(
                lambda: [r["body"] for r in hub.records("DERMS", endpoint=ack, key=key)],
                timeout=900,
                every=0.5,
                what="the acknowledgement",
            )
            elapsed = time.monotonic() - started
            worker_cpu = group_cpu_seconds(worker.pid) - worker_cpu
            load = os.getloadavg()[0]
            worker_peaks, web_peaks = group_peaks(worker.pid), group_peaks(web.pid)
            concurrency = int(hub.env.get("PARTNER_CONCURRENCY", 16))
        finally:
            hub.stop()
    count = body_ack["deviceCount"]
    collections = -(-count // COLLECTION)
    floor = collections * LATENCY_MS / 1000 / concurrency
    return [
        f"database: {'PostgreSQL' if 'postgres' in hub.database_url else 'SQLite'}",
        f"CSV of {count} {noun}, {len(body) / 1e6:.1f} MB",
        f"202 after {accepted:.2f} s (target for 100,000: < 3 s)",
        f"POST → {ack} at DERMS: {elapsed:.1f} s (target for 100,000: < 30 s); ackType {body_ack['ackType']},"
        f" {body_ack[done[0]]} {done[1]}",
        f"CPU: web {web_cpu:.1f} s to the 202; worker cluster {worker_cpu:.1f} s to the acknowledgement"
        f" (load average {load:.1f}: on a shared machine the CPU times say more than the clock)",
        f"floor: {collections} collections × {LATENCY_MS} ms at bound {concurrency}: {floor:.1f} s",
        "peak memory per process (target < 300 MB each): worker cluster "
        + ", ".join(f"{mb:.0f}" for mb in sorted(worker_peaks.values(), reverse=True))
        + " MB; web + stand-ins "
        + ", ".join(f"{mb:.0f}" for mb in sorted(web_peaks.values(), reverse=True))
        + " MB",
    ]
