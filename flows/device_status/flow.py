"""Flow 2, first half: DACS asks for a device's status; the hub forwards it to DERMS.

DERMS answers later on its own endpoint (flows/device_status/responses). This
message owes DACS a reply only when no answer will come: the forward failed
for good, or the sweeper timed the check out.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from flows.device_status import services
from flows.device_status.models import StatusCheck
from flows.device_status.notify import notify_timeouts
from flows.device_status.samples import status_check
from flows.device_status.serializers import StatusCheckRequest
from hub import partners
from hub.flow import Accepted, Flow, Outcome
from hub.messages import message_reopen
from hub.models import Item, Message, System
from hub.payload import validated
from hub.timefmt import duration_text

STATUS_CHECK = partners.Operation(System.DERMS, "status_check", "DERMS_STATUS_CHECK_PATH")
STATUS_RESPONSE = partners.Operation(System.DACS, "status_response", "DACS_STATUS_RESPONSE_PATH")

NAME = "device_status_checks"
RESPONSES = "device_status_responses"
SWEEP_BATCH = 500


def answered_exists() -> Exists:
    """An accepted DERMS response for the check in the outer query."""
    return Exists(Message.objects.filter(flow=RESPONSES, accepted_key=OuterRef("communication_id")))


def failure_send(*, message: Message, body: dict, check_id: int) -> partners.Result:
    """Tell DACS a check's FAILURE (built by dacs_status_body), and record that it was told."""
    result = partners.call(
        STATUS_RESPONSE,
        json_body=body,
        message=message,
    )
    if result.ok:
        services.status_check_dacs_updated(
            check_id=check_id, result="FAILURE", text=body["responseDetail"]["result"]["message"]
        )
    return result


class DeviceStatusChecks(Flow):
    name = NAME
    sender = System.DACS
    path = "dacs/device-status-checks"
    key_field = "sendDetails.communicationId"
    reply_partner = System.DACS
    request_serializer = StatusCheckRequest
    request_examples = {"status check": status_check("CD-000987")}

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(StatusCheckRequest, payload)
        key = data["sendDetails"]["communicationId"]
        forward = {"dacsMessageId": key, "deviceInfo": payload["deviceInfo"]}
        item = Item(seq=0, key=key, nic_id=data["deviceInfo"]["nicId"], data=forward)
        create = partial(services.status_check_create, message=message, payload={**payload, "reason": data["reason"]})
        return Accepted(key=key, items=[item], on_accept=[create])

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        for item in items:
            result = partners.call(
                STATUS_CHECK,
                json_body=item.data,
                message=message,
                item=item,
            )
            if result.ok:
                services.status_check_forwarded(check_id=message.status_check.id)
            outcomes[item.id] = Outcome.of(result)
        return outcomes

    # --- the reply DACS gets when DERMS will not answer ------------------------
    def reply_due(self, message: Message) -> bool:
        check = StatusCheck.objects.get(check_message=message)
        if check.response_message_id:
            return False
        if check.state in (StatusCheck.State.TIMED_OUT, StatusCheck.State.FAILED):
            return True
        return message.items.filter(status__in=(Item.Status.ERROR, Item.Status.FAILURE)).exists()

    def reply(self, message: Message) -> dict:
        check = StatusCheck.objects.get(check_message=message)
        if check.state in StatusCheck.OPEN and services.status_check_fail(check_id=check.id):
            check.refresh_from_db()
        if check.state == StatusCheck.State.TIMED_OUT:
            text = f"No response from DERMS within {duration_text(settings.STATUS_CHECK_TIMEOUT_S)}"
            when = check.timed_out_at
        else:
            error = message.items.values_list("last_error", flat=True).first() or "no answer"
            text = f"DERMS could not take the status check: {error}"[:500]
            when = check.failed_at
        return services.dacs_status_body(
            communication_id=check.communication_id, when=when or timezone.now(), status="FAILURE", text=text
        )

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        return failure_send(message=message, body=body, check_id=message.status_check.id)

    # --- a check that ends abnormally ---------------------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """A check still waiting for DERMS fails: no answer will be passed on for it."""
        services.status_check_fail(check_id=message.status_check.id)

    def failure_reply(self, message: Message, *, reason: str) -> dict | None:
        """FAILURE with the reason, unless DACS has been told (or will be, by DERMS's response)."""
        check = StatusCheck.objects.get(check_message=message)
        if check.response_message_id or check.dacs_updated_at:
            return None
        when = check.failed_at or check.timed_out_at or timezone.now()
        return services.dacs_status_body(
            communication_id=check.communication_id, when=when, status="FAILURE", text=reason
        )

    # --- the sweeper ------------------------------------------------------------
    def sweep(self) -> None:
        cutoff = timezone.now() - timedelta(seconds=settings.STATUS_CHECK_TIMEOUT_S)
        overdue = StatusCheck.objects.filter(
            state__in=StatusCheck.OPEN, asked_at__lt=cutoff, check_message__accepted_key__isnull=False
        ).exclude(answered_exists())
        timed_out = [
            check_id
            for check_id in overdue.values_list("id", flat=True)[:SWEEP_BATCH]
            if services.status_check_time_out(check_id=check_id, answered=answered_exists())
        ]
        if timed_out:
            notify_timeouts(check_ids=timed_out)
        # Reopening is repeated every pass: a check that timed out while its message was still being
        # worked on is picked up once that message has finished.
        owed = StatusCheck.objects.filter(
            state__in=(StatusCheck.State.TIMED_OUT, StatusCheck.State.FAILED),
            dacs_updated_at__isnull=True,
            response_message__isnull=True,
            check_message__reply_status=Message.Reply.NONE,
            check_message__status__in=(
                Message.Status.COMPLETED,
                Message.Status.COMPLETED_WITH_ERRORS,
                Message.Status.FAILED,
            ),
        )
        for message_id in owed.values_list("check_message_id", flat=True)[:SWEEP_BATCH]:
            message_reopen(message_id=message_id, text="No DERMS response: FAILURE owed to DACS")
