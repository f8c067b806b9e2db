"""What support staff do to score files from the console."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

from flows.device_scores.models import ScoreFile
from flows.device_scores.remote import RemoteError
from flows.device_scores.sources import source_open
from flows.device_scores.step import ERROR_PREFIX, REMOTE_ERRORS


def files_send_again(*, files: list[ScoreFile], actor) -> tuple[int, list[str]]:
    """Rename each `Error-` file back to its name on the source, then start a run that takes them.

    Returns how many were renamed and the problems met with the others.
    """
    problems: list[str] = []
    wanted = [f for f in files if f.status == ScoreFile.Status.ERROR and f.renamed_to.startswith(ERROR_PREFIX)]
    problems += [f"{f.name}: not a file renamed {ERROR_PREFIX}" for f in files if f not in wanted]
    if not wanted:
        return 0, problems
    try:
        source = source_open()
    except (RemoteError, *REMOTE_ERRORS) as exc:
        return 0, [*problems, f"cannot reach the source: {exc}"]
    done = 0
    try:
        for file in wanted:
            if file.source != source.location.label:
                problems.append(f"{file.name}: it came from {file.source}, not from the source set now")
                continue
            try:
                if source.stat(file.name) is not None:
                    problems.append(f"{file.name}: a file of that name is already waiting on the source")
                    continue
                source.rename(file.renamed_to, file.name)
            except REMOTE_ERRORS as exc:
                problems.append(f"{file.name}: {exc}")
                continue
            who = getattr(actor, "username", "") or "someone"
            ScoreFile.objects.filter(pk=file.pk).update(
                renamed_to="", error=f"{file.error}; renamed back to {file.name} to be sent again by {who}"
            )
            done += 1
    finally:
        source.close()
    if done:
        transaction.on_commit(lambda: async_task("flows.device_scores.tasks.transfer_requested"))
    return done, problems
