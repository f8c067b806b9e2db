"""Two `qcluster` processes on one PostgreSQL database share one enrollment collection:
every request reaches DACS once as a success, however the work moves between them."""

import os
import signal
import subprocess
from collections import defaultdict

import pytest

from flows.enrollment_requests.samples import enrollment_message

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="several worker hosts means PostgreSQL; SQLite is the single-machine default",
    ),
]

REQUESTS = 300
EXTRA_DELIVERIES = 4


def processed_in(log_file, message_id: int) -> int:
    """Tasks for the message this cluster finished, from django-q2's `Processed '…' (message-<id>)` lines."""
    text = log_file.read_text(errors="replace") if log_file.exists() else ""
    return text.count(f"(message-{message_id})")


def test_two_worker_clusters_never_send_an_item_twice(hub_factory):
    # DACS is down for the first pass, so every request is retried 3 s later;
    # RETRY_HOLD_S=0 hands the message back meanwhile, and whichever cluster is
    # free takes it up again: the work moves between the two.
    hub = hub_factory(
        Q_WORKERS="2", RETRY_HOLD_S="0", RETRY_FIRST_S="3", RETRY_MAX_S="3", LOG_LEVEL="INFO", PARTNER_CONCURRENCY="8"
    )
    second = hub._spawn("qcluster", log="worker2")
    try:
        hub.knobs("DACS", latency_ms=5, down=True)
        resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-TWO", REQUESTS))
        assert resp.status_code == 202, resp.text
        tracking_id = resp.json()["trackingId"]
        # The ORM broker may deliver a task more than once: hand both clusters extra copies at once.
        out = hub.manage(
            "shell",
            "-c",
            "from hub.models import Message; from hub.messages import message_enqueue; "
            f"m = Message.objects.get(tracking_id='{tracking_id}'); "
            f"[message_enqueue(message_id=m.id) for _ in range({EXTRA_DELIVERIES})]; print('id', m.id)",
        ).stdout
        message_id = int(out.split("id")[-1])
        hub.wait_for(lambda: len(hub.records("DACS", endpoint="enroll")) >= REQUESTS, what="the first pass")
        hub.knobs("DACS", down=False, failure_rate=0.05)

        status = hub.wait_finished(tracking_id, timeout=300)
        assert status["status"] == "COMPLETED" and status["items"] == {"SUCCESS": REQUESTS}

        calls = defaultdict(list)
        for record in hub.records("DACS", endpoint="enroll"):
            calls[record["key"]].append(record["status"])
        assert set(calls) == {f"E2E-TWO:{i}" for i in range(1, REQUESTS + 1)}
        twice = {key: statuses for key, statuses in calls.items() if statuses.count(200) != 1}
        assert not twice, f"sent again after a success: {twice}"
        # Only failed attempts were repeated, and each was repeated after its failure.
        assert all(statuses[-1] == 200 and set(statuses[:-1]) <= {503} for statuses in calls.values())

        replies = hub.records("DERMS", endpoint="enrollment_response", key="E2E-TWO")
        assert len(replies) == 1

        hub.wait_for(
            lambda: (
                processed_in(hub.workdir / "worker.log", message_id)
                + processed_in(hub.workdir / "worker2.log", message_id)
                >= 2 + EXTRA_DELIVERIES
            ),
            what="the clusters to record the original task, the extra copies and a handed-back one",
        )
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGTERM)
            try:
                second.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(second.pid, signal.SIGKILL)
                second.wait()
