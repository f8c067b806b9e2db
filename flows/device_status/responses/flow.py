"""Flow 2, second half: DERMS posts the result of a status check; the hub passes it on to DACS.

The response is paired with its check by `dacsMessageId` (the check's
`communicationId`) and linked to it (Message.related) for support staff.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from flows.device_status import services
from flows.device_status.flow import NAME as CHECKS
from flows.device_status.flow import RESPONSES, STATUS_RESPONSE, failure_send
from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_response
from flows.device_status.serializers import StatusCheckResponse
from hub import partners
from hub.activity import activity_record
from hub.flow import Accepted, Flow, Outcome, correlated
from hub.models import Item, Message, System
from hub.payload import validated
from hub.timefmt import parse_offset_datetime


class DeviceStatusResponses(Flow):
    name = RESPONSES
    sender = System.DERMS
    path = "derms/device-status-responses"
    key_field = "dacsMessageId"
    # DACS waits for the status update this message carries; it is sent as the item itself, so a
    # separate reply is owed only when the message ends abnormally (failure_reply).
    reply_partner = System.DACS
    request_serializer = StatusCheckResponse
    request_examples = {"status response": status_response("CD-000987")}

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(StatusCheckResponse, payload)
        key = data["dacsMessageId"]
        correlated(message, flow=CHECKS, key=key, field="dacsMessageId", label="device status check")
        item = Item(seq=0, key=key, nic_id=data.get("nicId") or "", data=payload)
        return Accepted(key=key, items=[item])

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        check = StatusCheck.objects.get(check_message_id=message.related_id)
        for item in items:
            body = item.data
            when = body.get("responseTimeISO")
            responded_at = parse_offset_datetime(when) if when else None
            late = services.status_check_answer(
                check_id=check.id,
                response=message,
                code=body["responseCode"],
                text=body.get("message"),
                responded_at=responded_at,
            )
            if late and item.attempts == 0:
                activity_record(message=message, kind="late", text="Response came after the check had timed out")
            dacs_body = services.dacs_status_body(
                communication_id=check.communication_id,
                when=responded_at or message.received_at,
                status=body["responseCode"],
                text=body.get("message"),
            )
            result = partners.call(
                STATUS_RESPONSE,
                json_body=dacs_body,
                message=message,
                item=item,
            )
            if result.ok:
                services.status_check_dacs_updated(
                    check_id=check.id, result=body["responseCode"], text=body.get("message")
                )
            outcomes[item.id] = Outcome.of(result)
        return outcomes

    def reply_due(self, message: Message) -> bool:
        return False

    # --- a response that ends abnormally ----------------------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """A check still open takes this response as its answer, a FAILURE, so nothing waits on it."""
        check = StatusCheck.objects.get(check_message_id=message.related_id)
        if check.state in StatusCheck.OPEN:
            services.status_check_answer(
                check_id=check.id, response=message, code="FAILURE", text=reason, responded_at=None
            )

    def failure_reply(self, message: Message, *, reason: str) -> dict | None:
        """FAILURE with the reason, unless DACS has been told already."""
        check = StatusCheck.objects.get(check_message_id=message.related_id)
        if check.dacs_updated_at:
            return None
        return services.dacs_status_body(
            communication_id=check.communication_id, when=timezone.now(), status="FAILURE", text=reason
        )

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        check_id = StatusCheck.objects.filter(check_message_id=message.related_id).values_list("id", flat=True).get()
        return failure_send(message=message, body=body, check_id=check_id)
