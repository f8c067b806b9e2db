from django.core.management.base import BaseCommand

from hub.sweeper import sweep_once


class Command(BaseCommand):
    help = "Run one sweeper pass now: take back stale work, enqueue due retries, run the flows' checks."

    def handle(self, **options):
        counts = sweep_once()
        self.stdout.write(f"taken back: {counts['stale']}, enqueued: {counts['enqueued']}")
