from django.core.management.base import BaseCommand

from hub.management.commands.reprocess import add_selection_arguments, selected_messages
from hub.messages import messages_discard


class Command(BaseCommand):
    help = "Discard messages: stop work on them for good and cancel their open items."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--reason", required=True, help="recorded in each message's timeline")

    def handle(self, ids, failed, flow, reason, **options):
        chosen = list(selected_messages(ids=ids, failed=failed, flow=flow).values_list("id", flat=True))
        done = messages_discard(ids=chosen, reason=reason)
        self.stdout.write(f"discarded {done} message(s)")
