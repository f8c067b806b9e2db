"""Demo traffic for `make run`: a program event scheduled for tomorrow (DACS creates it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests

from flows.event_status.samples import status_update
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    stamp = time.strftime("%Y%m%d%H%M%S")
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(days=1)
    event_id = f"DEMO-EVT-{stamp}-S"
    body = status_update(
        f"DEMO-EVS-{stamp}",
        event_id,
        at=now.isoformat(),
        start=start.isoformat(),
        end=(start + timedelta(hours=2)).isoformat(),
    )
    resp = requests.post(f"{base}/api/v1/derms/event-status-updates", auth=partners["DERMS"], timeout=60, json=body)
    return [f"event {event_id} SCHEDULED (status update) → {answer(resp)}"]
