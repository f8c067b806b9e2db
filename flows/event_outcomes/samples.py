"""Sample event outcomes, for the demo, the tests and the benchmark."""

from __future__ import annotations

from flows.device_reservations.samples import EVENT_END, EVENT_START, multipart_body, nic

__all__ = ["multipart_body", "nic", "outcome_csv", "outcome_header", "outcome_message"]

CSV_HEADER = "recordId,nicId,headEndSystemId,outcome,participationStartDateTime,participationEndDateTime,errorMessage"


def outcome_header(message_id: str, event_id: str) -> dict:
    return {"messageId": message_id, "drmsInstanceId": "DERMS-PROD", "eventId": event_id}


def outcome_message(message_id: str, event_id: str, count: int) -> dict:
    """A JSON outcome of devices ECB-000001…, records numbered 1..count, every device PARTICIPATED."""
    outcomes = [
        {
            "recordId": i,
            "nicId": nic(i),
            "headEndSystemId": "ECOBEE",
            "outcome": "PARTICIPATED",
            "participationStartDateTime": EVENT_START,
            "participationEndDateTime": EVENT_END,
            "errorMessage": None,
        }
        for i in range(1, count + 1)
    ]
    return {**outcome_header(message_id, event_id), "outcomeList": outcomes}


def outcome_csv(count: int, first: int = 1) -> bytes:
    """The CSV file of a multipart outcome: most devices took part, every 10th did not respond."""
    lines = [CSV_HEADER]
    for i in range(first, first + count):
        if i % 10:
            lines.append(f"{i},{nic(i)},ECOBEE,PARTICIPATED,{EVENT_START},{EVENT_END},")
        else:
            lines.append(f"{i},{nic(i)},ECOBEE,NON_RESPONSIVE,,,No telemetry during the event")
    return ("\r\n".join(lines) + "\r\n").encode()
