"""Flow 11: a customer's device cannot take part in events for a period; the hub passes it on to DERMS.

Messages about one period (unavailabilityId) reach DERMS one at a time and in the order the hub
accepted them: each takes the period's lock, and one whose predecessor is not finished (waiting
for a retry, say) waits until that one ends, which takes it up again (Flow.hold, finished).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from flows.customer_unavailability import services
from flows.customer_unavailability.samples import unavailability
from flows.customer_unavailability.serializers import UnavailabilityMessage
from flows.event_opt_outs.flow import derms_ack_outcome, renamed
from hub import partners
from hub.activity import activity_record
from hub.flow import Accepted, Flow, Outcome
from hub.models import Item, Message, System
from hub.notify import email_send
from hub.payload import validated

CUSTOMER_UNAVAILABILITY = partners.Operation(
    System.DERMS, "customer_unavailability", "DERMS_CUSTOMER_UNAVAILABILITY_PATH"
)
NAME = "customer_unavailability"


def period_of(message: Message) -> str:
    return message.items.values_list("key", flat=True).first() or ""


class CustomerUnavailability(Flow):
    name = NAME
    sender = System.DACS
    path = "dacs/customer-unavailability"
    partner = System.DERMS
    request_serializer = UnavailabilityMessage
    request_examples = {
        "add": unavailability(),
        "cancel": unavailability("UNAV-MSG-0002", "UNAV-0007", "CANCEL"),
    }

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(UnavailabilityMessage, payload)
        item = Item(seq=0, key=data["unavailabilityId"], nic_id=data["nicId"], data=renamed(payload, "messageId"))
        return Accepted(key=data["messageId"], items=[item])

    # --- one at a time per period, in the order accepted -------------------------
    def lock_name(self, message: Message) -> str:
        return f"unavailability:{period_of(message) or message.id}"

    def hold(self, message: Message) -> datetime | None:
        """None when no earlier message about the period is open; otherwise a time past the task's
        own wait, so the message goes back to the queue (lock released) until the earlier one ends
        and wakes it (the time is only a fallback)."""
        if not message.items.filter(status__in=Item.OPEN).exists():
            return None
        earlier = services.earlier_open(flow=self.name, message_id=message.id, unavailability_id=period_of(message))
        first = earlier.order_by("id").values_list("message_key", flat=True).first()
        if first is None:
            return None
        activity_record(message=message, kind="waiting", text=f"Waits for {first}, accepted before it")
        return timezone.now() + timedelta(seconds=max(settings.RETRY_HOLD_S, settings.RETRY_MAX_S) + 1)

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        for item in items:
            result = partners.call(CUSTOMER_UNAVAILABILITY, json_body=item.data, message=message, item=item)
            outcome = derms_ack_outcome(result)
            if outcome.status == Item.Status.SUCCESS:
                services.period_accepted(message=message, body=item.data)
            outcomes[item.id] = outcome
        return outcomes

    def finished(self, message: Message, status: str) -> None:
        item = message.items.first()
        if item is None:
            return
        services.next_wake(flow=self.name, message_id=message.id, unavailability_id=item.key)
        if item.status == Item.Status.ERROR:
            email_send(
                kind="unavailability_refused",
                subject=f"Unavailability {item.key} ({item.data.get('action')}) refused by DERMS",
                recipients=settings.NOTIFY_BUSINESS_EMAILS,
                context={"message": message, "item": item, "body": item.data, "error": item.last_error},
                message=message,
            )
        super().finished(message, status)

    def settle(self, message: Message, *, reason: str) -> None:
        services.next_wake(flow=self.name, message_id=message.id, unavailability_id=period_of(message))
