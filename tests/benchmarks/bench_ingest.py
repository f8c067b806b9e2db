"""Sustained ingest: one-request enrollment collections posted by 16 partner threads at once.

The hub runs as docs/deploy.md runs it (gunicorn, 4 processes × 8 gthread
threads, the same flags) on PostgreSQL (BENCH_DATABASE_URL, a database this
benchmark creates afresh and drops). Each client thread keeps its connection
alive (a requests.Session) and posts collections of one request, each with a
messageId and requestId of its own, for BENCH_INGEST_SECONDS (8; after a second
of warm-up), authenticated with a DRF token, then with HTTP Basic; first with
no worker cluster (the queue only grows: it is emptied before each run), then
with `manage.py qcluster` draining it at the same time (DACS and DERMS stand-ins
answering in a process of their own, DACS after 50 ms). Each configuration runs
BENCH_INGEST_RUNS times, as the figures of a shared machine are noisy.

Prints per run: messages accepted per second, p50 and p99 latency, and the CPU
per answer of the web processes (gunicorn's, from /proc), of the PostgreSQL
backends connected to the hub's database (the cluster's included, when it runs)
and of the client threads, with the load average. Answers are counted when they
arrive in the window, so a run where each request takes longer than the window
(HTTP Basic on a busy machine) says so rather than printing a rate.
"""

from __future__ import annotations

import base64
import itertools
import json
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

from flows.enrollment_requests.samples import enrollment_request
from tests.benchmarks.procs import cpu_seconds, group_cpu_seconds
from tests.e2e.harness import Hub
from tests.httpserver import Recorded, ScriptedServer

SECONDS = float(os.environ.get("BENCH_INGEST_SECONDS", 8))
RUNS = int(os.environ.get("BENCH_INGEST_RUNS", 2))
CLIENTS = int(os.environ.get("BENCH_INGEST_CLIENTS", 16))
WARM_UP_S = 1.0
LATENCY_MS = 50
PASSWORD = "bench-ingest-password"
# docs/deploy.md, section 5.
GUNICORN = (
    "--workers 4 --worker-class gthread --threads 8 --timeout 120 --graceful-timeout 30"
    " --max-requests 2000 --max-requests-jitter 200"
).split()
# Each run starts from an empty queue; the tables that refer to a message go with it.
EMPTY_QUEUE = "TRUNCATE hub_message, django_q_ormq CASCADE"


class DeployedHub(Hub):
    """The hub with web processes as docs/deploy.md starts them; its cluster only when asked for."""

    @staticmethod
    def _database(workdir: Path) -> tuple[str, str | None]:
        url = os.environ["DATABASE_URL"]
        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        name = parts.path.lstrip("/")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return url, admin

    def start(self) -> DeployedHub:
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        self.manage("partner_account", "DERMS", "derms-bench", "--password", PASSWORD)
        out = self.manage("partner_account", "DERMS", "derms-bench", "--token").stdout
        self.tokens["DERMS"] = out.split("token: ")[1].split()[0]
        bind = ["--bind", f"127.0.0.1:{self.port}"]
        self.web = self._spawn("-m", "gunicorn", "hub.wsgi", *bind, *GUNICORN, log="web", python_module=True)
        self.wait_for(self._up, timeout=60, what="web server")
        return self

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.kill_worker()
            self.worker = None

    def sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def backlog(self) -> int:
        return self.sql("SELECT count(*) FROM hub_message WHERE status IN ('QUEUED', 'PROCESSING')")[0][0]

    def backends_cpu(self) -> dict[int, float]:
        """CPU seconds of each PostgreSQL backend connected to the hub's database (this run's only)."""
        name = urlsplit(self.database_url).path.lstrip("/")
        used = {}
        for (pid,) in self.sql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'"):
            try:
                used[pid] = cpu_seconds(pid)
            except OSError:
                pass
        return used


def _answer() -> Callable[[Recorded], tuple[int, object]]:
    """DACS `enroll` after LATENCY_MS, and a 200 for anything else (DERMS's enrollment response)."""

    def answer(request: Recorded) -> tuple[int, object]:
        if request.path.endswith("/programEnrollments/enroll"):
            time.sleep(LATENCY_MS / 1000)
            transaction_id = json.loads(request.body)["transactionId"]
            return 200, {"enrollmentId": f"E-{transaction_id}", "status": "PENDING"}
        return 200, {"status": "RECEIVED"}

    return answer


def _serve(ready) -> None:
    with ScriptedServer(_answer(), keep_alive=True) as server:
        server.requests = _Discarded()
        ready.send(server.url)
        threading.Event().wait()


class _Discarded(list):
    """The stand-ins keep no record of what they answered (a long run would fill memory)."""

    def append(self, item) -> None:
        pass


@contextmanager
def standins() -> Iterator[str]:
    """The partners' stand-ins in a process of their own, so their CPU is neither the hub's nor the clients'."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs,), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        process.kill()
        process.join()


@dataclass
class Run:
    auth: str
    draining: bool
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    web_cpu: float = 0.0
    db_cpu: float = 0.0
    client_cpu: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def line(self) -> str:
        mode = f"{self.auth:<5} {'worker draining' if self.draining else 'no worker':<15}"
        answers = len(self.latencies)
        if not answers:
            return f"{mode}  no answer arrived in the {self.seconds:.0f} s window  load {self.load[0]:.2f}"
        ordered = sorted(self.latencies)

        def percentile(p: float) -> float:
            return ordered[min(answers - 1, int(p * answers))] * 1000

        def per_answer(cpu: float) -> float:
            return cpu / answers * 1000

        others = {status: n for status, n in sorted(self.statuses.items()) if status != 202}
        return (
            f"{mode}  {self.statuses.get(202, 0) / self.seconds:6.1f} accepted/s ({answers} answers)"
            f"  p50 {percentile(0.5):5.0f} ms  p99 {percentile(0.99):5.0f} ms"
            f"  CPU/answer: web {per_answer(self.web_cpu):5.2f} ms, database {per_answer(self.db_cpu):4.2f} ms,"
            f" clients {per_answer(self.client_cpu):4.2f} ms  load {self.load[0]:.2f}"
            + (f"  other answers {others}" if others else "")
        )


_numbers = itertools.count(1)


def _body(prefix: str) -> bytes:
    n = next(_numbers)
    return json.dumps(
        {
            "messageId": f"{prefix}-{n}",
            "drmsInstanceId": "DERMS-PROD",
            "enrollmentRequests": [enrollment_request(str(n))],
        }
    ).encode()


def _measure(hub: DeployedHub, run: Run, authorization: str, seconds: float = SECONDS) -> Run:
    """CLIENTS threads post for WARM_UP_S, then for `seconds`: the window whose answers are counted
    (those that arrive in it, however long ago they were sent) and whose CPU is measured."""
    url = f"{hub.base}/api/v1/derms/enrollment-requests"
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    opens = time.monotonic() + WARM_UP_S
    closes = opens + seconds
    lock = threading.Lock()
    prefix = f"ING-{run.auth}-{int(run.draining)}-{time.time_ns()}"

    def client() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        with requests.Session() as session:
            while (started := time.monotonic()) < closes:
                status = session.post(url, data=_body(prefix), headers=headers, timeout=120).status_code
                if opens <= (answered := time.monotonic()) <= closes:
                    latencies.append(answered - started)
                    statuses[status] = statuses.get(status, 0) + 1
        with lock:
            run.latencies.extend(latencies)
            for status, n in statuses.items():
                run.statuses[status] = run.statuses.get(status, 0) + n

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    web_pid = hub.process("web").pid
    time.sleep(max(0.0, opens - time.monotonic()))
    web_cpu, db_cpu, own_cpu = group_cpu_seconds(web_pid), hub.backends_cpu(), _own_cpu()
    time.sleep(max(0.0, closes - time.monotonic()))
    run.seconds = seconds
    run.web_cpu = group_cpu_seconds(web_pid) - web_cpu
    run.db_cpu = sum(cpu - db_cpu.get(pid, 0.0) for pid, cpu in hub.backends_cpu().items())
    run.client_cpu = _own_cpu() - own_cpu
    run.load = os.getloadavg()
    for thread in threads:
        thread.join()
    return run


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _drain(hub: DeployedHub, timeout: float = 60) -> int:
    """Wait until the cluster has worked through the queue; what is still queued after `timeout`."""
    deadline = time.monotonic() + timeout
    while (left := hub.backlog()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def run() -> list[str]:
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_ingest_bench"
    )
    lines = [
        f"{CLIENTS} client threads, keep-alive, one-request collections; {SECONDS:.0f} s per run;"
        f" gunicorn {' '.join(GUNICORN)}; load average at start {os.getloadavg()[0]:.2f}"
    ]
    with tempfile.TemporaryDirectory() as tmp, standins() as partners:
        hub = DeployedHub(
            Path(tmp),
            LOG_LEVEL=os.environ.get("BENCH_INGEST_LOG_LEVEL", "INFO"),
            Q_WORKERS="4",
            DACS_BASE_URL=partners,
            DERMS_BASE_URL=partners,
            SIMULATORS_ENABLED="false",
        )
        hub.start()
        auths = {
            "token": f"Token {hub.tokens['DERMS']}",
            "basic": "Basic " + base64.b64encode(f"derms-bench:{PASSWORD}".encode()).decode(),
        }
        try:
            # Every web process loads what it loads on its first requests before anything is measured.
            _measure(hub, Run("token", False), auths["token"], seconds=2)
            for draining in (False, True):
                hub.sql(EMPTY_QUEUE)
                if draining:
                    hub.start_worker()
                    # Measured once the cluster has started and worked through a first message.
                    hub.post("derms/enrollment-requests", json.loads(_body("ING-READY")))
                    _drain(hub)
                for auth, authorization in auths.items():
                    for _ in range(RUNS):
                        if not draining:
                            hub.sql(EMPTY_QUEUE)
                        done = _measure(hub, Run(auth, draining), authorization)
                        lines.append(done.line())
                        if draining:
                            queued = hub.backlog()
                            left = _drain(hub)
                            lines.append(
                                f"      queued at the end: {queued}; a minute later: {left}"
                                if left
                                else f"      queued at the end: {queued}, drained"
                            )
                hub.stop_worker()
        finally:
            hub.stop()
    lines.append("targets: >= 300 accepted/s with a token, Basic >= 0.9x the token's rate, p99 < 250 ms")
    return lines
