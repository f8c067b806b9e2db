"""1,000 device status checks round trip through the stand-ins, DERMS answering each 100 ms later.

DACS → hub → DERMS stand-in (acknowledges, then posts its result after the
delay) → hub → DACS stand-in. Prints the time from each DACS request to the
DACS update (median, 99th percentile) and checks per second. Target: median
under 1 s above the stand-in's delay. Runs on PostgreSQL (BENCH_DATABASE_URL,
default the local server).

Two phases: the 1,000 checks as one burst (8 senders at once), which
measures throughput and the time spent queued behind the burst; then checks
one at a time at a pace the hub keeps up with, which measures the round trip
of a single check.
"""

import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from flows.device_status.samples import status_check
from tests.e2e.harness import Hub

COUNT = int(os.environ.get("BENCH_STATUS_COUNT", 1000))
DELAY_MS = 100
SENDERS = 8
WORKERS = os.environ.get("BENCH_STATUS_WORKERS", "4")
PACED = int(os.environ.get("BENCH_STATUS_PACED", 60))
PACE_S = 0.5
TIMINGS = """
from django.db.models import Avg, F
from hub.models import Message
for flow in ("device_status_checks", "device_status_responses"):
    row = Message.objects.filter(flow=flow, accepted_key__isnull=False).aggregate(
        wait=Avg(F("started_at") - F("received_at")), work=Avg(F("finished_at") - F("started_at")))
    print(flow, round(row["wait"].total_seconds() * 1000), round(row["work"].total_seconds() * 1000))
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), web_processes=2, LOG_LEVEL="WARNING", Q_WORKERS=WORKERS)
        hub.start()
        try:
            hub.knobs("DERMS", status_delay_ms=DELAY_MS)
            sent: dict[str, float] = {}

            def ask(n: int) -> None:
                check_id = f"BENCH-CD-{n:05d}"
                sent[check_id] = time.time()
                resp = hub.post("dacs/device-status-checks", status_check(check_id, f"ECB-{n:06d}"), system="DACS")
                assert resp.status_code == 202, resp.text

            started = time.time()
            with ThreadPoolExecutor(SENDERS) as pool:
                list(pool.map(ask, range(COUNT)))
            posted = time.time() - started
            hub.wait_for(
                lambda: len(hub.records("DACS", endpoint="status_response")) >= COUNT,
                timeout=900,
                every=2,
                what=f"{COUNT} DACS status updates",
            )
            updates = hub.records("DACS", endpoint="status_response")
            timings = [line.split() for line in hub.manage("shell", "-c", TIMINGS).stdout.splitlines()[-2:]]
            paced_sent: dict[str, float] = {}
            for n in range(COUNT, COUNT + PACED):
                paced_sent[f"BENCH-CD-{n:05d}"] = time.time()
                hub.post("dacs/device-status-checks", status_check(f"BENCH-CD-{n:05d}", f"ECB-{n:06d}"), system="DACS")
                time.sleep(PACE_S)
            hub.wait_for(
                lambda: len(hub.records("DACS", endpoint="status_response")) >= COUNT + PACED,
                timeout=300,
                every=1,
                what="the paced checks' DACS updates",
            )
            paced_updates = [r for r in hub.records("DACS", endpoint="status_response") if r["key"] in paced_sent]
        finally:
            hub.stop()
    arrived = {r["key"]: datetime.fromisoformat(r["receivedAt"]).timestamp() for r in updates}
    round_trips = [arrived[key] - at for key, at in sent.items()]
    paced_arrived = {r["key"]: datetime.fromisoformat(r["receivedAt"]).timestamp() for r in paced_updates}
    paced = [paced_arrived[key] - at for key, at in paced_sent.items()]
    paced_median = statistics.median(paced)
    median, p99 = statistics.median(round_trips), percentile(round_trips, 0.99)
    span = max(arrived.values()) - started
    return [
        f"database: {'PostgreSQL' if 'postgres' in hub.database_url else 'SQLite'}; {SENDERS} DACS senders at once",
        f"{COUNT} checks posted in {posted:.1f} s; every DACS update in {span:.1f} s ({COUNT / span:.0f} checks/s)",
        f"burst: DACS request → DACS update: median {median * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms,"
        f" max {max(round_trips) * 1000:.0f} ms (DERMS stand-in delay {DELAY_MS} ms)",
        f"one check at a time ({PACED} checks, one every {PACE_S} s): median {paced_median * 1000:.0f} ms,"
        f" p99 {percentile(paced, 0.99) * 1000:.0f} ms",
        f"median above the stand-in's delay: burst {median * 1000 - DELAY_MS:.0f} ms,"
        f" one at a time {paced_median * 1000 - DELAY_MS:.0f} ms; target < 1000 ms",
        f"updates at DACS: {len(updates)} for {len(arrived)} checks (each exactly once: {len(updates) == COUNT})",
        *(f"{flow}: average wait in queue {wait} ms, worker time {work} ms a message" for flow, wait, work in timings),
        f"qcluster workers: {WORKERS} (one of them runs the sweeper loop)",
    ]
