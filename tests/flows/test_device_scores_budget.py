"""Flow 4 within the worker's task timeout: a run's budget, the follow-up run, a file cut at the
budget, the settings that must agree, and the sweeper ending a run whose worker died."""

import time
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from flows.device_scores.claims import ClaimLost, run_touch
from flows.device_scores.demo import score_csv
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.step import score_progress
from flows.device_scores.transfer import LOCK, runs_recover, transfer_run
from hub.leases import lease_take
from hub.models import Lease, Notification
from tests import processes
from tests.flows import score_fixtures
from tests.flows.score_fixtures import drop

pytestmark = pytest.mark.django_db
derms, inbox = score_fixtures.derms, score_fixtures.inbox


def emailed(func, **kwargs):
    """Run `func`; the emails it records are sent by tasks enqueued once they are committed."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return func(**kwargs)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def slow_answer(seconds):
    def answer(received):
        time.sleep(seconds)
        return 202

    return answer


def test_a_run_stops_taking_files_at_its_budget_and_a_follow_up_run_takes_the_rest(inbox, derms, settings, mailoutbox):
    settings.SCORE_SEND_TIMEOUT_S = 0.5
    derms.answer = slow_answer(0.2)
    for n in range(1, 9):
        drop(inbox, f"SDCSE_{n}.csv", score_csv(n), age_s=100 - n)

    # Files are taken while one more is expected through 0.7 s in; the follow-ups run inline here.
    first = emailed(transfer_run, trigger=ScoreRun.Trigger.SCHEDULE, budget_s=1.2)

    assert derms.names() == [f"SDCSE_{n}.csv" for n in range(1, 9)]
    assert names(inbox) == [f"Sent-SDCSE_{n}.csv" for n in range(1, 9)]
    runs = list(ScoreRun.objects.order_by("id"))
    assert len(runs) >= 2 and runs[0] == first
    assert [r.trigger for r in runs] == ["SCHEDULE"] + ["FOLLOW_UP"] * (len(runs) - 1)
    assert all(r.status == ScoreRun.Status.COMPLETED and r.files_sent >= 1 for r in runs)
    assert all("file(s) left for a follow-up run" in r.note for r in runs[:-1]) and runs[-1].note == ""
    assert sum(r.files_sent for r in runs) == 8
    assert not Lease.objects.filter(name=LOCK).exists()
    digests = Notification.objects.filter(kind="score_complete").order_by("id")
    assert [f"(run {r.id})" in d.subject for d, r in zip(digests, runs, strict=True)] == [True] * len(runs)
    assert "The run stopped taking files to end within its task budget (1.2 s): " in mailoutbox[0].body


def test_a_run_without_a_budget_takes_every_file(inbox, derms, settings):
    settings.SCORE_SEND_TIMEOUT_S = 0.5
    derms.answer = slow_answer(0.2)
    for n in range(1, 6):
        drop(inbox, f"SDCSE_{n}.csv", score_csv(n), age_s=100 - n)
    result = emailed(transfer_run, trigger=ScoreRun.Trigger.COMMAND)
    assert (result.files_sent, result.note, ScoreRun.objects.count()) == (5, "", 1)


def test_the_file_in_hand_is_given_up_when_it_would_outlast_the_budget(inbox, derms, settings, mailoutbox):
    settings.SCORE_SEND_TIMEOUT_S = 0.2
    drop(inbox, "SDCSE_1.csv", score_csv(40_000))  # several pieces

    def stall(sender, file, phase, done, **kwargs):
        if phase == "send":
            time.sleep(0.4)

    score_progress.connect(stall)
    try:
        result = emailed(transfer_run, trigger=ScoreRun.Trigger.SCHEDULE, budget_s=0.5)
    finally:
        score_progress.disconnect(stall)
    assert names(inbox) == ["SDCSE_1.csv"] and derms.received[0].complete is False
    assert result.status == ScoreRun.Status.FAILED
    assert result.error == "SDCSE_1.csv could not be sent within the task budget; it keeps its name for the next run"
    file = result.files.get()
    assert (file.status, file.claim_key) == ("INTERRUPTED", None)
    assert not Lease.objects.filter(name=LOCK).exists()
    assert ScoreRun.objects.count() == 1  # no follow-up: the schedule tries again
    assert sorted(m.to[0] for m in mailoutbox) == ["ops@utility.example", "programs@utility.example"]


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"SCORE_SEND_TIMEOUT_S": "300"}, "SCORE_SEND_TIMEOUT_S (300) must be positive and below TASK_BUDGET_S (240"),
        ({"Q_TIMEOUT_S": "100", "SCORE_SEND_TIMEOUT_S": "60"}, "must be positive and below TASK_BUDGET_S (40,"),
        ({"SCORE_CLAIM_STALE_S": "100", "SCORE_SEND_TIMEOUT_S": "95"}, "SCORE_CLAIM_STALE_S (100) must be above"),
    ],
)
def test_settings_that_would_let_the_task_timeout_kill_a_run_are_refused(tmp_path, env, problem):
    done = processes.manage(processes.local_env(tmp_path, **env), "check", check=False)
    assert done.returncode != 0 and problem in done.stderr


def dead_run(inbox, **fields) -> ScoreRun:
    """A run whose worker died mid-file: its lock, a file sent and renamed, one claimed."""
    silent = timezone.now() - timedelta(hours=1)
    run = ScoreRun.objects.create(trigger="SCHEDULE", source=f"file://{inbox}", destination="d", lock_owner="run-dead")
    ScoreRun.objects.filter(pk=run.pk).update(heartbeat_at=silent, **fields)
    assert lease_take(name=LOCK, owner="run-dead", seconds=3600)
    common = {"run": run, "source": f"file://{inbox}", "heartbeat_at": silent}
    ScoreFile.objects.create(name="SDCSE_1.csv", status="SENT", renamed_to="Sent-SDCSE_1.csv", bytes_sent=9, **common)
    ScoreFile.objects.create(name="SDCSE_2.csv", claim_key=f"file://{inbox}|SDCSE_2.csv", **common)
    run.refresh_from_db()
    return run


def test_the_sweep_ends_a_run_whose_worker_died_releases_its_lock_and_sends_its_digest(inbox, derms, mailoutbox):
    dead = dead_run(inbox)
    alive = ScoreRun.objects.create(trigger="COMMAND", source="s", destination="d")
    drop(inbox, "SDCSE_2.csv", score_csv(2))

    assert emailed(runs_recover) == 1

    dead.refresh_from_db()
    assert (dead.status, dead.files_sent, dead.files_failed, dead.bytes_sent) == ("FAILED", 1, 1, 9)
    assert "its worker stopped answering" in dead.error and dead.finished_at is not None
    assert ScoreRun.objects.get(pk=alive.pk).status == "RUNNING"
    interrupted = dead.files.get(name="SDCSE_2.csv")
    assert (interrupted.status, interrupted.claim_key) == ("INTERRUPTED", None)
    assert not Lease.objects.filter(name=LOCK).exists()
    digest, error = mailoutbox
    assert digest.subject == f"[DERMS-DACS hub] Score files: 1 sent, 1 failed (run {dead.id})"
    assert "- SDCSE_1.csv: SENT" in digest.body and "- SDCSE_2.csv: INTERRUPTED" in digest.body
    assert "its worker stopped answering" in error.body
    assert emailed(runs_recover) == 0 and len(mailoutbox) == 2

    with pytest.raises(ClaimLost):
        run_touch(run_id=dead.id)
    result = emailed(transfer_run, trigger=ScoreRun.Trigger.SCHEDULE)  # the file it held is free for the next run
    assert derms.names() == ["SDCSE_2.csv"] and result.files_sent == 1


def test_the_next_run_ends_a_dead_run_before_it_starts(inbox, derms, mailoutbox):
    dead = dead_run(inbox)
    drop(inbox, "SDCSE_2.csv", score_csv(2))
    result = emailed(transfer_run, trigger=ScoreRun.Trigger.SCHEDULE)
    assert ScoreRun.objects.get(pk=dead.pk).status == "FAILED"
    assert result.files_sent == 1 and derms.names() == ["SDCSE_2.csv"]
    assert [m.subject.endswith(f"(run {dead.id})") for m in mailoutbox[:2]] == [True, True]


def test_a_run_taken_for_dead_stops_and_leaves_the_sweepers_record_alone(inbox, derms, mailoutbox):
    drop(inbox, "SDCSE_1.csv", score_csv(40_000))

    def frozen_then_swept(sender, file, phase, done, **kwargs):
        if phase == "send" and not Notification.objects.exists():
            ScoreRun.objects.update(heartbeat_at=timezone.now() - timedelta(hours=1))
            emailed(runs_recover)

    score_progress.connect(frozen_then_swept)
    try:
        result = emailed(transfer_run, trigger=ScoreRun.Trigger.SCHEDULE)
    finally:
        score_progress.disconnect(frozen_then_swept)
    assert names(inbox) == ["SDCSE_1.csv"] and derms.received[0].complete is False
    stored = ScoreRun.objects.get(pk=result.id)
    assert stored.status == "FAILED" and "ended by the sweeper" in stored.error
    assert [m.subject for m in mailoutbox].count(
        f"[DERMS-DACS hub] Score files: 0 sent, 1 failed (run {result.id})"
    ) == 1
    assert not Lease.objects.filter(name=LOCK).exists()
