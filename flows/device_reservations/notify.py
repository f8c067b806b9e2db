"""Emails at the end of a reservation: the outcome to business users, failures to technical staff."""

from __future__ import annotations

from django.conf import settings

from flows.device_reservations.models import Reservation
from hub.models import Item, Message
from hub.notify import email_send

LISTED = 200


def reservation_emails(*, message: Message, reservation: Reservation, counts: dict[str, int]) -> None:
    event = reservation.event
    ack = (message.reply_body or {}).get("ackType") or message.ack_type or ""
    context = {
        "message": message,
        "event": event,
        "counts": counts,
        "ack_type": ack,
        "reply_failed": message.reply_status == Message.Reply.FAILED,
    }
    email_send(
        kind="reservation_complete",
        subject=f"Reservation {message.message_key} for event {event.event_id}: {ack}",
        recipients=settings.NOTIFY_BUSINESS_EMAILS,
        context=context,
        message=message,
    )
    failed = counts["error"] + counts["failure"]
    if not failed and not context["reply_failed"]:
        return
    rows = message.items.filter(status__in=(Item.Status.ERROR, Item.Status.FAILURE)).order_by("seq")
    email_send(
        kind="reservation_error",
        subject=f"Reservation errors: {message.message_key} for event {event.event_id}",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={
            **context,
            "failed": list(rows.values("key", "nic_id", "last_error")[:LISTED]),
            "failed_count": failed,
        },
        message=message,
    )
