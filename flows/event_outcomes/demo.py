"""Demo traffic for `make run`: the outcomes of an event's 3,000 devices sent as a CSV file, one of them
refused by DACS ("Device not enrolled", the device flow 5's demo also has refused)."""

from __future__ import annotations

import time

import requests

from flows.device_reservations.demo import REFUSED
from flows.event_outcomes.samples import multipart_body, nic, outcome_csv, outcome_header
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    knobs = requests.get(f"{base}/sim/dacs/_knobs", auth=partners["DERMS"], timeout=30).json()
    if nic(REFUSED) not in knobs["error_ids"]:
        changes = {"error_ids": [*knobs["error_ids"], nic(REFUSED)]}
        requests.put(f"{base}/sim/dacs/_knobs", json=changes, auth=partners["DERMS"], timeout=30)
    stamp = time.strftime("%Y%m%d%H%M%S")
    body, content_type = multipart_body(outcome_header(f"DEMO-OUT-{stamp}", f"DEMO-EVT-{stamp}"), outcome_csv(3000))
    resp = requests.post(
        f"{base}/api/v1/derms/event-outcomes",
        data=body,
        auth=partners["DERMS"],
        headers={"Content-Type": content_type},
        timeout=60,
    )
    return [f"event outcomes of 3,000 devices as CSV (one not enrolled at DACS) → {answer(resp)}"]
