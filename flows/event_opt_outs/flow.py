"""Flow 10: a customer opts out of an upcoming event in DACS; the hub passes it on to DERMS.

An opt-out of an event the hub knows has started is refused (409 event_started)
and nothing is sent. DERMS answers with an acknowledgement; nothing goes back to DACS.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from flows.device_reservations.flow import event_lock
from flows.device_reservations.models import ProgramEvent
from flows.event_opt_outs import services
from flows.event_opt_outs.models import EventOptOut
from flows.event_opt_outs.samples import opt_out
from flows.event_opt_outs.serializers import OptOutMessage
from hub import partners
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus
from hub.models import Item, Message, System
from hub.notify import email_send
from hub.payload import Rejection, validated
from hub.timefmt import iso_z

EVENT_OPT_OUT = partners.Operation(System.DERMS, "event_opt_out", "DERMS_EVENT_OPT_OUT_PATH")


def renamed(payload: dict, key: str) -> dict:
    """DACS's body as written, its key renamed `dacsMessageId` (first, as in the contract's bodies)."""
    return {"dacsMessageId": payload[key], **{k: v for k, v in payload.items() if k != key}}


def derms_ack_outcome(result: partners.Result) -> Outcome:
    """DERMS's `{"ackType", "message"}` answer: SUCCESS, ERROR (a business error, not retried) or technical."""
    if result.technical:
        return Outcome(OutcomeStatus.TECHNICAL, error=result.error, response=result.body)
    if not result.ok:
        return Outcome(OutcomeStatus.ERROR, error=result.error or "Refused by DERMS", response=result.body)
    body = result.body if isinstance(result.body, dict) else {}
    ack = str(body.get("ackType") or "").upper()
    if ack == "SUCCESS":
        return Outcome(OutcomeStatus.SUCCESS, response=result.body)
    if ack == "ERROR":
        return Outcome(OutcomeStatus.ERROR, error=str(body.get("message") or "Refused by DERMS"), response=result.body)
    error = f"DERMS answered {result.status} without an ackType of SUCCESS or ERROR"
    return Outcome(OutcomeStatus.ERROR, error=error, response=result.body)


class EventOptOuts(Flow):
    name = "event_opt_outs"
    sender = System.DACS
    path = "dacs/event-opt-outs"
    key_field = "optOutId"
    partner = System.DERMS
    request_serializer = OptOutMessage
    request_examples = {"opt-out": opt_out()}

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(OptOutMessage, payload)
        start = ProgramEvent.objects.filter(event_id=data["eventId"]).values_list("start", flat=True).first()
        if start is not None and start <= timezone.now():
            raise Rejection(
                409,
                "event_started",
                {"eventId": [f"Event {data['eventId']} started at {iso_z(start)}: it can no longer be opted out of."]},
            )
        item = Item(seq=0, key=data["optOutId"], nic_id=data["nicId"], data=renamed(payload, "optOutId"))
        create = partial(services.opt_out_create, message=message, data=data)
        return Accepted(key=data["optOutId"], items=[item], on_accept=[create])

    def lock_name(self, message: Message) -> str:
        """The event's lock: the device's state in it is not written while a reservation of it is sending."""
        event_id = EventOptOut.objects.filter(message=message).values_list("event_id", flat=True).first()
        return event_lock(event_id or str(message.id))

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        for item in items:
            outcome = derms_ack_outcome(partners.call(EVENT_OPT_OUT, json_body=item.data, message=message, item=item))
            if outcome.status == Item.Status.SUCCESS:
                services.opt_out_decide(message_id=message.id, state=EventOptOut.State.OPTED_OUT)
            elif outcome.status == Item.Status.ERROR:
                services.opt_out_decide(message_id=message.id, state=EventOptOut.State.REFUSED, text=outcome.error)
            outcomes[item.id] = outcome
        return outcomes

    def finished(self, message: Message, status: str) -> None:
        item = message.items.first()
        if item is None:
            return
        if item.status == Item.Status.FAILURE:
            services.opt_out_decide(message_id=message.id, state=EventOptOut.State.FAILED, text=item.last_error)
        elif item.status == Item.Status.ERROR:
            opt = EventOptOut.objects.get(message=message)
            email_send(
                kind="opt_out_refused",
                subject=f"Opt-out {opt.opt_out_id} from event {opt.event_id} refused by DERMS",
                recipients=settings.NOTIFY_BUSINESS_EMAILS,
                context={"message": message, "opt_out": opt, "error": item.last_error},
                message=message,
            )
        super().finished(message, status)

    def settle(self, message: Message, *, reason: str) -> None:
        services.opt_out_decide(message_id=message.id, state=EventOptOut.State.FAILED, text=reason)
