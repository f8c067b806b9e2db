"""10,000 enrollment requests through the stand-ins, DACS answering each call in 50 ms.

Runs on PostgreSQL (BENCH_DATABASE_URL, default the local server) as the
target is stated for it. DACS is the light stand-in of dacs_standin.py, in
this process (BENCH_DACS=builtin uses the hub's built-in Django stand-in,
which shares the hub's two cores and costs it about 3 ms of CPU a call).
Prints time from POST to the overall response at DERMS, requests per
second, the serial and parallel floors, and peak memory.
"""

import os
import tempfile
import time
from pathlib import Path

from flows.enrollment_requests.samples import enrollment_message
from tests.benchmarks.dacs_standin import dacs_standin
from tests.benchmarks.procs import group_cpu_seconds, group_peaks
from tests.e2e.harness import Hub
from tests.processes import shell_last_line

CALL_TIMES = """
from statistics import median, quantiles
from hub.models import OutboundCall
times = list(OutboundCall.objects.filter(operation="enroll").values_list("duration_ms", flat=True))
print(f"median {median(times):.0f} ms, p90 {quantiles(times, n=10)[-1]:.0f} ms")
"""
COUNT = int(os.environ.get("BENCH_ENROLLMENT_COUNT", 10_000))
LATENCY_MS = 50


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    builtin = os.environ.get("BENCH_DACS") == "builtin"
    with tempfile.TemporaryDirectory() as tmp, dacs_standin(LATENCY_MS) as dacs:
        web_processes = int(os.environ.get("BENCH_WEB_PROCESSES", 2))
        env = {} if builtin else {"DACS_BASE_URL": dacs.url}
        hub = Hub(Path(tmp), web_processes=web_processes, LOG_LEVEL="WARNING", Q_WORKERS="2", SWEEP_POLL_S="2", **env)
        hub.start()
        try:
            hub.knobs("DACS", latency_ms=LATENCY_MS, error_ids=[])
            body = enrollment_message(f"BENCH-ENR-{COUNT}", COUNT)
            started = time.monotonic()
            resp = hub.post("derms/enrollment-requests", body)
            accepted = time.monotonic() - started
            assert resp.status_code == 202, resp.text
            hub.wait_for(
                lambda: hub.records("DERMS", endpoint="enrollment_response", key=f"BENCH-ENR-{COUNT}"),
                timeout=900,
                every=1,
                what="the overall response",
            )
            elapsed = time.monotonic() - started
            worker_peak = max(group_peaks(hub.process("worker").pid).values())
            web_peak = max(group_peaks(hub.process("web").pid).values())
            call_ms = shell_last_line(hub.env, CALL_TIMES)
            worker_cpu = group_cpu_seconds(hub.process("worker").pid)
            web_cpu = group_cpu_seconds(hub.process("web").pid)
            concurrency = int(hub.env.get("PARTNER_CONCURRENCY", 16))
        finally:
            hub.stop()
    serial = COUNT * LATENCY_MS / 1000
    return [
        f"database: {'PostgreSQL' if 'postgres' in hub.database_url else 'SQLite'}",
        "DACS stand-in: "
        + (
            "built-in (Django, in the hub's web processes)"
            if builtin
            else f"light HTTP/1.1 server in the benchmark's process, {len(dacs.requests)} calls received"
        ),
        f"202 after {accepted:.2f} s",
        f"POST → overall response at DERMS: {elapsed:.1f} s  ({COUNT / elapsed:.0f} requests/s)",
        f"floors: serial {serial:.0f} s, parallel at bound {concurrency}: {serial / concurrency:.1f} s; target < 45 s",
        f"DACS calls as the hub timed them (stand-in latency {LATENCY_MS} ms): {call_ms}",
        f"CPU used: worker {worker_cpu:.1f} s, web + stand-ins {web_cpu:.1f} s",
        f"peak memory: worker {worker_peak:.0f} MB (target < 300 MB), web + stand-ins {web_peak:.0f} MB",
    ]
