"""Devices as flow 9 leaves them: each device's head-end registration, and a line on its timeline.

A report names up to 10,000 devices: read from the message's items and
written CHUNK devices at a time, by a few statements each (the devices
upserted with their registration, their ids read back, their keys and
timeline lines), never a statement per device. A device's registration is
the latest report's: an older message projected again (a backfill) does
not overwrite a later one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from flows.enrollment_sync.flow import NAME as SYNCS
from hub.models import Item, Message
from records.models import BusinessKey, Device
from records.projection import CHUNK, Entry, chunks, keys_add, rows_insert, timeline_add

OUTCOMES: dict[str, str] = {
    Item.Status.SUCCESS: "passed to DACS",
    Item.Status.ERROR: "not passed to DACS",
    Item.Status.FAILURE: "DACS unreachable",
    Item.Status.CANCELLED: "not sent",
}
DEVICE_COLUMNS = [
    "nic_id",
    "head_end_system",
    "device_type",
    "specification",
    "check_communication_id",
    "check_state",
    "check_result",
    "check_text",
    "registration_state",
    "registered_at",
    "registration_message_id",
    "created_at",
    "updated_at",
]
Reported = tuple[str, Any, str, str]  # nicId, the device as reported, item status, item error


def registrations_upsert(pairs: dict[tuple[str, str], str], message: Message) -> None:
    """Each device, made if new, gets this report's registration unless a later report's is recorded."""
    table = connection.ops.quote_name(Device._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(message.received_at)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = (
        (nic, head_end, "", "", "", "", "", "", registration[:20], at, message.id, now, now)
        for (nic, head_end), registration in pairs.items()
    )
    rows_insert(
        Device,
        DEVICE_COLUMNS,
        rows,
        "ON CONFLICT (nic_id, head_end_system) DO UPDATE SET registration_state = excluded.registration_state, "
        "registered_at = excluded.registered_at, registration_message_id = excluded.registration_message_id, "
        f"updated_at = excluded.updated_at WHERE {table}.registered_at IS NULL "
        f"OR {table}.registered_at <= excluded.registered_at",
    )


def device_ids(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    wanted = set(pairs)
    rows = Device.objects.filter(nic_id__in={nic for nic, _ in wanted}).values_list("nic_id", "head_end_system", "id")
    return {(nic, head_end): device_id for nic, head_end, device_id in rows if (nic, head_end) in wanted}


def registration_text(message: Message, device: dict, status: str, error: str) -> str:
    text = f"Head-end registration {message.message_key}: {device.get('registration')}"
    if device.get("deviceId"):
        text += f", deviceId {device['deviceId']}"
    if device.get("message"):
        text += f" ({device['message']})"
    text += f"; {OUTCOMES.get(status, status.lower())}"
    if error and status != Item.Status.SUCCESS:
        text += f": {error}"
    return text


def chunk_project(message: Message, chunk: list[Reported], at: datetime) -> None:
    devices: dict[tuple[str, str], tuple[dict, str, str]] = {}
    for nic_id, data, status, error in chunk:
        device = data if isinstance(data, dict) else {}
        head_end = str(device.get("headEndSystem") or "")
        if nic_id and head_end:
            devices[(nic_id, head_end)] = (device, status, error)
    registrations_upsert(
        {pair: str(device.get("registration") or "") for pair, (device, _, _) in devices.items()}, message
    )
    ids = device_ids(devices)
    keys_add(
        (BusinessKey.Target.DEVICE, ids[pair], kind, str(value or ""))
        for pair, (device, _, _) in devices.items()
        if pair in ids
        for kind, value in (("nicId", pair[0]), ("deviceId", device.get("deviceId")))
    )
    timeline_add(
        Entry(
            message, "headend_registration", registration_text(message, device, status, error), at, device_id=ids[pair]
        )
        for pair, (device, status, error) in devices.items()
        if pair in ids
    )


def project(message: Message) -> None:
    items = message.items.order_by("seq").values_list("nic_id", "data", "status", "last_error")
    for chunk in chunks(items.iterator(chunk_size=CHUNK)):
        chunk_project(message, chunk, message.received_at)
    # The sync the report answers (dacsMessageId) finds the report.
    if message.related_id is not None:
        syncs = Message.objects.filter(id=message.related_id, flow=SYNCS)
        sync_id = syncs.values_list("accepted_key", flat=True).first()
        keys_add([(BusinessKey.Target.MESSAGE, message.id, "syncRequestId", sync_id or "")])
