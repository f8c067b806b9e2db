"""A transfer run: list the source, move every eligible file, list again until
nothing is left, record the run and email its digest.

The schedule (django-q2) and `manage.py transfer_scores` both call
`transfer_run`, which takes one lock (a lease) so that runs do not overlap.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from flows.device_scores.destinations import destination_open
from flows.device_scores.digest import run_notify
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.remote import RemoteError, location_parse
from flows.device_scores.sources import Entry, source_open
from flows.device_scores.step import Stop, file_transfer
from hub.leases import lease_release, lease_take

log = logging.getLogger(__name__)

LOCK = "device_scores.transfer"
MAX_PASSES = 1000


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
        destination = f"{settings.PARTNERS['DERMS']['base_url']}/{settings.PARTNER_PATHS['DERMS_DEVICE_SCORE_PATH']}"
    else:
        destination = location_parse(settings.SCORE_DESTINATION, setting="SCORE_DESTINATION").label
    return source, destination


def transfer_run(*, trigger: str) -> ScoreRun | None:
    """One run, emails included; None when another run holds the lock."""
    source_label, destination_label = _labels()
    lock = (LOCK, f"run-{uuid.uuid4()}")
    if not lease_take(name=lock[0], owner=lock[1], seconds=settings.SCORE_CLAIM_STALE_S):
        log.info("score transfer not started: another run holds the lock")
        return None
    started = time.monotonic()
    run = ScoreRun.objects.create(trigger=trigger, source=source_label, destination=destination_label)
    try:
        _passes(run, lock)
    except (RemoteError, Stop) as exc:
        run.error = str(exc)
    except Exception as exc:  # the run is recorded and reported whatever went wrong
        log.exception("score run %s failed", run.id)
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        run_finish(run=run, duration_s=time.monotonic() - started)
        lease_release(name=lock[0], owner=lock[1])
    if run.error:
        log.warning("score run %s: %s", run.id, run.error)
    run_notify(run=run)
    return run


def _passes(run: ScoreRun, lock: tuple[str, str]) -> None:
    source = source_open()
    try:
        destination = destination_open()
        try:
            for _ in range(MAX_PASSES):
                run.passes += 1
                moved = False
                for entry in candidates(source.list()):
                    if not lease_take(name=lock[0], owner=lock[1], seconds=settings.SCORE_CLAIM_STALE_S):
                        raise Stop("the run lock was taken back by another run (this one was silent too long)")
                    moved |= file_transfer(run=run, source=source, destination=destination, entry=entry, lock=lock)
                if not moved:
                    return
        finally:
            destination.close()
    finally:
        source.close()


def run_finish(*, run: ScoreRun, duration_s: float) -> None:
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
    run.save()
