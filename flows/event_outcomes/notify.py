"""Emails at the end of an outcome message: the outcome to business users, failures to technical staff."""

from __future__ import annotations

from django.conf import settings

from flows.event_outcomes.models import OutcomeReport
from hub.models import Item, Message
from hub.notify import email_send

LISTED = 200


def outcome_emails(*, message: Message, report: OutcomeReport, counts: dict[str, int]) -> None:
    ack = (message.reply_body or {}).get("ackType") or message.ack_type or ""
    context = {
        "message": message,
        "event_id": report.event_id,
        "counts": counts,
        "ack_type": ack,
        "reply_failed": message.reply_status == Message.Reply.FAILED,
    }
    email_send(
        kind="event_outcome_complete",
        subject=f"Event outcome {message.message_key} for event {report.event_id}: {ack}",
        recipients=settings.NOTIFY_BUSINESS_EMAILS,
        context=context,
        message=message,
    )
    failed = counts["error"] + counts["failure"]
    if not failed and not context["reply_failed"]:
        return
    rows = message.items.exclude(status__in=(*Item.OPEN, Item.Status.SUCCESS)).order_by("seq")
    email_send(
        kind="event_outcome_error",
        subject=f"Event outcome errors: {message.message_key} for event {report.event_id}",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={
            **context,
            "failed": list(rows.values("key", "nic_id", "last_error")[:LISTED]),
            "failed_count": failed,
        },
        message=message,
    )
