"""Sample reservations, for the demo, the tests and the benchmark."""

from __future__ import annotations

import json

EVENT_START = "2026-12-01T22:00:00Z"
EVENT_END = "2026-12-02T00:00:00Z"


def nic(n: int) -> str:
    return f"ECB-{n:06d}"


def reservation_header(message_id: str, event_id: str, *, start: str = EVENT_START, end: str = EVENT_END) -> dict:
    return {
        "messageId": message_id,
        "drmsInstanceId": "DERMS-PROD",
        "eventId": event_id,
        "eventType": "ECONOMIC",
        "programCode": "BYOT-SUMMER",
        "eventStartDateTime": start,
        "eventEndDateTime": end,
    }


def reservation_message(message_id: str, event_id: str, count: int, **times) -> dict:
    """A JSON reservation of devices ECB-000001…; records numbered 1..count."""
    devices = [
        {
            "recordId": i,
            "nicId": nic(i),
            "headEndSystemId": "ECOBEE",
            "reservationStartDateTime": None,
            "reservationEndDateTime": None,
        }
        for i in range(1, count + 1)
    ]
    return {**reservation_header(message_id, event_id, **times), "deviceList": devices}


def reservation_csv(count: int, first: int = 1) -> bytes:
    """The CSV file of a multipart reservation, built without holding a row list."""
    lines = ["recordId,nicId,headEndSystemId,reservationStartDateTime,reservationEndDateTime"]
    lines.extend(f"{i},{nic(i)},ECOBEE,," for i in range(first, first + count))
    return ("\r\n".join(lines) + "\r\n").encode()


def multipart_body(header: dict, csv_bytes: bytes, boundary: str = "rsv-boundary-7f3a") -> tuple[bytes, str]:
    """(body, content type) of a multipart reservation, as DERMS would send it."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n'
        f"{json.dumps(header)}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="devices.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + csv_bytes + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
