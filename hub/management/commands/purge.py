from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.retention import retention_purge


class Command(BaseCommand):
    help = (
        "Clear the raw bodies of finished messages and the bodies of outbound calls older than "
        "RETENTION_DAYS (the rows themselves stay). Unfinished work is never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Override RETENTION_DAYS for this run.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be cleared; change nothing.")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1")
        counts = retention_purge(days=days, dry_run=dry_run)
        verb = "Would clear" if dry_run else "Cleared"
        self.stdout.write(
            f"{verb} {counts['messages']} message body(ies) and {counts['calls']} call body(ies) "
            f"older than {days} days."
        )
