"""Devices as flow 6 leaves them: an event cancelled, its devices no longer reserved."""

from __future__ import annotations

from flows.device_reservations.models import ProgramEvent
from flows.device_reservations.records import event_status_sync
from hub.models import Message
from records.models import BusinessKey
from records.projection import Entry, keys_add, timeline_add


def project(message: Message) -> None:
    item = message.items.only("key", "status", "data", "last_error").first()
    if item is None:
        return
    event = ProgramEvent.objects.filter(event_id=item.key).first()
    if event is not None:
        event_status_sync(event)
        keys_add([(BusinessKey.Target.EVENT, event.id, "eventId", event.event_id)])
    reason = (item.data or {}).get("text") or ""
    text = f"Cancellation {message.message_key}: {item.status}"
    if reason:
        text += f" ({reason})"
    if item.last_error:
        text += f": {item.last_error}"
    text += f"; event {event.status}" if event is not None else "; event unknown to the hub"
    timeline_add([Entry(message, "cancellation", text, message.received_at, event_id=item.key)])
