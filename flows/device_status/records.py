"""Devices as flow 2 leaves them: the latest status check of each, and a line on its timeline."""

from __future__ import annotations

from flows.device_status.models import StatusCheck
from hub.models import Message
from records.projection import Entry, device_check_apply, timeline_add


def check_result(check: StatusCheck) -> str:
    """What the check came to: DERMS's responseCode, or why there is none."""
    if check.response_code:
        return check.response_code
    if check.state == StatusCheck.State.TIMED_OUT:
        return "TIMED_OUT"
    if check.state == StatusCheck.State.FAILED:
        return "FAILURE"
    return ""


def check_text(check: StatusCheck) -> str:
    text = f"Status check {check.communication_id} ({check.reason or 'TROUBLESHOOTING'}): {check.get_state_display()}"
    if check.response_code:
        text += f", {check.response_code}"
        if check.response_text:
            text += f" ({check.response_text})"
    if check.late:
        text += ", after it had timed out"
    if check.dacs_result:
        text += f"; DACS told {check.dacs_result}"
    return text


def check_project(check: StatusCheck, message: Message, *, kind: str, text: str) -> None:
    forward = check.check_message.items.only("data").first()
    device = ((forward.data if forward is not None else {}) or {}).get("deviceInfo") or {}
    device_id = device_check_apply(
        nic_id=check.nic_id,
        head_end=check.head_end_system,
        device_fields={
            "device_type": device.get("deviceType") or "",
            "specification": device.get("specification") or "",
        },
        at=check.asked_at,
        check={
            "check_communication_id": check.communication_id,
            "check_state": check.state,
            "check_result": check_result(check),
            "check_text": check.response_text or check.dacs_message,
            "check_message": check.check_message,
        },
    )
    timeline_add([Entry(message, kind, text, message.received_at, device_id=device_id)])


def project(message: Message) -> None:
    check = StatusCheck.objects.select_related("check_message").filter(check_message=message).first()
    if check is not None and check.head_end_system:
        check_project(check, message, kind="status_check", text=check_text(check))
