"""Devices as flow 7 leaves them: how each took part in its event, and a line on the event's timeline.

An outcome message may name 200,000 devices: the records are written from the
message's own outcome rows by three INSERT … SELECT … ON CONFLICT statements
(devices, their nicId keys, their part in the event), as flow 5's are.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from flows.device_reservations.records import device_keys_sql, devices_of_message, state_summary
from flows.event_outcomes.models import DeviceOutcome, OutcomeReport
from hub.models import Message
from records.models import BusinessKey, DeviceEvent
from records.projection import Entry, keys_add, timeline_add

OUTCOMES = DeviceOutcome._meta.db_table
DEVICE_EVENTS = DeviceEvent._meta.db_table

DEVICES_SQL, KEYS_SQL = device_keys_sql(OUTCOMES)
# A device the hub did not reserve gets its part in the event all the same, with its outcome only.
DEVICE_EVENTS_SQL = f"""
INSERT INTO {DEVICE_EVENTS} (device_id, event_id, event_type, program_code, event_start, event_end, event_status,
    reservation_state, reservation_error, reservation_message_id, outcome, outcome_message_id, updated_at)
SELECT d.id, s.event_id, '', '', NULL, NULL, '', '', '', NULL, s.outcome, s.message_id, %(now)s
{devices_of_message(OUTCOMES)}
ON CONFLICT (device_id, event_id) DO UPDATE SET outcome = excluded.outcome,
    outcome_message_id = excluded.outcome_message_id, updated_at = excluded.updated_at
"""


def project(message: Message) -> None:
    report = OutcomeReport.objects.filter(message=message).first()
    if report is None:
        return
    params = {"message": message.id, "now": connection.ops.adapt_datetimefield_value(timezone.now())}
    with connection.cursor() as cursor:
        for sql in (DEVICES_SQL, KEYS_SQL, DEVICE_EVENTS_SQL):
            cursor.execute(sql, params)
    keys_add([(BusinessKey.Target.MESSAGE, message.id, "eventId", report.event_id)])
    rows = DeviceOutcome.objects.filter(message=message).values("state").annotate(n=Count("id")).order_by("state")
    text = f"Event outcomes {message.message_key}: {report.device_count} device(s): {state_summary(rows)}"
    timeline_add([Entry(message, "event_outcome", text, message.received_at, event_id=report.event_id)])
