"""Flow 6: pre-event cancellation, DERMS → hub → DACS.

A cancellation takes the same per-event lock as the event's reservations, so
it goes out only after the collections in flight have come back; the
reservations stop sending as soon as it is accepted (the event is CANCELLING).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from flows.device_reservations.events import event_cancel_abandoned, event_cancelled, event_cancelling
from flows.device_reservations.flow import event_lock
from flows.device_reservations.models import ProgramEvent
from hub import partners
from hub.activity import activity_record
from hub.fields import Text, optional
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus
from hub.models import Item, Message, System
from hub.notify import email_send
from hub.payload import validated

LEGACY_TEXT_MAX = 100


class CancellationMessage(serializers.Serializer):
    messageId = Text(max_length=100)
    drmsInstanceId = optional()
    eventId = Text(max_length=120)
    cancellationMessageText = optional()


LIFECYCLE = partners.Operation(System.DACS, "lifecycle", "DACS_LIFECYCLE_PATH")
PRE_EVENT_CANCELLATION = partners.Operation(System.DACS, "preEventCancellation", "DACS_PRE_EVENT_CANCEL_PATH")


def dacs_cancellation(event_id: str, text: str, mode: str) -> tuple[partners.Operation, dict]:
    """(operation, body) of the DACS call in `lifecycle` or `legacy` mode."""
    if mode == "legacy":
        body = {"eventExternalIdentifier": event_id, "cancelMessage": text[:LEGACY_TEXT_MAX]}
        return PRE_EVENT_CANCELLATION, body
    body = {"action": "F1CN", "eventExternalIdentifier": event_id, "cancelReason": text}
    return LIFECYCLE, body


class EventCancellations(Flow):
    name = "event_cancellations"
    sender = System.DERMS
    path = "derms/event-cancellations"
    request_serializer = CancellationMessage
    request_examples = {
        "cancellation": {
            "messageId": "DRMS-CNL-0042",
            "drmsInstanceId": "DERMS-PROD",
            "eventId": "EVT-2026-0042",
            "cancellationMessageText": "Forecast load below threshold",
        }
    }

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(CancellationMessage, payload)
        text = data.get("cancellationMessageText") or ""
        item = Item(seq=0, key=data["eventId"], data={"text": text})

        def cancelling() -> None:
            # The event's status before, to go back to if this cancellation ends with no answer.
            item.data["was"] = event_cancelling(event_id=data["eventId"], reason=text, now=timezone.now())

        return Accepted(key=data["messageId"], items=[item], on_accept=[cancelling])

    def lock_name(self, message: Message) -> str:
        return event_lock(message.items.values_list("key", flat=True).first() or str(message.id))

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        for item in items:
            if ProgramEvent.objects.filter(event_id=item.key, status=ProgramEvent.Status.CANCELLED).exists():
                # Cancelled already (by an earlier cancellation, perhaps while this one waited): nothing to send.
                activity_record(message=message, kind="already_cancelled", text=f"Event {item.key} is CANCELLED")
                outcomes[item.id] = Outcome(OutcomeStatus.SUCCESS)
                continue
            operation, body = dacs_cancellation(item.key, item.data.get("text", ""), settings.DACS_CANCELLATION_MODE)
            result = partners.call(operation, json_body=body, message=message, item=item)
            if not result.technical:
                event_cancelled(event_id=item.key, ok=result.ok)
            outcomes[item.id] = Outcome.of(result)
        return outcomes

    def finished(self, message: Message, status: str) -> None:
        item = message.items.first()
        if item is None:
            return
        if item.status == Item.Status.FAILURE:
            event_cancelled(event_id=item.key, ok=False)
        email_send(
            kind="cancellation_complete",
            subject=f"Cancellation of event {item.key}: {item.status}",
            recipients=settings.NOTIFY_BUSINESS_EMAILS,
            context={
                "message": message,
                "item": item,
                "mode": settings.DACS_CANCELLATION_MODE,
                "sent": message.calls.exists(),
            },
            message=message,
        )
        super().finished(message, status)

    def settle(self, message: Message, *, reason: str) -> None:
        """The event stops being CANCELLING, unless another cancellation of it is still open."""
        item = message.items.first()
        if item is None:
            return
        others = (
            Message.objects.filter(flow=self.name, status__in=Message.UNFINISHED, items__key=item.key)
            .exclude(id=message.id)
            .exists()
        )
        if not others:
            event_cancel_abandoned(event_id=item.key, was=item.data.get("was"))
