"""Sample status updates (the contract's example), for the API docs, the demo and the tests."""

from __future__ import annotations

EVENT_START = "2026-12-01T22:00:00Z"
EVENT_END = "2026-12-02T00:00:00Z"


def status_update(
    message_id: str,
    event_id: str,
    status: str = "SCHEDULED",
    *,
    at: str = "2026-11-30T18:00:00Z",
    start: str = EVENT_START,
    end: str = EVENT_END,
    reason: str | None = None,
) -> dict:
    """A status update; a SCHEDULED one carries the program, type and times the contract requires."""
    body = {
        "messageId": message_id,
        "drmsInstanceId": "DERMS-PROD",
        "eventId": event_id,
        "stageId": f"{event_id}-S1",
        "status": status,
        "statusDateTime": at,
        "programCode": None,
        "eventType": None,
        "startDateTime": None,
        "endDateTime": None,
        "cancelReason": reason,
    }
    if status == "SCHEDULED":
        body.update(programCode="BYOT-SUMMER", eventType="ECONOMIC", startDateTime=start, endDateTime=end)
    return body
