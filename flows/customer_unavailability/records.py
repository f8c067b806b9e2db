"""Devices as flow 11 leaves them: a line on the device for each period added, changed or withdrawn.

The periods themselves are flow 11's UnavailabilityPeriod rows, shown on the device's page.
"""

from __future__ import annotations

from typing import Any

from hub.models import Item, Message
from hub.timefmt import parse_offset_datetime
from records.models import BusinessKey
from records.projection import Entry, devices_upsert, keys_add, timeline_add

OUTCOMES: dict[str, str] = {
    Item.Status.SUCCESS: "accepted by DERMS",
    Item.Status.ERROR: "refused by DERMS",
    Item.Status.FAILURE: "DERMS unreachable",
    Item.Status.CANCELLED: "not sent",
}


def moment(value: Any) -> str:
    """A period's bound as people read it (as sent when it is not a date and time)."""
    try:
        return f"{parse_offset_datetime(str(value)):%Y-%m-%d %H:%M}"
    except (TypeError, ValueError):
        return str(value)


def period_text(item: Item) -> str:
    data = item.data or {}
    action = str(data.get("action") or "")
    text = f"Unavailability {item.key} {action}"
    if action != "CANCEL" and data.get("startDateTime") and data.get("endDateTime"):
        text += f" {moment(data['startDateTime'])} – {moment(data['endDateTime'])}"
    if data.get("reason"):
        text += f" ({data['reason']})"
    text += f": {OUTCOMES.get(item.status, item.status.lower())}"
    if item.last_error and item.status != Item.Status.SUCCESS:
        text += f": {item.last_error}"
    return text


def project(message: Message) -> None:
    item = message.items.only("key", "data", "status", "last_error").first()
    if item is None:
        return
    data = item.data or {}
    nic_id, head_end = str(data.get("nicId") or ""), str(data.get("headEndSystem") or "")
    if not nic_id or not head_end:
        return
    pair = (nic_id, head_end)
    device_id = devices_upsert({pair: {}})[pair]
    keys_add(
        [
            (BusinessKey.Target.DEVICE, device_id, "unavailabilityId", item.key),
            (BusinessKey.Target.MESSAGE, message.id, "unavailabilityId", item.key),
        ]
    )
    timeline_add([Entry(message, "unavailability", period_text(item), message.received_at, device_id=device_id)])
