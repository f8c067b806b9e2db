"""One file of a run: claim, read and check, send, rename."""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import paramiko
from django.conf import settings
from django.dispatch import Signal

from flows.device_scores.check import LineCount, Spooler
from flows.device_scores.claims import file_claim, file_finish, file_note, file_touch, run_touch
from flows.device_scores.destinations import Delivery, Destination
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.remote import RemoteError
from flows.device_scores.sources import Entry, Source, source_rename_aside
from hub.leases import lease_take

SENT_PREFIX = "Sent-"
ERROR_PREFIX = "Error-"
REMOTE_ERRORS = (OSError, EOFError, paramiko.SSHException, RemoteError)

# Sent with (file, phase "read"/"send", done bytes) for every piece moved; operations can watch progress.
score_progress = Signal()


class Stop(Exception):
    """The run cannot go on: the source or the destination is out of reach."""


class OutOfTime(OSError):
    """The file in hand would outlast the run's task budget: it is given up, as a dropped connection."""


class Heartbeat:
    """Keeps the file's claim, the run and its lock alive while a file is moved.

    Past `cut_at` (monotonic) the file is given up rather than have the worker killed mid-file:
    a run takes a file only when it expects to finish it in time, so this is the exception.
    """

    def __init__(self, file: ScoreFile, lock: tuple[str, str], phase: str, cut_at: float | None):
        self.file, self.lock, self.phase, self.cut_at = file, lock, phase, cut_at
        self.last = time.monotonic()
        self.cut = False

    def __call__(self, done: int) -> None:
        score_progress.send(sender=ScoreFile, file=self.file, phase=self.phase, done=done)
        now = time.monotonic()
        if self.cut_at is not None and now > self.cut_at:
            self.cut = True
            raise OutOfTime(f"{self.file.name}: the run's task budget ran out after {done} bytes")
        if now - self.last >= settings.SCORE_HEARTBEAT_S:
            self.last = now
            file_touch(file=self.file)
            run_touch(run_id=self.file.run_id)
            lease_take(name=self.lock[0], owner=self.lock[1], seconds=settings.SCORE_CLAIM_STALE_S)


def _rename(source: Source, file: ScoreFile, prefix: str) -> None:
    """Rename on the source, then let go of the claim: held until here, so no other run takes the file."""
    new_name = prefix + file.name
    try:
        new_name = source_rename_aside(source=source, name=file.name, new_name=new_name)
    except REMOTE_ERRORS as exc:
        note = f"renaming to {new_name} failed: {exc}"
        file_finish(file=file, status=file.status, error=f"{file.error}; {note}" if file.error else note)
        raise Stop(f"cannot rename {file.name} on the source: {exc}") from None
    file_finish(file=file, status=file.status, renamed_to=new_name)


def file_transfer(
    *,
    run: ScoreRun,
    source: Source,
    destination: Destination,
    entry: Entry,
    lock: tuple[str, str],
    cut_at: float | None = None,
) -> bool:
    """Move one listed file; True when it reached a final state (sent, or renamed Error-).

    `cut_at` (monotonic): when the file must be through, so that DERMS's answer still comes in time.
    """
    try:
        now = source.stat(entry.name)
    except REMOTE_ERRORS as exc:
        raise Stop(f"cannot stat {entry.name} on the source: {exc}") from None
    if now != entry:  # gone (another run took it) or still being written
        return False
    file = file_claim(run=run, source=source.location.label, entry=entry)
    if file is None:
        return False
    earlier = (
        ScoreFile.objects.filter(
            source=file.source,
            name=entry.name,
            size=entry.size,
            mtime=entry.mtime,
            status=ScoreFile.Status.SENT,
            renamed_to="",
        )
        .exclude(pk=file.pk)
        .first()
    )
    if earlier is not None:  # sent before, but its rename failed: finish the rename, never send twice
        file_note(
            file=file,
            status=ScoreFile.Status.SENT,
            rows=earlier.rows,
            sha256=earlier.sha256,
            destination_response=f"sent by run {earlier.run_id}; renamed now",
        )
        _rename(source, file, SENT_PREFIX)
        ScoreFile.objects.filter(pk=earlier.pk).update(renamed_to=file.renamed_to)
        return True
    with ExitStack() as stack:
        local = source.local_path(entry.name)
        spool = None if local else stack.enter_context(tempfile.TemporaryFile(dir=_spool_dir(), prefix="score-"))
        spooler = Spooler(spool)
        beat = Heartbeat(file, lock, "read", cut_at)
        read = 0
        try:
            try:
                for chunk in source.read(entry.name):
                    spooler.feed(chunk)
                    read += len(chunk)
                    beat(read)
                    if read > entry.size:  # growing: still being written
                        break
            finally:
                checked = spooler.close()
            after = source.stat(entry.name)
        except REMOTE_ERRORS as exc:
            file_finish(
                file=file,
                status=ScoreFile.Status.INTERRUPTED,
                error=f"reading the source failed after {read} bytes: {type(exc).__name__}: {exc}",
            )
            raise Stop(f"reading {entry.name} from the source failed: {exc}") from None
        if after != entry or checked.size != entry.size:
            file_finish(file=file, status=ScoreFile.Status.SKIPPED, error="changed while read: still being written")
            return False
        file_note(file=file, sha256=checked.sha256)
        if spool is not None:
            body: BinaryIO = spool
        else:
            assert local is not None  # nothing is spooled only when the source's own file is read in place
            body = stack.enter_context(open(local, "rb"))
        lines = LineCount(body.fileno(), checked.size)
        stack.callback(lines.thread.join)  # done with the file before it is closed
        if checked.problem:
            file_note(file=file, rows=lines.result(), status=ScoreFile.Status.ERROR, error=checked.problem)
            _rename(source, file, ERROR_PREFIX)
            return True
        body.seek(0)
        beat = Heartbeat(file, lock, "send", cut_at)
        delivery = destination.send(
            name=entry.name,
            fileobj=body,
            size=checked.size,
            sha256=checked.sha256,
            correlation_id=str(file.correlation_id),
            progress=beat,
        )
        rows = lines.result()
    result = {
        "rows": rows,
        "destination_status": delivery.status,
        "destination_response": delivery.response,
        "outbound_call": delivery.call,
    }
    if delivery.outcome == Delivery.UNREACHABLE:
        file_finish(file=file, status=ScoreFile.Status.INTERRUPTED, error=delivery.response, **result)
        if beat.cut:
            raise Stop(f"{entry.name} could not be sent within the task budget; it keeps its name for the next run")
        raise Stop(f"the destination is out of reach: {delivery.response}")
    if delivery.outcome == Delivery.SENT:
        file_note(file=file, status=ScoreFile.Status.SENT, bytes_sent=checked.size, **result)
        _rename(source, file, SENT_PREFIX)
        return True
    file_note(
        file=file, status=ScoreFile.Status.ERROR, error=f"refused by the destination: {delivery.response}", **result
    )
    _rename(source, file, ERROR_PREFIX)
    return True


def _spool_dir() -> Path:
    path = Path(settings.VAR_DIR) / "spool"
    path.mkdir(parents=True, exist_ok=True)
    return path
