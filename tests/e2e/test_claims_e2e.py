"""One owner per claim, tried with real processes: a discard mid-way, a frozen worker, a database
that drops every connection. The DACS stand-in records every call, so sends are counted per key."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import psycopg
import pytest

from flows.device_reservations.samples import reservation_message
from flows.enrollment_requests.samples import enrollment_message

pytestmark = pytest.mark.e2e

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def message_id(hub, tracking_id: str) -> int:
    out = hub.manage(
        "shell", "-c", f"from hub.models import Message; print(Message.objects.get(tracking_id='{tracking_id}').id)"
    )
    return int(out.stdout.strip().splitlines()[-1])


def successes_per_key(hub) -> Counter:
    return Counter(r["key"] for r in hub.records("DACS", endpoint="enroll") if r["status"] == 200)


def shell(hub, code: str) -> str:
    return hub.manage("shell", "--no-imports", "-c", code).stdout.strip()


def test_a_discarded_collection_starts_no_call_and_derms_gets_one_failure(hub_factory):
    concurrency = 4
    hub = hub_factory(PARTNER_CONCURRENCY=str(concurrency), SIM_DACS_LATENCY_MS="100")
    resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-DSC-1", 600))
    assert resp.status_code == 202, resp.text
    tracking_id = resp.json()["trackingId"]
    hub.wait_for(lambda: len(hub.records("DACS", endpoint="enroll")) >= 20, what="the collection under way")

    hub.manage("discard", "--ids", tracking_id, "--reason", "DERMS sent a corrected copy")
    at_discard = len(hub.records("DACS", endpoint="enroll"))
    time.sleep(3)
    after = len(hub.records("DACS", endpoint="enroll"))
    assert after - at_discard <= concurrency, f"{after - at_discard} calls reached DACS after the discard"
    assert at_discard < 600

    (reply,) = hub.wait_for(lambda: hub.records("DERMS", endpoint="enrollment_response", key="E2E-DSC-1"))
    assert reply["body"]["ackType"] == "FAILURE"
    failures = [r for r in reply["body"]["responses"] if r["responseCode"] == "FAILURE"]
    assert failures and all("DERMS sent a corrected copy" in r["message"] for r in failures)
    status = hub.message(tracking_id)
    assert status["status"] == "DISCARDED" and set(status["items"]) <= {"SUCCESS", "FAILURE"}
    # A discarded message is never sent again.
    out = hub.manage("reprocess", "--ids", tracking_id).stdout
    assert "0" in out
    time.sleep(2)
    assert len(hub.records("DACS", endpoint="enroll")) == after
    assert len(hub.records("DERMS", endpoint="enrollment_response", key="E2E-DSC-1")) == 1


def test_discarding_a_retrying_collection_and_a_waiting_reservation_answers_derms_once_each(hub_factory):
    hub = hub_factory(RETRY_FIRST_S="30", RETRY_MAX_S="30")
    hub.knobs("DACS", down=True)
    enrollment = hub.post("derms/enrollment-requests", enrollment_message("E2E-DSC-2", 5)).json()["trackingId"]
    reservation = hub.post("derms/device-reservations", reservation_message("E2E-DSC-3", "EVT-DSC-3", 10))
    assert reservation.status_code == 202, reservation.text
    hub.wait_for(lambda: len(hub.records("DACS", endpoint="enroll")) >= 5, what="the first, failed pass")
    hub.wait_for(lambda: hub.records("DACS", endpoint="healthCheck"), what="the reservation waiting for DACS")

    for tracking_id in (enrollment, reservation.json()["trackingId"]):
        hub.manage("discard", "--ids", tracking_id, "--reason", "cleared by support")
    hub.knobs("DACS", down=False)

    (reply,) = hub.wait_for(lambda: hub.records("DERMS", endpoint="enrollment_response", key="E2E-DSC-2"))
    assert reply["body"]["ackType"] == "FAILURE"
    (ack,) = hub.wait_for(lambda: hub.records("DERMS", endpoint="reservation_ack", key="E2E-DSC-3"))
    assert ack["body"]["ackType"] == "FAILURE"
    time.sleep(4)  # a sweeper pass or two: nothing more goes out
    assert len(hub.records("DERMS", endpoint="enrollment_response", key="E2E-DSC-2")) == 1
    assert len(hub.records("DERMS", endpoint="reservation_ack", key="E2E-DSC-3")) == 1
    assert all(r["status"] == 503 for r in hub.records("DACS", endpoint="enroll"))
    assert hub.records("DACS", endpoint="reserveDevice") == []
    event = shell(
        hub,
        "from flows.device_reservations.models import ProgramEvent;"
        "print(ProgramEvent.objects.get(event_id='EVT-DSC-3').status)",
    )
    assert event != "RESERVING"


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="on SQLite a worker frozen inside a write holds the one database lock; several workers mean PostgreSQL",
)
def test_a_frozen_worker_sends_nothing_once_its_message_was_taken_back(hub_factory):
    concurrency = 4
    hub = hub_factory(
        PARTNER_CONCURRENCY=str(concurrency),
        SIM_DACS_LATENCY_MS="50",
        STALE_AFTER_S="3",
        HEARTBEAT_S="0.5",
        Q_WORKERS="2",
    )
    second = None
    try:
        resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-FRZ-1", 400))
        tracking_id = resp.json()["trackingId"]
        hub.wait_for(lambda: len(hub.records("DACS", endpoint="enroll")) >= 40, what="the collection under way")
        os.killpg(hub.worker.pid, signal.SIGSTOP)
        time.sleep(5)  # past STALE_AFTER_S
        second = hub._spawn("qcluster", log="worker2")
        swept = hub.manage("sweep", check=False)
        assert swept.returncode == 0, swept.stderr
        time.sleep(3)
        os.killpg(hub.worker.pid, signal.SIGCONT)

        status = hub.wait_finished(tracking_id, timeout=240)
        assert status["status"] == "COMPLETED" and status["items"] == {"SUCCESS": 400}
        sent = successes_per_key(hub)
        assert set(sent) == {f"E2E-FRZ-1:{i}" for i in range(1, 401)}
        twice = [key for key, n in sent.items() if n > 1]
        # Only what was in flight when the worker froze is sent again.
        assert len(twice) <= concurrency, twice
        assert len(hub.records("DERMS", endpoint="enrollment_response", key="E2E-FRZ-1")) == 1
        kinds = f"Activity.objects.filter(message__tracking_id='{tracking_id}').values_list('kind', flat=True)"
        timeline = shell(hub, f"from hub.models import Activity; print(sorted(set({kinds})))")
        assert "taken_back" in timeline
    finally:
        if second is not None and second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()


@pytest.mark.skipif(not ON_POSTGRES, reason="drops PostgreSQL connections")
def test_a_database_dropping_every_connection_mid_collection_loses_no_outcome(hub_factory):
    concurrency = 4
    hub = hub_factory(PARTNER_CONCURRENCY=str(concurrency), SIM_DACS_LATENCY_MS="30")
    resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-PGR-1", 500))
    tracking_id = resp.json()["trackingId"]
    hub.wait_for(lambda: len(hub.records("DACS", endpoint="enroll")) >= 50, what="the collection under way")
    database = hub.database_url.rsplit("/", 1)[1]
    # Like a restart: for two seconds every connection to the hub's database is cut as soon as it opens.
    with psycopg.connect(hub._pg_admin, autocommit=True) as admin:
        stop = time.monotonic() + 2
        while time.monotonic() < stop:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            )
            time.sleep(0.05)
    status = hub.wait_finished(tracking_id, timeout=240)
    assert status["status"] == "COMPLETED" and status["items"] == {"SUCCESS": 500}
    twice = [key for key, n in successes_per_key(hub).items() if n > 1]
    assert len(twice) <= concurrency, twice
    assert len(hub.records("DERMS", endpoint="enrollment_response", key="E2E-PGR-1")) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="several clusters on one database means PostgreSQL")
def test_two_clusters_with_the_deployment_defaults_send_nothing_twice(hub_factory):
    # docs/deploy.md's defaults: 4 workers per cluster, 16 calls at once per partner.
    hub = hub_factory(Q_WORKERS="4", PARTNER_CONCURRENCY="16", SIM_DACS_LATENCY_MS="20", LOG_LEVEL="WARNING")
    second = hub._spawn("qcluster", log="worker2")
    try:
        ids = [
            hub.post("derms/enrollment-requests", enrollment_message(f"E2E-TWO-{n}", 500)).json()["trackingId"]
            for n in range(6)
        ]
        for tracking_id in ids:
            assert hub.wait_finished(tracking_id, timeout=300)["status"] == "COMPLETED"
        sent = successes_per_key(hub)
        assert len(sent) == 3000 and max(sent.values()) == 1
        logs = "".join((hub.workdir / name).read_text(errors="replace") for name in ("worker.log", "worker2.log"))
        assert "too many clients" not in logs and "Traceback" not in logs
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait()
