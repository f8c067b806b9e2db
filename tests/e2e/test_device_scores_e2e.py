"""Flow 4 with real processes: a django-q2 cluster whose task timeout is shorter than the files
waiting need, and a transfer killed mid-file that the sweeper recovers. DERMS is a real HTTP
server on loopback; the source a local folder."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from flows.device_scores.demo import score_csv
from tests.e2e.harness import Hub
from tests.flows.score_fixtures import drop
from tests.flows.score_receiver import ScoreReceiver

REPORT = """
import json
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.transfer import LOCK
from hub.models import Lease, Notification
print(json.dumps({
    "runs": list(ScoreRun.objects.order_by("id").values("id", "status", "trigger", "files_sent", "note", "error")),
    "files": list(ScoreFile.objects.order_by("id").values("name", "status", "claim_key", "renamed_to", "run_id")),
    "locks": Lease.objects.filter(name=LOCK).count(),
    "notifications": list(Notification.objects.order_by("id").values_list("kind", "subject")),
}))
"""


@pytest.fixture
def scores_hub(tmp_path):
    """A hub's environment and database, migrated, with no process started yet."""
    started = []

    def make(receiver: ScoreReceiver, inbox, **env: str) -> Hub:
        hub = Hub(
            tmp_path / "hub",
            web_processes=0,
            DERMS_BASE_URL=receiver.url,
            SCORE_SOURCE_URL=f"file://{inbox}",
            SCORE_MIN_AGE_S="0",
            **env,
        )
        started.append(hub)
        (hub.workdir / "var").mkdir(parents=True, exist_ok=True)
        hub.manage("migrate", "--noinput")
        return hub

    yield make
    for hub in started:
        hub.stop()


def report(hub: Hub) -> dict:
    return json.loads(hub.manage("shell", "-c", REPORT).stdout.strip().splitlines()[-1])


def test_a_run_that_reaches_the_task_timeout_sends_its_digest_and_releases_its_lock(tmp_path, scores_hub):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(1, 16):
        drop(inbox, f"SDCSE_{n:02}.csv", score_csv(n), age_s=100 - n)

    def slow(received):
        time.sleep(1)  # 15 files take 15 s: more than the cluster's 12 s task timeout
        return 202

    with ScoreReceiver(answer=slow) as derms:
        hub = scores_hub(derms, inbox, Q_TIMEOUT_S="12", TASK_BUDGET_S="6", SCORE_SEND_TIMEOUT_S="2")
        hub.start_worker()  # the schedule made by migrate is due at once
        hub.wait_for(
            lambda: sorted(p.name for p in inbox.iterdir()) == [f"Sent-SDCSE_{n:02}.csv" for n in range(1, 16)],
            timeout=120,
            what="every file renamed Sent-",
        )
        seen = hub.wait_for(
            lambda: (r := report(hub))["runs"][-1]["status"] != "RUNNING" and r,
            timeout=60,
            what="the last run to end",
        )
    runs = seen["runs"]
    assert len(runs) >= 2 and [r["trigger"] for r in runs] == ["SCHEDULE"] + ["FOLLOW_UP"] * (len(runs) - 1)
    assert [r["status"] for r in runs] == ["COMPLETED"] * len(runs)
    assert all("left for a follow-up run" in r["note"] for r in runs[:-1])
    assert sum(r["files_sent"] for r in runs) == 15 and sorted(derms.names()) == sorted(set(derms.names()))
    assert seen["locks"] == 0
    digests = [subject for kind, subject in seen["notifications"] if kind == "score_complete"]
    assert [f"(run {r['id']})" in s for s, r in zip(digests, runs, strict=True)] == [True] * len(runs)


def test_a_worker_killed_mid_run_is_recovered_by_the_sweeper(tmp_path, scores_hub):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    drop(inbox, "SDCSE_1.csv", score_csv(10), age_s=90)
    drop(inbox, "SDCSE_2.csv", score_csv(100_000), age_s=60)  # about 6 MB, read slowly

    with ScoreReceiver() as derms:
        hub = scores_hub(
            derms,
            inbox,
            SCORE_HEARTBEAT_S="0",
            SCORE_SEND_TIMEOUT_S="5",
            SCORE_SSH_TIMEOUT_S="2",
            SCORE_CLAIM_STALE_S="6",
        )
        derms.read_pause_s = 0.05
        transfer = hub._spawn("transfer_scores", log="transfer")
        hub.wait_for(lambda: "SDCSE_2.csv" in derms.started, timeout=60, what="the second file to be sent")
        time.sleep(0.5)  # mid-file
        os.killpg(transfer.pid, signal.SIGKILL)
        transfer.wait(timeout=10)

        before = report(hub)
        assert before["runs"][0]["status"] == "RUNNING" and before["locks"] == 1
        recover = "from flows.device_scores.transfer import runs_recover; print(runs_recover())"
        hub.wait_for(
            lambda: hub.manage("shell", "-c", recover).stdout.split()[-1] == "1",
            timeout=60,
            what="the sweep to end the run once it is stale",
            every=1,
        )
        after = report(hub)
    (run,) = after["runs"]
    assert run["status"] == "FAILED" and "its worker stopped answering" in run["error"]
    assert after["locks"] == 0
    files = {f["name"]: f for f in after["files"]}
    assert (files["SDCSE_1.csv"]["status"], files["SDCSE_1.csv"]["renamed_to"]) == ("SENT", "Sent-SDCSE_1.csv")
    assert (files["SDCSE_2.csv"]["status"], files["SDCSE_2.csv"]["claim_key"]) == ("INTERRUPTED", None)
    assert sorted(p.name for p in inbox.iterdir()) == ["SDCSE_2.csv", "Sent-SDCSE_1.csv"]
    assert after["notifications"] == [
        ["score_complete", f"[DERMS-DACS hub] Score files: 1 sent, 1 failed (run {run['id']})"],
        ["score_error", f"[DERMS-DACS hub] Score file transfer error: 1 file(s) failed (run {run['id']})"],
    ]
