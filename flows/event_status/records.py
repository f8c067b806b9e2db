"""Events as flow 8 leaves them: the status their devices show, and a line on the event's timeline.

An event's devices (DeviceEvent rows, written by flows 5 and 6) show one
status: once DERMS says the event is IN_PROGRESS or COMPLETED that is it;
before, the reservation's (RESERVED, CANCELLED…) says more, and flow 8's
SCHEDULED only when no reservation exists yet.
"""

from __future__ import annotations

from flows.device_reservations.models import ProgramEvent
from flows.event_status.models import EventState, EventStatus, StatusUpdate
from hub.models import Message
from hub.timefmt import iso_z
from records.models import BusinessKey, DeviceEvent
from records.projection import Entry, keys_add, timeline_add

STARTED = (EventStatus.IN_PROGRESS, EventStatus.COMPLETED)


def event_status_shown(event_id: str, reservation_status: str) -> str:
    """The status an event's devices show: DERMS's once the event has started, the reservation's before."""
    lifecycle = EventState.objects.filter(event_id=event_id).values_list("status", flat=True).first() or ""
    if lifecycle in STARTED:
        return lifecycle
    return reservation_status or lifecycle


def update_text(message: Message, update: StatusUpdate, cancel_reason: str) -> str:
    text = f"Status update {message.message_key}: {update.status} at {iso_z(update.status_at)}"
    if update.stage_id and update.stage_id != update.event.event_id:
        text += f", stage {update.stage_id}"
    if cancel_reason:
        text += f" ({cancel_reason})"
    text += f": {update.get_state_display()}"
    if update.error:
        text += f": {update.error}"
    return text


def project(message: Message) -> None:
    update = StatusUpdate.objects.select_related("event").filter(message=message).first()
    if update is None:
        return
    event_id = update.event.event_id
    program_event = ProgramEvent.objects.filter(event_id=event_id).first()
    if program_event is not None:
        # Flow 5's own sync: the devices' status, and a cancelled event's devices no longer reserved
        # (imported here: flow 5's projection imports this module).
        from flows.device_reservations.records import event_status_sync

        event_status_sync(program_event)
        keys_add(
            [
                (BusinessKey.Target.EVENT, program_event.id, "eventId", event_id),
                (BusinessKey.Target.EVENT, program_event.id, "stageId", update.stage_id),
            ]
        )
    else:
        status = event_status_shown(event_id, "")
        if status:
            DeviceEvent.objects.filter(event_id=event_id).exclude(event_status=status).update(event_status=status)
    # The update's message is found by its event and stage too, before any reservation makes the event a record.
    keys_add(
        [
            (BusinessKey.Target.MESSAGE, message.id, "eventId", event_id),
            (BusinessKey.Target.MESSAGE, message.id, "stageId", update.stage_id),
        ]
    )
    item = message.items.only("data").first()
    cancel_reason = str(((item.data if item is not None else {}) or {}).get("cancelReason") or "")
    text = update_text(message, update, cancel_reason)
    timeline_add([Entry(message, "status_update", text, message.received_at, event_id=event_id)])
