"""Turning an accepted outcome message into items and device outcomes, in the worker after the 202.

As flow 5's reservations (flows/device_reservations/prepare.py): the message
was checked in full before it was accepted; here it is read again from the
stored body and written in bulk, COPY on PostgreSQL and batched inserts
elsewhere, in one transaction, so a worker that dies half-way leaves nothing
behind and the next one starts over.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from flows.device_reservations.prepare import stored_payload
from flows.event_outcomes.models import DeviceOutcome, OutcomeReport
from flows.event_outcomes.rows import DeviceOutcomeRow, outcomes_of
from hub.models import Item, Message
from hub.timefmt import parse_offset_datetime

BATCH = 5000
# The device outcome's columns a later message of the same event replaces.
REPLACED = (
    "record_id",
    "outcome",
    "participation_start",
    "participation_end",
    "error_message",
    "state",
    "error",
    "message_id",
    "seq",
    "updated_at",
)
COLUMNS = ("event_id", "nic_id", "head_end_system", *REPLACED)


def item_data(row: DeviceOutcomeRow) -> dict:
    data = {"h": row.head_end_system, "o": row.outcome}
    if row.start:
        data["s"] = row.start
    if row.end:
        data["e"] = row.end
    if row.error_message:
        data["m"] = row.error_message
    return data


def outcome_prepare(*, report: OutcomeReport) -> None:
    """Create the message's items and upsert its devices' outcomes (idempotent)."""
    message = Message.objects.get(id=report.message_id)
    payload, body = stored_payload(message)
    rows = outcomes_of(payload, body)
    with transaction.atomic():
        locked = OutcomeReport.objects.select_for_update().filter(id=report.id, prepared=False)
        if not locked.exists():
            return
        message.items.all().delete()
        seq = 0
        times: dict[str, datetime] = {}
        write = _copy if connection.vendor == "postgresql" else _insert
        while batch := list(islice(rows, BATCH)):
            write(message, report, batch, seq, times)
            seq += len(batch)
        locked.update(prepared=True)
    del body, payload


def _dt(value: str | None, times: dict[str, datetime]) -> datetime | None:
    if value is None:
        return None
    out = times.get(value)
    if out is None:
        out = times[value] = parse_offset_datetime(value.replace("Z", "+00:00"))
    return out


def _values(report: OutcomeReport, message: Message, batch: list[DeviceOutcomeRow], seq: int, times, now):
    """Each device outcome's column values, in the order of `columns`."""
    for i, d in enumerate(batch):
        yield (
            report.event_id,
            d.nic_id,
            d.head_end_system,
            d.record_id,
            d.outcome,
            _dt(d.start, times),
            _dt(d.end, times),
            d.error_message or "",
            DeviceOutcome.State.PENDING.value,
            "",
            message.id,
            seq + i,
            now,
        )


def _insert(message: Message, report: OutcomeReport, batch: list[DeviceOutcomeRow], seq: int, times) -> None:
    Item.objects.bulk_create(
        [
            Item(message=message, seq=seq + i, key=str(d.record_id), nic_id=d.nic_id, data=item_data(d))
            for i, d in enumerate(batch)
        ]
    )
    now = timezone.now()
    DeviceOutcome.objects.bulk_create(
        [
            DeviceOutcome(**dict(zip(COLUMNS, values, strict=True)))
            for values in _values(report, message, batch, seq, times, now)
        ],
        update_conflicts=True,
        unique_fields=["event_id", "nic_id", "head_end_system"],
        update_fields=[DeviceOutcome._meta.get_field(c).name for c in REPLACED],
    )


def _copy(message: Message, report: OutcomeReport, batch: list[DeviceOutcomeRow], seq: int, times) -> None:
    """PostgreSQL: COPY the items, and the outcomes through a temporary table to upsert them."""
    now = timezone.now()
    item_table, table = Item._meta.db_table, DeviceOutcome._meta.db_table
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY {item_table} (message_id, seq, key, nic_id, external_id, data, status, attempts, last_error,"
            f" updated_at) FROM STDIN"
        ) as copy:
            for i, d in enumerate(batch):
                copy.write_row(
                    (
                        message.id,
                        seq + i,
                        str(d.record_id),
                        d.nic_id,
                        "",
                        json.dumps(item_data(d)),
                        Item.Status.PENDING.value,
                        0,
                        "",
                        now,
                    )
                )
        raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS outcome_devices (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
        raw.execute("TRUNCATE outcome_devices")
        with raw.copy(f"COPY outcome_devices (id, {columns}) FROM STDIN") as copy:
            for values in _values(report, message, batch, seq, times, now):
                copy.write_row((0, *values))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in REPLACED)
        raw.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM outcome_devices"
            f" ON CONFLICT (event_id, nic_id, head_end_system) DO UPDATE SET {updates}"
        )
