from django.core.management.base import BaseCommand, CommandError

from flows.device_scores.models import ScoreRun
from flows.device_scores.transfer import transfer_run


class Command(BaseCommand):
    help = (
        "Run one score-file transfer now, emails included. Exits 0 when every file was sent (or none was "
        "found), 1 when a file failed, the source could not be reached, or another run holds the lock."
    )
    # Run from cron or by hand on a configured host: the system checks (which load every URL, view and
    # the API schema) belong to `manage.py check --deploy`, not to each transfer.
    requires_system_checks = []

    def handle(self, **options):
        run = transfer_run(trigger=ScoreRun.Trigger.COMMAND)
        if run is None:
            raise CommandError("another score transfer is running (it holds the lock); nothing done")
        for file in run.files.exclude(status="SKIPPED").order_by("id"):
            detail = f" ({file.error})" if file.error else ""
            self.stdout.write(f"{file.status:12} {file.name} {file.size} bytes, {file.rows} rows{detail}")
        summary = (
            f"run {run.id}: {run.files_found} found, {run.files_sent} sent, {run.files_failed} failed, "
            f"{run.bytes_sent} bytes in {run.duration_ms / 1000:.1f} s"
        )
        if run.status != ScoreRun.Status.COMPLETED:
            raise CommandError(f"{summary}{': ' + run.error if run.error else ''}")
        self.stdout.write(summary)
