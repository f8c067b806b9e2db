"""What a flow is: the parts particular to one exchange, and the types the shared machinery
(hub/inbound.py, hub/runner.py, hub/partners.py) hands to it and takes back from it.

The shared machinery does everything else; a flow subclass fills in only what differs.
Flows register themselves (hub/registry.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from hub.models import Item, Message
from hub.notify import notify_technical_failure
from hub.payload import Rejection, parse_json

if TYPE_CHECKING:
    from hub import partners


def correlated(message: Message, *, flow: str, key: str, field: str, label: str) -> Message:
    """The accepted message of `flow` that `key` answers, linked as `message.related`.

    An answer to nothing the hub knows is a 404 `unknown_correlation` (the
    message itself is still stored, as every inbound message is).
    """
    request = Message.objects.filter(flow=flow, accepted_key=key).only("id").first()
    if request is None:
        raise Rejection(404, "unknown_correlation", {field: [f"No {label} '{key}'."]})
    Message.objects.filter(id=message.id).update(related=request)
    message.related = request
    return request


class OutcomeStatus(StrEnum):
    """What one call made of an item: a final status, stored as the Item.Status of the same value, or TECHNICAL
    (the item is retried later, or FAILURE once its retries are exhausted)."""

    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"
    TECHNICAL = "TECHNICAL"

    @property
    def item_status(self) -> Item.Status:
        """The item's final status; TECHNICAL has none (the retry rules decide)."""
        if self is OutcomeStatus.TECHNICAL:
            raise ValueError("a technical error is retried, not stored as an item's status")
        return Item.Status(self.value)


@dataclass
class Outcome:
    """What became of one item after a call to a partner."""

    status: OutcomeStatus
    error: str = ""
    message_number: int | None = None
    external_id: str = ""
    response: Any = None

    def __post_init__(self) -> None:
        self.status = OutcomeStatus(self.status)  # a stray string fails here, not when the outcome is written

    @classmethod
    def of(cls, result: partners.Result) -> Outcome:
        """The plain reading of a partner's answer: success, a technical error (retried) or a business error."""
        if result.ok:
            return cls(OutcomeStatus.SUCCESS, response=result.body)
        if result.technical:
            return cls(OutcomeStatus.TECHNICAL, error=result.error, response=result.body)
        return cls(OutcomeStatus.ERROR, error=result.error, response=result.body)


@dataclass
class Accepted:
    """A valid message, ready to be stored as items.

    `validate` writes nothing: the flow's own rows (a status check, an event
    marked CANCELLING…) are written by `on_accept`, which the inbound
    pipeline runs in the transaction that accepts the message, so a copy
    that loses a duplicate race leaves none behind. One may raise Rejection
    for a rule that holds only under a lock taken there.
    """

    key: str
    items: list[Item] = field(default_factory=list)
    ack_extra: dict[str, Any] = field(default_factory=dict)
    on_accept: list[Callable[[], object]] = field(default_factory=list)


class Flow:
    name: ClassVar[str]
    sender: ClassVar[str]  # System.DERMS or System.DACS
    path: ClassVar[str]  # under /api/v1/
    content_types: ClassVar[tuple[str, ...]] = ("application/json",)
    # The partner the items are sent to (its slots are held per sending thread), or None.
    partner: ClassVar[str | None] = None
    # The partner that waits for the overall reply, or None.
    reply_partner: ClassVar[str | None] = None
    # What the API docs (hub/schema.py) show for the request body: a serializer,
    # or a dict of media type -> serializer when the flow takes several (say a
    # multipart form beside JSON); and named example bodies, as in the contract.
    request_serializer: ClassVar[Any] = None
    request_examples: ClassVar[dict[str, Any]] = {}

    # --- inbound -----------------------------------------------------------
    def parse(self, request, body: bytes) -> Any:
        """The payload from the raw body (JSON unless the flow says otherwise)."""
        return parse_json(body)

    # Where the sender's key stands in the payload, dotted for nested objects ("sendDetails.communicationId").
    key_field: ClassVar[str] = "messageId"

    def key_of(self, payload: Any) -> str:
        """The sender's key, read before validation so even a rejected copy is findable."""
        for part in self.key_field.split("."):
            payload = payload.get(part) if isinstance(payload, dict) else None
        return payload if isinstance(payload, str) else ""

    def validate(self, message: Message, payload: Any) -> Accepted:
        """Return the items to create, or raise Rejection."""
        raise NotImplementedError

    # --- processing ----------------------------------------------------------
    @property
    def unit_size(self) -> int:
        """Items sent together in one call (1: one call per item); a flow may set a number or read a setting."""
        return 1

    def lock_name(self, message: Message) -> str:
        """Messages that return the same non-empty name are never processed at the same time."""
        return ""

    def hold(self, message: Message) -> datetime | None:
        """Runs before each round of sending: None to go on, or a time before which nothing is sent.

        A flow may also prepare items here (a large message expanded after its 202) or close them.
        """
        return None

    def units(self, message: Message, items: list[Item]) -> list[list[Item]]:
        """Due items grouped into calls: `unit_size` at a time by default."""
        size = self.unit_size
        return [items[i : i + size] for i in range(0, len(items), size)]

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        """Call the partner for a unit of items; return an outcome per item id."""
        raise NotImplementedError

    def reply(self, message: Message) -> dict | None:
        """The overall acknowledgement owed to `reply_partner`, built from final items."""
        return None

    def reply_due(self, message: Message) -> bool:
        """Whether the reply can be sent now. A flow whose outcome comes later on another endpoint
        says no; the message then finishes without it and the flow queues it again when the answer comes."""
        return True

    def send_reply(self, message: Message, body: dict):
        raise NotImplementedError

    def sweep(self) -> None:
        """Checks of the flow's own run by the sweeper every pass (timeouts, overdue answers)."""

    def finished(self, message: Message, status: str) -> None:
        """After the message reached its final status: the emails it calls for."""
        if status == Message.Status.FAILED:
            notify_technical_failure(message=message)

    # --- a message that ends abnormally (discarded, or failed after repeated crashes) ---
    def settle(self, message: Message, *, reason: str) -> None:
        """Leave the flow's business state final, as a technical failure would.

        Runs in the transaction that made the message's open items FAILURE with `reason`.
        """

    def failure_reply(self, message: Message, *, reason: str) -> dict | None:
        """The one reply owed to `reply_partner`, from the message's final items, with ackType FAILURE.

        The reason reaches the partner through the records' own text (FAILURE items carry it).
        None when nothing is owed.
        """
        if self.reply_partner is None:
            return None
        body = self.reply(message)
        return None if body is None else {**body, "ackType": "FAILURE"}


def ack_type(statuses: set[str]) -> str:
    """The overall `ackType` from item statuses: FAILURE wins over ERROR, ERROR over SUCCESS."""
    if Item.Status.FAILURE in statuses:
        return "FAILURE"
    if Item.Status.ERROR in statuses:
        return "ERROR"
    return "SUCCESS"
