"""Turning an accepted device list into items and per-device rows, in the worker after the 202.

Flow 5's reservations and flow 7's outcomes are prepared alike by `device_list_prepare`. The message was
checked in full before it was accepted; here it is read again from the stored body and written in bulk:
COPY on PostgreSQL, batched inserts elsewhere. It runs in one transaction, so a worker that dies half-way
leaves nothing behind and the next one starts over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Protocol, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from flows.device_reservations.devices import Device, devices_of, multipart_parts
from flows.device_reservations.models import EventDevice, Reservation
from hub.bulk import copy_rows
from hub.models import Item, Message
from hub.timefmt import parse_offset_datetime

BATCH = 5000


class DeviceRow(Protocol):
    @property
    def record_id(self) -> int: ...
    @property
    def nic_id(self) -> str: ...
    @property
    def head_end_system(self) -> str: ...


Row = TypeVar("Row", bound=DeviceRow)


class Times(dict[str, datetime]):
    """Datetimes parsed once per text: a device list repeats the same few windows."""

    def of(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        out = self.get(value)
        if out is None:
            out = self[value] = parse_offset_datetime(value.replace("Z", "+00:00"))
        return out


@dataclass(frozen=True)
class DeviceTable:
    """A flow's row per device of an event: `event` (the field naming the event), nicId, head-end system,
    recordId, the flow's `own` fields, then where sending it stands and the message that named it last.
    Fields by attname; the first three are the row's unique key."""

    model: type[models.Model]
    event: str
    own: tuple[str, ...]
    pending: str  # the state of a row not yet sent

    @property
    def key(self) -> tuple[str, ...]:
        return (self.event, "nic_id", "head_end_system")

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.key, "record_id", *self.own, "state", "error", "message_id", "seq", "updated_at")

    def upsert(self, values: Iterable[Sequence[object]]) -> None:
        """Insert the rows; a row of the same key (an earlier message's) takes the new values."""
        fields, key = self.fields, self.key
        update = [name for name in fields if name not in key]
        if connection.vendor == "postgresql":
            copy_rows(self.model, fields, values, conflict=key, update=update)
            return
        field = self.model._meta.get_field
        self.model._default_manager.bulk_create(
            [self.model(**dict(zip(fields, row, strict=True))) for row in values],
            update_conflicts=True,
            unique_fields=[field(name).name for name in key],
            update_fields=[field(name).name for name in update],
        )


def stored_payload(message: Message) -> tuple[dict, bytes]:
    body = message.stored_body()
    if message.content_type.lower().startswith("multipart/"):
        parts = multipart_parts(body, message.content_type)
        start, end = parts["message"]
        return {**json.loads(body[start:end]), "file": parts["file"]}, body
    return json.loads(body), body


def device_list_prepare(
    *,
    message_id: int,
    unprepared: models.QuerySet,
    rows_of: Callable[[dict, bytes], Iterator[Row]],
    item_data: Callable[[Row], dict],
    devices: DeviceTable,
    event: object,
    own: Callable[[Row, Times], tuple],
) -> None:
    """Create the message's items and upsert its devices' rows in `event` (with the values of the flow's
    `own` fields), PENDING; once: `unprepared` (the flow's record of the message while not yet prepared)
    is locked, and marked prepared."""
    message = Message.objects.get(id=message_id)
    payload, body = stored_payload(message)
    rows = rows_of(payload, body)
    with transaction.atomic():
        locked = unprepared.select_for_update()
        if not locked.exists():
            return
        message.items.all().delete()
        seq = 0
        times = Times()
        while batch := list(islice(rows, BATCH)):
            now = timezone.now()
            _items_write(message, batch, seq, item_data, now)
            pending = devices.pending
            devices.upsert(
                (event, d.nic_id, d.head_end_system, d.record_id, *own(d, times), pending, "", message_id, seq + i, now)
                for i, d in enumerate(batch)
            )
            seq += len(batch)
        locked.update(prepared=True)
    del body, payload


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


def _items_write(message: Message, batch: list[Row], seq: int, item_data: Callable[[Row], dict], now) -> None:
    if connection.vendor != "postgresql":
        Item.objects.bulk_create(
            [
                Item(message=message, seq=seq + i, key=str(d.record_id), nic_id=d.nic_id, data=item_data(d))
                for i, d in enumerate(batch)
            ]
        )
        return
    pending = Item.Status.PENDING.value
    copy_rows(
        Item,
        ITEM_FIELDS,
        (
            (message.id, seq + i, str(d.record_id), d.nic_id, "", json.dumps(item_data(d)), pending, 0, "", now)
            for i, d in enumerate(batch)
        ),
    )


# --- flow 5 ------------------------------------------------------------------------
EVENT_DEVICES = DeviceTable(
    EventDevice, event="event_id", own=("start", "end"), pending=EventDevice.State.PENDING.value
)


def item_data(device: Device) -> dict:
    data = {"h": device.head_end_system}
    if device.start:
        data["s"] = device.start
    if device.end:
        data["e"] = device.end
    return data


def reservation_prepare(*, reservation: Reservation) -> None:
    """Create the reservation's items and upsert its event's devices (idempotent; the event's devices of an
    earlier message stay)."""
    device_list_prepare(
        message_id=reservation.message_id,
        unprepared=Reservation.objects.filter(id=reservation.id, prepared=False),
        rows_of=devices_of,
        item_data=item_data,
        devices=EVENT_DEVICES,
        event=reservation.event_id,
        own=lambda d, times: (times.of(d.start), times.of(d.end)),
    )
