"""Build the business records from messages that finished before the records existed (or again, after a fix)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hub.models import Message
from hub.registry import FLOWS
from records.projection import records_update

ENDED = (
    Message.Status.COMPLETED,
    Message.Status.COMPLETED_WITH_ERRORS,
    Message.Status.FAILED,
    Message.Status.DISCARDED,
)


def records_backfill(*, flows: list[str] | None = None, since_id: int = 0) -> tuple[int, int]:
    """Run every flow's projection on its ended messages, oldest first; (messages done, messages failed)."""
    messages = Message.objects.filter(status__in=ENDED, id__gt=since_id)
    if flows:
        messages = messages.filter(flow__in=flows)
    done = failed = 0
    for message in messages.order_by("id").only("id").iterator(chunk_size=1000):
        if records_update(message):
            done += 1
        else:
            failed += 1
    return done, failed


class Command(BaseCommand):
    help = "Build enrollments, devices and their timelines from the messages that have ended."

    def add_arguments(self, parser):
        parser.add_argument("--flow", action="append", dest="flows", help="only this flow (repeatable)")
        parser.add_argument("--since-id", type=int, default=0, help="only messages with a greater id")

    def handle(self, *args, flows=None, since_id=0, **options):
        unknown = sorted(set(flows or ()) - set(FLOWS))
        if unknown:
            raise CommandError(f"--flow: unknown flow {', '.join(unknown)}; known: {', '.join(sorted(FLOWS))}")
        done, failed = records_backfill(flows=flows, since_id=since_id)
        self.stdout.write(f"{done} message(s) projected onto records, {failed} failed (see the log)")
        if failed:
            raise CommandError(f"{failed} message(s) could not be projected")
