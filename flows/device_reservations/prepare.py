"""Turning an accepted reservation into items and event devices, in the worker after the 202.

The message was checked in full before it was accepted; here it is read again
from the stored body and written in bulk: COPY on PostgreSQL, batched inserts
elsewhere. It runs in one transaction, so a worker that dies half-way leaves
nothing behind and the next one starts over.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from flows.device_reservations.devices import Device, devices_of, multipart_parts
from flows.device_reservations.models import EventDevice, Reservation
from hub.bulk import copy_rows
from hub.models import Item, Message
from hub.timefmt import parse_offset_datetime

BATCH = 5000


def stored_payload(message: Message) -> tuple[dict, bytes]:
    body = message.stored_body()
    if message.content_type.lower().startswith("multipart/"):
        parts = multipart_parts(body, message.content_type)
        start, end = parts["message"]
        return {**json.loads(body[start:end]), "file": parts["file"]}, body
    return json.loads(body), body


def item_data(device: Device) -> dict:
    data = {"h": device.head_end_system}
    if device.start:
        data["s"] = device.start
    if device.end:
        data["e"] = device.end
    return data


def reservation_prepare(*, reservation: Reservation) -> None:
    """Create the reservation's items and upsert its event's devices (idempotent)."""
    message = Message.objects.get(id=reservation.message_id)
    payload, body = stored_payload(message)
    devices = devices_of(payload, body)
    with transaction.atomic():
        locked = Reservation.objects.select_for_update().filter(id=reservation.id, prepared=False)
        if not locked.exists():
            return
        message.items.all().delete()
        seq = 0
        times: dict[str, datetime] = {}
        while batch := list(islice(devices, BATCH)):
            if connection.vendor == "postgresql":
                _copy(message, reservation, batch, seq, times)
            else:
                _insert(message, reservation, batch, seq, times)
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


def _device_rows(reservation: Reservation, message: Message, batch, seq: int, times) -> list[EventDevice]:
    now = timezone.now()
    return [
        EventDevice(
            event_id=reservation.event_id,
            nic_id=d.nic_id,
            head_end_system=d.head_end_system,
            record_id=d.record_id,
            start=_dt(d.start, times),
            end=_dt(d.end, times),
            state=EventDevice.State.PENDING,
            error="",
            message=message,
            seq=seq + i,
            updated_at=now,
        )
        for i, d in enumerate(batch)
    ]


def _insert(message: Message, reservation: Reservation, batch: list[Device], seq: int, times) -> None:
    Item.objects.bulk_create(
        [
            Item(message=message, seq=seq + i, key=str(d.record_id), nic_id=d.nic_id, data=item_data(d))
            for i, d in enumerate(batch)
        ]
    )
    EventDevice.objects.bulk_create(
        _device_rows(reservation, message, batch, seq, times),
        update_conflicts=True,
        unique_fields=["event", "nic_id", "head_end_system"],
        update_fields=["record_id", "start", "end", "state", "error", "message", "seq", "updated_at"],
    )


def _rows(batch: list[Device], message: Message, seq: int, now: datetime) -> Iterator[tuple]:
    for i, d in enumerate(batch):
        yield (
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


ITEM_FIELDS = (
    "message",
    "seq",
    "key",
    "nic_id",
    "external_id",
    "data",
    "status",
    "attempts",
    "last_error",
    "updated_at",
)
DEVICE_FIELDS = (
    "event",
    "nic_id",
    "head_end_system",
    "record_id",
    "start",
    "end",
    "state",
    "error",
    "message",
    "seq",
    "updated_at",
)
DEVICE_KEY = ("event", "nic_id", "head_end_system")


def _copy(message: Message, reservation: Reservation, batch: list[Device], seq: int, times) -> None:
    """PostgreSQL: COPY the items, and upsert the devices (the event's devices of an earlier message stay)."""
    now = timezone.now()
    copy_rows(Item, ITEM_FIELDS, _rows(batch, message, seq, now))
    pending = EventDevice.State.PENDING.value
    copy_rows(
        EventDevice,
        DEVICE_FIELDS,
        (
            (
                reservation.event_id,
                d.nic_id,
                d.head_end_system,
                d.record_id,
                _dt(d.start, times),
                _dt(d.end, times),
                pending,
                "",
                message.id,
                seq + i,
                now,
            )
            for i, d in enumerate(batch)
        ),
        conflict=DEVICE_KEY,
        update=[name for name in DEVICE_FIELDS if name not in DEVICE_KEY],
    )
