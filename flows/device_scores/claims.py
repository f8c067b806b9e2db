"""Claims: a file is held in the database before it is read, so that two runs
at once never both send it. A claim silent for SCORE_CLAIM_STALE_S (its run
crashed or hung) is taken back by the next run that wants the file.

Why not hub/claims.py, which claims messages: a message exists as a row before
anyone claims it, and its claim is a token on that row. A score file exists
only on the source until a run finds it: the claim *is* the creation of its
row, made unique by the file's name at its source, so two runs racing for a
new file are told apart by the unique constraint rather than by a token. Its
staleness is measured against the run's slower operations (an SFTP read, a
DERMS answer: SCORE_CLAIM_STALE_S), not the message heartbeat's STALE_AFTER_S.
What the two share is the rule of one owner: a run checks its claim at every
heartbeat while it streams the file (`file_touch`), and stops sending as soon
as the claim was taken back. Its own outcome it still writes on its own row
(`file_note`, `file_finish`), never on the row of the run that took over.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.sources import Entry


class ClaimLost(OSError):
    """Another run took this file's claim back: this run must stop sending it.

    An OSError, so that a body being streamed ends as a dropped connection.
    """


def file_claim(*, run: ScoreRun, source: str, entry: Entry) -> ScoreFile | None:
    key = f"{source}|{entry.name}"
    for _ in range(2):
        now = timezone.now()
        try:
            with transaction.atomic():
                return ScoreFile.objects.create(
                    run=run,
                    source=source,
                    name=entry.name,
                    claim_key=key,
                    size=entry.size,
                    mtime=entry.mtime,
                    heartbeat_at=now,
                )
        except IntegrityError:
            held = ScoreFile.objects.filter(claim_key=key).first()
            if held is None:
                continue
            if held.heartbeat_at > now - timedelta(seconds=settings.SCORE_CLAIM_STALE_S):
                return None
            ScoreFile.objects.filter(pk=held.pk, claim_key=key, heartbeat_at=held.heartbeat_at).update(
                claim_key=None,
                status=ScoreFile.Status.ABANDONED,
                finished_at=now,
                error=f"claim taken back by run {run.id}: silent since {held.heartbeat_at:%Y-%m-%d %H:%M:%S}",
            )
    return None


def run_touch(*, run_id: int) -> None:
    """Show that the run's worker is alive; a run the sweeper has ended must stop."""
    if not ScoreRun.objects.filter(pk=run_id, status=ScoreRun.Status.RUNNING).update(heartbeat_at=timezone.now()):
        raise ClaimLost(f"score run {run_id} was ended by the sweeper (its worker was silent too long)")


def file_touch(*, file: ScoreFile) -> None:
    if not ScoreFile.objects.filter(pk=file.pk, claim_key=file.claim_key).update(heartbeat_at=timezone.now()):
        raise ClaimLost(f"the claim on {file.name} was taken back by another run")


def file_note(*, file: ScoreFile, **fields) -> None:
    """Record part of the file's outcome while keeping its claim."""
    ScoreFile.objects.filter(pk=file.pk).update(**fields)
    for name, value in fields.items():
        setattr(file, name, value)


def file_finish(*, file: ScoreFile, status: str, **fields) -> None:
    """Record the file's outcome and let go of its claim."""
    fields = {**fields, "status": status, "claim_key": None, "finished_at": timezone.now()}
    ScoreFile.objects.filter(pk=file.pk).update(**fields)
    for name, value in fields.items():
        setattr(file, name, value)
