"""DERMS sends a list of pings; each is passed to DACS in its own call."""

from typing import Any

from hub import partners
from hub.flow import Accepted, Flow, Outcome
from hub.models import Item, Message, System
from hub.payload import Rejection

PING = partners.Operation(System.DACS, "ping", "DACS_PING_PATH")


class Pings(Flow):
    name = "minimal_pings"
    sender = System.DERMS
    path = "derms/pings"
    partner = System.DACS
    request_examples = {"two pings": {"messageId": "PING-1", "pings": ["a", "b"]}}

    def validate(self, message: Message, payload: Any) -> Accepted:
        pings = payload.get("pings") if isinstance(payload, dict) else None
        if not isinstance(pings, list) or not pings or not all(isinstance(p, str) and p for p in pings):
            raise Rejection(400, "validation_failed", {"pings": ["A non-empty list of non-empty strings is required."]})
        if not self.key_of(payload):
            raise Rejection(400, "validation_failed", {"messageId": ["This field is required."]})
        return Accepted(
            key=self.key_of(payload), items=[Item(seq=n, key=ping, data={"ping": ping}) for n, ping in enumerate(pings)]
        )

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        return {
            item.id: Outcome.of(partners.call(PING, json_body=item.data, message=message, item=item)) for item in items
        }
