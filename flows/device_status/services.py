"""The state of a status check, changed only by compare-and-swap updates.

The check's message is accepted (and its StatusCheck row written) before the
202 goes back to DACS, so before DERMS can know the id: a response that
overtakes the forward still finds its check. Each transition names the
states it may start from, so the slower party never overwrites the faster.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from flows.device_status.models import StatusCheck
from hub.models import Message
from hub.timefmt import iso_z

State = StatusCheck.State


def status_check_create(*, message: Message, payload: dict) -> StatusCheck:
    device = payload["deviceInfo"]
    return StatusCheck.objects.create(
        check_message=message,
        communication_id=payload["sendDetails"]["communicationId"],
        nic_id=device["nicId"],
        head_end_system=device.get("headEndSystem") or "",
        reason=payload.get("reason") or "TROUBLESHOOTING",
        asked_at=message.received_at,
    )


def status_check_forwarded(*, check_id: int) -> None:
    """DERMS took the check. The state moves on only if no answer overtook the forward."""
    StatusCheck.objects.filter(id=check_id).update(
        state=Case(When(state__in=(State.RECEIVED, State.FAILED), then=Value(State.FORWARDED)), default=F("state")),
        forwarded_at=Coalesce(F("forwarded_at"), Value(timezone.now())),
    )


def status_check_answer(
    *, check_id: int, response: Message, code: str, text: str, responded_at: datetime | None
) -> bool:
    """Record DERMS's response; True when it came after the check had timed out or failed (late)."""
    fields = {
        "response_message": response,
        "response_code": code,
        "response_text": text or "",
        "responded_at": responded_at,
        "answered_at": response.received_at,
    }
    if StatusCheck.objects.filter(id=check_id, state__in=StatusCheck.OPEN).update(state=State.ANSWERED, **fields):
        return False
    StatusCheck.objects.filter(
        id=check_id, state__in=(State.TIMED_OUT, State.FAILED), response_message__isnull=True
    ).update(late=True, **fields)
    return StatusCheck.objects.filter(id=check_id, late=True).exists()


def status_check_fail(*, check_id: int) -> bool:
    return bool(
        StatusCheck.objects.filter(id=check_id, state__in=StatusCheck.OPEN).update(
            state=State.FAILED, failed_at=timezone.now()
        )
    )


def status_check_time_out(*, check_id: int, answered) -> bool:
    """Time the check out unless DERMS answered it meanwhile (`answered`: an Exists over responses)."""
    return bool(
        StatusCheck.objects.filter(id=check_id, state__in=StatusCheck.OPEN)
        .exclude(answered)
        .update(state=State.TIMED_OUT, timed_out_at=timezone.now())
    )


def status_check_dacs_updated(*, check_id: int, result: str, text: str) -> None:
    StatusCheck.objects.filter(id=check_id).update(
        dacs_result=result, dacs_message=text or "", dacs_updated_at=timezone.now()
    )


def dacs_status_body(*, communication_id: str, when: datetime, status: str, text: str | None) -> dict:
    """The body of DACS's `controllableDeviceStatus/response`."""
    return {
        "responseDetail": {
            "transactionId": communication_id,
            "responseDateTime": iso_z(when),
            "result": {"status": status, "message": text},
        }
    }
