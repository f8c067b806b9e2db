"""Demo traffic for `make run`: an event of 3,000 devices sent as a CSV file, one of them
refused by DACS ("Device not enrolled"), and a second event cancelled while it is reserved."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests

from flows.device_reservations.samples import (
    multipart_body,
    nic,
    reservation_csv,
    reservation_header,
    reservation_message,
)
from hub.demo import answer

REFUSED = 1234


def send(base: str, partners: dict) -> list[str]:
    # The stand-in's knobs ask for an account of the hub: the demo's DERMS partner account.
    knobs = requests.get(f"{base}/sim/dacs/_knobs", auth=partners["DERMS"], timeout=30).json()
    if nic(REFUSED) not in knobs["error_ids"]:
        changes = {"error_ids": [*knobs["error_ids"], nic(REFUSED)]}
        requests.put(f"{base}/sim/dacs/_knobs", json=changes, auth=partners["DERMS"], timeout=30)
    stamp = time.strftime("%Y%m%d%H%M%S")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    times = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    lines = []

    body, content_type = multipart_body(
        reservation_header(f"DEMO-RSV-{stamp}", f"DEMO-EVT-{stamp}", **times), reservation_csv(3000)
    )
    resp = requests.post(
        f"{base}/api/v1/derms/device-reservations",
        data=body,
        auth=partners["DERMS"],
        headers={"Content-Type": content_type},
        timeout=60,
    )
    lines.append(f"reservation of 3,000 devices as CSV (one not enrolled at DACS) → {answer(resp)}")

    event_id = f"DEMO-EVT-{stamp}-C"
    resp = requests.post(
        f"{base}/api/v1/derms/device-reservations",
        auth=partners["DERMS"],
        timeout=60,
        json=reservation_message(f"DEMO-RSV-{stamp}-C", event_id, 50, **times),
    )
    lines.append(f"reservation of 50 devices for event {event_id} → {answer(resp)}")
    resp = requests.post(
        f"{base}/api/v1/derms/event-cancellations",
        auth=partners["DERMS"],
        timeout=60,
        json={
            "messageId": f"DEMO-CNL-{stamp}",
            "drmsInstanceId": "DERMS-PROD",
            "eventId": event_id,
            "cancellationMessageText": "Forecast load below threshold",
        },
    )
    lines.append(f"cancellation of event {event_id} → {answer(resp)}")
    return lines
