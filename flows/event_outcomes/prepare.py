"""Turning an accepted outcome message into items and device outcomes, in the worker after the 202.

Prepared as flow 5's reservations are (`device_list_prepare` in flows/device_reservations/prepare.py):
read again from the stored body, written in bulk in one transaction.
"""

from __future__ import annotations

from flows.device_reservations.prepare import DeviceTable, device_list_prepare
from flows.event_outcomes.models import DeviceOutcome, OutcomeReport
from flows.event_outcomes.rows import DeviceOutcomeRow, outcomes_of

# A later message of the same event replaces a device's outcome.
DEVICE_OUTCOMES = DeviceTable(
    DeviceOutcome,
    event="event_id",
    own=("outcome", "participation_start", "participation_end", "error_message"),
    pending=DeviceOutcome.State.PENDING.value,
)


def item_data(row: DeviceOutcomeRow) -> dict:
    data = {"h": row.head_end_system, "o": row.outcome}
    if row.start:
        data["s"] = row.start
    if row.end:
        data["e"] = row.end
    if row.error_message:
        data["m"] = row.error_message
    return data


def outcome_prepare(*, report: OutcomeReport) -> None:
    """Create the message's items and upsert its devices' outcomes (idempotent)."""
    device_list_prepare(
        message_id=report.message_id,
        unprepared=OutcomeReport.objects.filter(id=report.id, prepared=False),
        rows_of=outcomes_of,
        item_data=item_data,
        devices=DEVICE_OUTCOMES,
        event=report.event_id,
        own=lambda d, times: (d.outcome, times.of(d.start), times.of(d.end), d.error_message or ""),
    )
