from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet

from hub.messages import messages_resubmit
from hub.models import Message
from hub.registry import FLOWS


def add_selection_arguments(parser) -> None:
    parser.add_argument("--ids", nargs="+", default=[], help="message ids or tracking ids")
    parser.add_argument("--failed", action="store_true", help="every message that ended FAILED or with errors")
    parser.add_argument("--flow", choices=sorted(FLOWS), help="only messages of this flow")


def selected_messages(*, ids: list[str], failed: bool, flow: str | None) -> QuerySet:
    """The messages named on the command line; the same choice the console's list offers."""
    if not ids and not failed:
        raise CommandError("name messages with --ids, or choose --failed")
    messages = Message.objects.defer("raw_body")
    if ids:
        numeric = [i for i in ids if i.isdigit()]
        tracking = [i for i in ids if not i.isdigit()]
        messages = messages.filter(id__in=numeric) | messages.filter(tracking_id__in=tracking)
    if failed:
        messages = messages.filter(status__in=[Message.Status.FAILED, Message.Status.COMPLETED_WITH_ERRORS])
    if flow:
        messages = messages.filter(flow=flow)
    return messages


class Command(BaseCommand):
    help = "Resubmit finished messages (all their items, or with --failed-items only those that failed)."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--failed-items", action="store_true", help="reopen only ERROR and FAILURE items")
        parser.add_argument("--reason", default="", help="recorded in each message's timeline")

    def handle(self, ids, failed, flow, failed_items, reason, **options):
        chosen = list(selected_messages(ids=ids, failed=failed, flow=flow).values_list("id", flat=True))
        done = messages_resubmit(ids=chosen, failed_only=failed_items, reason=reason)
        self.stdout.write(f"resubmitted {done} message(s)")
