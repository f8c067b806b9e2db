"""Devices as flow 5 leaves them: each device's reservation in its event, and a line on the event's timeline.

A reservation may name 200,000 devices: they are read from the event's
rows in chunks and written with bulk upserts, never a query per device.
"""

from __future__ import annotations

from collections import Counter

from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from hub.models import Message
from records.models import BusinessKey, DeviceEvent
from records.projection import CHUNK, Entry, chunks, device_events_upsert, devices_upsert, keys_add, timeline_add

FIELDS = [
    "event_type",
    "program_code",
    "event_start",
    "event_end",
    "event_status",
    "reservation_state",
    "reservation_error",
    "reservation_message",
]


def event_status_sync(event: ProgramEvent) -> None:
    """Every device of the event shows the event's status, and no longer reserved once it is cancelled."""
    rows = DeviceEvent.objects.filter(event_id=event.event_id)
    rows.exclude(event_status=event.status).update(event_status=event.status)
    if event.status == ProgramEvent.Status.CANCELLED:
        rows.filter(reservation_state__in=(EventDevice.State.PENDING, EventDevice.State.RESERVED)).update(
            reservation_state=EventDevice.State.CANCELLED
        )


def project(message: Message) -> None:
    reservation = Reservation.objects.select_related("event").filter(message=message).first()
    if reservation is None:
        return
    event = reservation.event
    counts: Counter[str] = Counter()
    rows = EventDevice.objects.filter(message=message).values_list("nic_id", "head_end_system", "state", "error")
    for chunk in chunks(rows.order_by("seq").iterator(chunk_size=CHUNK)):
        ids = devices_upsert({(nic, head_end): {} for nic, head_end, _, _ in chunk})
        counts.update(state for _, _, state, _ in chunk)
        device_events_upsert(
            [
                DeviceEvent(
                    device_id=ids[(nic, head_end)],
                    event_id=event.event_id,
                    event_type=event.event_type,
                    program_code=event.program_code,
                    event_start=event.start,
                    event_end=event.end,
                    event_status=event.status,
                    reservation_state=state,
                    reservation_error=error[:1000],
                    reservation_message=message,
                )
                for nic, head_end, state, error in chunk
            ],
            FIELDS,
        )
    event_status_sync(event)
    keys_add([(BusinessKey.Target.EVENT, event.id, "eventId", event.event_id)])
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no devices"
    text = f"Reservation {message.message_key}: {reservation.device_count} device(s): {summary}; event {event.status}"
    timeline_add([Entry(message, "reservation", text, message.received_at, event_id=event.event_id)])
