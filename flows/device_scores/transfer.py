"""A transfer run: list the source, move every eligible file, list again until
nothing is left, record the run and email its digest.

The schedule (django-q2) and `manage.py transfer_scores` both call
`transfer_run`, which takes one lock (a lease) so that runs do not overlap.

A run on the worker cluster has a budget (TASK_BUDGET_S, below django-q2's task
timeout): it takes a file only when it expects to move it and have DERMS's answer
in time, then ends normally (digest sent, lock released) and queues a follow-up
run at once for the files left, rather than wait for the schedule. A run whose
worker died anyway is ended by `runs_recover`, from the sweeper.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django_q.tasks import async_task

from flows.device_scores.claims import run_touch
from flows.device_scores.destinations import DEVICE_SCORE, destination_open
from flows.device_scores.digest import run_notify
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.remote import RemoteError, location_parse
from flows.device_scores.sources import Entry, source_open
from flows.device_scores.step import Stop, file_transfer
from hub.leases import lease_release, lease_take

log = logging.getLogger(__name__)

LOCK = "device_scores.transfer"
MAX_PASSES = 1000
FOLLOW_UP_TASK = "flows.device_scores.tasks.transfer_follow_up"


def candidates(entries: list[Entry]) -> list[Entry]:
    """Files to take, oldest first: the prefix, no done prefix, no temporary suffix, old enough."""
    newest = time.time() - settings.SCORE_MIN_AGE_S
    done = tuple(settings.SCORE_DONE_PREFIXES)
    temporary = tuple(settings.SCORE_TEMP_SUFFIXES)
    chosen = [
        e
        for e in entries
        if e.name.startswith(settings.SCORE_FILE_PREFIX)
        and not (done and e.name.startswith(done))
        and not (temporary and e.name.endswith(temporary))
        and e.mtime <= newest
    ]
    return sorted(chosen, key=lambda e: (e.mtime, e.name))


def _labels() -> tuple[str, str]:
    source = location_parse(settings.SCORE_SOURCE_URL, setting="SCORE_SOURCE_URL").label
    if settings.SCORE_DESTINATION == "rest":
        destination = f"{settings.PARTNERS['DERMS']['base_url']}/{DEVICE_SCORE.path}"
    else:
        destination = location_parse(settings.SCORE_DESTINATION, setting="SCORE_DESTINATION").label
    return source, destination


class Budget:
    """How long a run may go on taking files; None: no limit (the foreground command).

    The time a file takes is guessed from the run's own files so far: the slowest one,
    or the run's pace in seconds per byte times this file's size, whichever is longer.
    """

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.ends = None if seconds is None else time.monotonic() + seconds
        self.files = 0
        self.moved_bytes = 0
        self.moving_s = 0.0
        self.slowest_s = 0.0

    @property
    def cut_at(self) -> float | None:
        """When the file in hand must be through, for DERMS's answer to come within the budget."""
        return None if self.ends is None else self.ends - settings.SCORE_SEND_TIMEOUT_S

    def allows(self, entry: Entry) -> bool:
        """Whether `entry` is expected through by `cut_at`; a run's first file always is, so that
        every run moves something (a file too slow for any budget is cut, and reported)."""
        cut_at = self.cut_at
        if cut_at is None or not self.files:
            return True
        pace = self.moving_s / self.moved_bytes if self.moved_bytes else 0.0
        guess = max(self.slowest_s, entry.size * pace)
        return time.monotonic() + guess <= cut_at

    def took(self, entry: Entry, seconds: float) -> None:
        self.files += 1
        self.moved_bytes += entry.size
        self.moving_s += seconds
        self.slowest_s = max(self.slowest_s, seconds)


def transfer_run(*, trigger: str, budget_s: float | None = None) -> ScoreRun | None:
    """One run, emails included; None when another run holds the lock.

    With `budget_s` the run stops taking files in time to end within it, and queues a
    follow-up run for the files left.
    """
    runs_recover()
    source_label, destination_label = _labels()
    lock = (LOCK, f"run-{uuid.uuid4()}")
    if not lease_take(name=lock[0], owner=lock[1], seconds=settings.SCORE_CLAIM_STALE_S):
        log.info("score transfer not started: another run holds the lock")
        return None
    started = time.monotonic()
    run = ScoreRun.objects.create(
        trigger=trigger, source=source_label, destination=destination_label, lock_owner=lock[1]
    )
    left = 0
    try:
        left = _passes(run, lock, Budget(budget_s))
    except (RemoteError, Stop) as exc:
        run.error = str(exc)
    except Exception as exc:  # the run is recorded and reported whatever went wrong
        log.exception("score run %s failed", run.id)
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        ended_here = run_finish(run=run, duration_s=time.monotonic() - started)
        lease_release(name=lock[0], owner=lock[1])
    if not ended_here:  # the sweeper took this run for dead, ended it and sent its digest
        log.warning("score run %s was ended by the sweeper while it worked", run.id)
        return run
    if run.error:
        log.warning("score run %s: %s", run.id, run.error)
    run_notify(run=run)
    if left and not run.error:
        async_task(FOLLOW_UP_TASK)
    return run


def _passes(run: ScoreRun, lock: tuple[str, str], budget: Budget) -> int:
    """Move files until none is left (0), or until the budget is spent: how many were left then."""
    source = source_open()
    try:
        destination = destination_open()
        try:
            for _ in range(MAX_PASSES):
                run.passes += 1
                moved = False
                waiting = candidates(source.list())
                for index, entry in enumerate(waiting):
                    if not budget.allows(entry):
                        left = len(waiting) - index
                        run.note = (
                            f"stopped taking files to end within its task budget ({budget.seconds:g} s): "
                            f"{left} file(s) left for a follow-up run"
                        )
                        return left
                    if not lease_take(name=lock[0], owner=lock[1], seconds=settings.SCORE_CLAIM_STALE_S):
                        raise Stop("the run lock was taken back by another run (this one was silent too long)")
                    run_touch(run_id=run.id)
                    began = time.monotonic()
                    if file_transfer(
                        run=run, source=source, destination=destination, entry=entry, lock=lock, cut_at=budget.cut_at
                    ):
                        moved = True
                        budget.took(entry, time.monotonic() - began)
                if not moved:
                    return 0
        finally:
            destination.close()
    finally:
        source.close()
    return 0


def run_finish(*, run: ScoreRun, duration_s: float, ending: str = ScoreRun.Status.RUNNING) -> bool:
    """Count the run's files and record how it ended; False when it was no longer `ending`
    (the sweeper ended it first)."""
    files = run.files.exclude(status=ScoreFile.Status.SKIPPED)
    run.files_found = files.count()
    run.files_sent = files.filter(status=ScoreFile.Status.SENT).count()
    run.files_failed = files.filter(status__in=ScoreFile.FAILED).count()
    run.bytes_sent = files.aggregate(total=Sum("bytes_sent"))["total"] or 0
    if run.error:
        run.status = ScoreRun.Status.FAILED
    elif run.files_failed:
        run.status = ScoreRun.Status.COMPLETED_WITH_ERRORS
    else:
        run.status = ScoreRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.duration_ms = int(duration_s * 1000)
    fields: tuple[str, ...] = ("files_found", "files_sent", "files_failed", "bytes_sent", "status", "finished_at")
    fields += ("duration_ms", "passes", "error", "note")
    return bool(ScoreRun.objects.filter(pk=run.pk, status=ending).update(**{f: getattr(run, f) for f in fields}))


def runs_recover() -> int:
    """End the runs whose worker died (RUNNING, silent for SCORE_CLAIM_STALE_S): FAILED, their
    files' claims and their lock released, and the digest of what they did sent. Returns how many.

    A file the dead run was moving keeps its name on the source and is INTERRUPTED; one it had
    sent but not renamed keeps SENT, so the next run renames it without sending it again.
    """
    now = timezone.now()
    ended = 0
    stale = ScoreRun.objects.filter(
        status=ScoreRun.Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=settings.SCORE_CLAIM_STALE_S)
    )
    for run in stale:
        error = (
            f"its worker stopped answering (silent since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC); "
            "the run was ended by the sweeper"
        )
        taken = ScoreRun.objects.filter(pk=run.pk, status=ScoreRun.Status.RUNNING, heartbeat_at=run.heartbeat_at)
        if not taken.update(status=ScoreRun.Status.FAILED, error=error):
            continue  # it came back to life, or another sweeper ended it
        held = run.files.exclude(claim_key=None)
        held.filter(status=ScoreFile.Status.CLAIMED).update(
            status=ScoreFile.Status.INTERRUPTED,
            error="its run's worker died while moving it; it keeps its name for the next run",
        )
        held.update(claim_key=None, finished_at=now)
        run.error = error
        run_finish(run=run, duration_s=(now - run.started_at).total_seconds(), ending=ScoreRun.Status.FAILED)
        if run.lock_owner:
            lease_release(name=LOCK, owner=run.lock_owner)
        log.warning("score run %s: %s", run.id, error)
        run_notify(run=run)
        ended += 1
    return ended
