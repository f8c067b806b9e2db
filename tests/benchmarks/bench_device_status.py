"""1,000 device status checks round trip through the stand-ins, DERMS answering each 100 ms later.

DACS → hub → DERMS stand-in (acknowledges, then posts its result after the
delay) → hub → DACS stand-in. Runs on PostgreSQL (BENCH_DATABASE_URL,
default the local server). Two phases:

- the 1,000 checks sent steadily (BENCH_STATUS_RATE a second, default 10, by
  several senders): the time from each DACS request to its DACS update
  (median, 99th percentile), against the target of a median under 1 s above
  the stand-in's delay. Status checks are single troubleshooting requests
  that DACS sends as they come, so this is the round trip DACS sees;
- a burst (BENCH_STATUS_BURST checks, default 300, 8 senders at once): the
  most checks a second the hub completes on this machine, and how long the
  last of a burst waits behind the others.
"""

import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from flows.device_status.samples import status_check
from tests.benchmarks.procs import group_cpu_seconds
from tests.e2e.harness import Hub

COUNT = int(os.environ.get("BENCH_STATUS_COUNT", 1000))
RATE = float(os.environ.get("BENCH_STATUS_RATE", 10))
BURST = int(os.environ.get("BENCH_STATUS_BURST", 300))
DELAY_MS = 100
SENDERS = 8
WORKERS = os.environ.get("BENCH_STATUS_WORKERS", "4")
TIMINGS = """
from django.db.models import Avg, F
from hub.models import Message
for flow in ("device_status_checks", "device_status_responses"):
    row = Message.objects.filter(flow=flow, accepted_key__isnull=False, message_key__startswith="S-").aggregate(
        wait=Avg(F("started_at") - F("received_at")), work=Avg(F("finished_at") - F("started_at")))
    print(flow, round(row["wait"].total_seconds() * 1000), round(row["work"].total_seconds() * 1000))
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Checks:
    """Posts checks for one phase and pairs them with their DACS updates."""

    def __init__(self, hub: Hub, prefix: str):
        self.hub, self.prefix = hub, prefix
        self.sent: dict[str, float] = {}

    def ask(self, n: int) -> None:
        check_id = f"{self.prefix}-{n:05d}"
        self.sent[check_id] = time.time()
        resp = self.hub.post("dacs/device-status-checks", status_check(check_id, f"ECB-{n:06d}"), system="DACS")
        assert resp.status_code == 202, resp.text

    def updates(self) -> list[dict]:
        return [r for r in self.hub.records("DACS", endpoint="status_response") if r["key"] in self.sent]

    def wait(self) -> dict[str, float]:
        self.hub.wait_for(
            lambda: len(self.updates()) >= len(self.sent),
            timeout=900,
            every=2,
            what=f"{len(self.sent)} DACS status updates",
        )
        updates = self.updates()
        assert len(updates) == len(self.sent), "each check is answered exactly once"
        arrived = {r["key"]: datetime.fromisoformat(r["receivedAt"]).timestamp() for r in updates}
        return {key: arrived[key] - at for key, at in self.sent.items()}


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), web_processes=2, LOG_LEVEL="WARNING", Q_WORKERS=WORKERS)
        hub.start()
        try:
            hub.knobs("DERMS", status_delay_ms=DELAY_MS)
            steady = Checks(hub, "S")
            started = time.time()
            with ThreadPoolExecutor(SENDERS) as pool:
                for n in range(COUNT):
                    time.sleep(max(0.0, started + n / RATE - time.time()))
                    pool.submit(steady.ask, n)
            steady_trips = steady.wait()
            timings = [line.split() for line in hub.manage("shell", "-c", TIMINGS).stdout.splitlines()[-2:]]

            burst = Checks(hub, "B")
            cpu_before = group_cpu_seconds(hub.process("worker").pid), group_cpu_seconds(hub.process("web").pid)
            burst_started = time.time()
            with ThreadPoolExecutor(SENDERS) as pool:
                list(pool.map(burst.ask, range(BURST)))
            burst_trips = burst.wait()
            burst_span = max(burst.sent[key] + trip for key, trip in burst_trips.items()) - burst_started
            worker_cpu = group_cpu_seconds(hub.process("worker").pid) - cpu_before[0]
            web_cpu = group_cpu_seconds(hub.process("web").pid) - cpu_before[1]
        finally:
            hub.stop()
    trips = list(steady_trips.values())
    median = statistics.median(trips)
    burst_median, burst_max = statistics.median(burst_trips.values()), max(burst_trips.values())
    return [
        f"database: PostgreSQL; qcluster workers: {WORKERS} (one of them runs the sweeper loop)",
        f"steady: {COUNT} checks at {RATE:g} a second ({SENDERS} DACS senders);"
        f" DACS request → DACS update: median {median * 1000:.0f} ms, p99 {percentile(trips, 0.99) * 1000:.0f} ms,"
        f" max {max(trips) * 1000:.0f} ms",
        f"median above the stand-in's delay ({DELAY_MS} ms): {median * 1000 - DELAY_MS:.0f} ms; target < 1000 ms",
        *(
            f"  {flow}: average wait in queue {wait} ms, worker time {work} ms a message"
            for flow, wait, work in timings
        ),
        f"burst: {BURST} checks at once, all updated in {burst_span:.1f} s ({BURST / burst_span:.0f} checks/s);"
        f" median {burst_median * 1000:.0f} ms, max {burst_max * 1000:.0f} ms",
        f"  CPU a check in the burst: worker {worker_cpu / BURST * 1000:.0f} ms,"
        f" web + stand-ins {web_cpu / BURST * 1000:.0f} ms (2 cores)",
        f"each check answered exactly once: {len(steady_trips) + len(burst_trips)} updates for {COUNT + BURST} checks",
    ]
