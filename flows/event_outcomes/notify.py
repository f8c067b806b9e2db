"""Emails at the end of an outcome message: the outcome email as flow 5's (flows/device_reservations/notify.py)."""

from __future__ import annotations

from flows.device_reservations.notify import device_list_emails
from flows.event_outcomes.models import OutcomeReport
from hub.models import Message


def outcome_emails(*, message: Message, report: OutcomeReport, counts: dict[str, int]) -> None:
    device_list_emails(
        message=message,
        kind="event_outcome",
        title="Event outcome",
        event_id=report.event_id,
        counts=counts,
        context={"event_id": report.event_id},
    )
