"""Emails at the end of a device list (flow 5's reservations, flow 7's outcomes): the outcome to business
users, the devices that failed to technical staff.

Flow 7 sends "the outcome email as flow 5" (the contract), so both go through `device_list_emails`: one rule
for what the technical email lists, the devices that ended ERROR (refused) or FAILURE (not sent). Devices
CANCELLED because their event was cancelled are not failures; they are counted apart, not listed.
"""

from __future__ import annotations

from django.conf import settings

from flows.device_reservations.models import Reservation
from hub.models import Item, Message
from hub.notify import email_send

LISTED = 200
FAILED = (Item.Status.ERROR, Item.Status.FAILURE)


def device_list_emails(*, message: Message, kind: str, title: str, event_id: str, counts: dict, context: dict) -> None:
    """The business email `<kind>_complete`, and `<kind>_error` when a device failed or DERMS was not told.

    `title` opens both subjects ("Reservation", "Event outcome"); `counts` has the flow's "error" and
    "failure" counts; `context` adds what the flow's templates show besides the message and the counts.
    """
    ack = (message.reply_body or {}).get("ackType") or message.ack_type or ""
    context = {
        **context,
        "message": message,
        "counts": counts,
        "ack_type": ack,
        "reply_failed": message.reply_status == Message.Reply.FAILED,
    }
    email_send(
        kind=f"{kind}_complete",
        subject=f"{title} {message.message_key} for event {event_id}: {ack}",
        recipients=settings.NOTIFY_BUSINESS_EMAILS,
        context=context,
        message=message,
    )
    failed = counts["error"] + counts["failure"]
    if not failed and not context["reply_failed"]:
        return
    rows = message.items.filter(status__in=FAILED).order_by("seq")
    email_send(
        kind=f"{kind}_error",
        subject=f"{title} errors: {message.message_key} for event {event_id}",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={
            **context,
            "failed": list(rows.values("key", "nic_id", "last_error")[:LISTED]),
            "failed_count": failed,
        },
        message=message,
    )


def reservation_emails(*, message: Message, reservation: Reservation, counts: dict[str, int]) -> None:
    event = reservation.event
    device_list_emails(
        message=message,
        kind="reservation",
        title="Reservation",
        event_id=event.event_id,
        counts=counts,
        context={"event": event},
    )
