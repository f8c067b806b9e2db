"""The emails of a run: the digest to the business, errors to support staff."""

from __future__ import annotations

from django.conf import settings

from flows.device_scores.models import ScoreFile, ScoreRun
from hub.notify import email_send


def run_notify(*, run: ScoreRun) -> None:
    files = list(run.files.exclude(status=ScoreFile.Status.SKIPPED).order_by("id"))
    failed = [f for f in files if f.status in ScoreFile.FAILED]
    context = {"run": run, "files": files, "failed": failed}
    if files:
        email_send(
            kind="score_complete",
            subject=f"Score files: {run.files_sent} sent, {run.files_failed} failed (run {run.id})",
            recipients=settings.NOTIFY_BUSINESS_EMAILS,
            context=context,
        )
    if failed or run.error:
        email_send(
            kind="score_error",
            subject=f"Score file transfer error: {len(failed)} file(s) failed (run {run.id})",
            recipients=settings.NOTIFY_TECHNICAL_EMAILS,
            context=context,
        )
    if not files and not run.error and settings.SCORE_NO_FILE_EMAIL:
        email_send(
            kind="score_no_file",
            subject=f"No score file found (run {run.id})",
            recipients=settings.NOTIFY_BUSINESS_EMAILS,
            context=context,
        )
