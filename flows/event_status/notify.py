"""Emails at the end of a status update: the outcome to business users; to technical staff when it was
refused by DACS, not delivered, or its acknowledgement could not reach DERMS."""

from __future__ import annotations

from django.conf import settings

from flows.event_status.models import StatusUpdate
from hub.flow import ack_type
from hub.models import Item, Message
from hub.notify import email_send


def status_update_emails(*, message: Message, update: StatusUpdate, item: Item) -> None:
    ack = (message.reply_body or {}).get("ackType") or ack_type({item.status})
    context = {
        "message": message,
        "update": update,
        "item": item,
        "event": update.event,
        "ack_type": ack,
        "unchanged": update.state == StatusUpdate.State.UNCHANGED,
        "reply_failed": message.reply_status == Message.Reply.FAILED,
    }
    event_id = update.event.event_id
    email_send(
        kind="event_status_complete",
        subject=f"Event {event_id} {update.status}: {ack}",
        recipients=settings.NOTIFY_BUSINESS_EMAILS,
        context=context,
        message=message,
    )
    if item.status == Item.Status.SUCCESS and not context["reply_failed"]:
        return
    email_send(
        kind="event_status_error",
        subject=f"Event status update not applied: {message.message_key} ({event_id} {update.status})",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context=context,
        message=message,
    )
