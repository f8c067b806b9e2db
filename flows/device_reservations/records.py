"""Devices as flow 5 leaves them: each device's reservation in its event, and a line on the event's timeline.

A reservation may name 200,000 devices: the records are written from the
event's rows by three INSERT … SELECT … ON CONFLICT statements (devices,
their nicId keys, their part in the event), set-based in the database, not
a row at a time through Python.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from flows.event_status.records import event_status_shown  # DERMS's IN_PROGRESS or COMPLETED (flow 8)
from hub.models import Message
from records.models import BusinessKey, Device, DeviceEvent
from records.projection import Entry, keys_add, timeline_add

EVENT_DEVICES = EventDevice._meta.db_table
DEVICES = Device._meta.db_table
KEYS = BusinessKey._meta.db_table
DEVICE_EVENTS = DeviceEvent._meta.db_table

# The message's devices the records do not know yet.
DEVICES_SQL = f"""
INSERT INTO {DEVICES} (nic_id, head_end_system, device_type, specification, check_communication_id, check_state,
    check_result, check_text, registration_state, created_at, updated_at)
SELECT DISTINCT ed.nic_id, ed.head_end_system, '', '', '', '', '', '', '', %(now)s, %(now)s
FROM {EVENT_DEVICES} ed WHERE ed.message_id = %(message)s
ON CONFLICT (nic_id, head_end_system) DO NOTHING
"""
KEYS_SQL = f"""
INSERT INTO {KEYS} (kind, value, value_lower, target, target_id)
SELECT 'nicId', d.nic_id, lower(d.nic_id), 'device', d.id
FROM {EVENT_DEVICES} ed JOIN {DEVICES} d ON d.nic_id = ed.nic_id AND d.head_end_system = ed.head_end_system
WHERE ed.message_id = %(message)s
ON CONFLICT (target, target_id, kind, value_lower) DO NOTHING
"""
DEVICE_EVENTS_SQL = f"""
INSERT INTO {DEVICE_EVENTS} (device_id, event_id, event_type, program_code, event_start, event_end, event_status,
    reservation_state, reservation_error, reservation_message_id, outcome, updated_at)
SELECT d.id, %(event_id)s, %(event_type)s, %(program)s, %(start)s, %(end)s, %(status)s, ed.state, ed.error,
    ed.message_id, '', %(now)s
FROM {EVENT_DEVICES} ed JOIN {DEVICES} d ON d.nic_id = ed.nic_id AND d.head_end_system = ed.head_end_system
WHERE ed.message_id = %(message)s
ON CONFLICT (device_id, event_id) DO UPDATE SET event_type = excluded.event_type,
    program_code = excluded.program_code, event_start = excluded.event_start, event_end = excluded.event_end,
    event_status = excluded.event_status, reservation_state = excluded.reservation_state,
    reservation_error = excluded.reservation_error, reservation_message_id = excluded.reservation_message_id,
    updated_at = excluded.updated_at
"""


def event_status_sync(event: ProgramEvent) -> None:
    """Every device of the event shows the event's status, and no longer reserved once it is cancelled."""
    status = event_status_shown(event.event_id, event.status)
    rows = DeviceEvent.objects.filter(event_id=event.event_id)
    rows.exclude(event_status=status).update(event_status=status)
    if event.status == ProgramEvent.Status.CANCELLED:
        rows.filter(reservation_state__in=(EventDevice.State.PENDING, EventDevice.State.RESERVED)).update(
            reservation_state=EventDevice.State.CANCELLED
        )


def project(message: Message) -> None:
    reservation = Reservation.objects.select_related("event").filter(message=message).first()
    if reservation is None:
        return
    event = reservation.event
    moment = connection.ops.adapt_datetimefield_value
    params = {
        "message": message.id,
        "now": moment(timezone.now()),
        "event_id": event.event_id,
        "event_type": event.event_type,
        "program": event.program_code,
        "start": moment(event.start),
        "end": moment(event.end),
        "status": event.status,
    }
    with connection.cursor() as cursor:
        for sql in (DEVICES_SQL, KEYS_SQL, DEVICE_EVENTS_SQL):
            cursor.execute(sql, params)
    event_status_sync(event)
    keys_add([(BusinessKey.Target.EVENT, event.id, "eventId", event.event_id)])
    counts = EventDevice.objects.filter(message=message).values("state").annotate(n=Count("id")).order_by("state")
    summary = ", ".join(f"{row['n']} {row['state']}" for row in counts) or "no devices"
    text = f"Reservation {message.message_key}: {reservation.device_count} device(s): {summary}; event {event.status}"
    timeline_add([Entry(message, "reservation", text, message.received_at, event_id=event.event_id)])
