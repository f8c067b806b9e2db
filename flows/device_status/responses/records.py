"""Devices as DERMS's answer to a status check leaves them."""

from __future__ import annotations

from flows.device_status.models import StatusCheck
from flows.device_status.records import check_project
from hub.models import Message


def project(message: Message) -> None:
    check = StatusCheck.objects.select_related("check_message").filter(check_message_id=message.related_id).first()
    if check is None or not check.head_end_system:
        return
    item = message.items.only("data", "last_error").first()
    data = item.data if item is not None and isinstance(item.data, dict) else {}
    text = f"DERMS answered {check.communication_id}: {data.get('responseCode', '?')}"
    if data.get("message"):
        text += f" ({data['message']})"
    if check.dacs_result:
        text += f"; DACS told {check.dacs_result}"
    elif item is not None and item.last_error:
        text += f"; not passed on to DACS: {item.last_error}"
    check_project(check, message, kind="status_response", text=text)
