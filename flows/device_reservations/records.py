"""Devices as flow 5 leaves them: each device's reservation in its event, and a line on the event's timeline.

A reservation may name 200,000 devices: the records are written from the
event's rows by three INSERT … SELECT … ON CONFLICT statements (devices,
their nicId keys, their part in the event), set-based in the database, not
a row at a time through Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def devices_of_message(table: str) -> str:
    """FROM … WHERE: the message's rows of `table` (nic_id, head_end_system, message_id) as `s`, each joined
    to its device `d` (the statements of `device_keys_sql` have added any the records did not know)."""
    return (
        f"FROM {table} s JOIN {DEVICES} d ON d.nic_id = s.nic_id AND d.head_end_system = s.head_end_system\n"
        "WHERE s.message_id = %(message)s"
    )


def device_keys_sql(table: str) -> tuple[str, str]:
    """The two statements that add the devices named in the message's rows of `table` the records do not
    know yet, then their nicId keys (parameters: message, now); flows 5 and 7 run them on their own rows."""
    devices = f"""
INSERT INTO {DEVICES} (nic_id, head_end_system, device_type, specification, check_communication_id, check_state,
    check_result, check_text, registration_state, created_at, updated_at)
SELECT DISTINCT s.nic_id, s.head_end_system, '', '', '', '', '', '', '', %(now)s, %(now)s
FROM {table} s WHERE s.message_id = %(message)s
ON CONFLICT (nic_id, head_end_system) DO NOTHING
"""
    keys = f"""
INSERT INTO {KEYS} (kind, value, value_lower, target, target_id)
SELECT 'nicId', d.nic_id, lower(d.nic_id), 'device', d.id
{devices_of_message(table)}
ON CONFLICT (target, target_id, kind, value_lower) DO NOTHING
"""
    return devices, keys


def state_summary(counts: Iterable[Mapping[str, object]]) -> str:
    """ "3 ERROR, 997 RESERVED" from rows of state and n, for a line on the timeline."""
    return ", ".join(f"{row['n']} {row['state']}" for row in counts) or "no devices"


DEVICES_SQL, KEYS_SQL = device_keys_sql(EVENT_DEVICES)
DEVICE_EVENTS_SQL = f"""
INSERT INTO {DEVICE_EVENTS} (device_id, event_id, event_type, program_code, event_start, event_end, event_status,
    reservation_state, reservation_error, reservation_message_id, outcome, updated_at)
SELECT d.id, %(event_id)s, %(event_type)s, %(program)s, %(start)s, %(end)s, %(status)s, s.state, s.error,
    s.message_id, '', %(now)s
{devices_of_message(EVENT_DEVICES)}
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
    text = (
        f"Reservation {message.message_key}: {reservation.device_count} device(s): {state_summary(counts)};"
        f" event {event.status}"
    )
    timeline_add([Entry(message, "reservation", text, message.received_at, event_id=event.event_id)])
