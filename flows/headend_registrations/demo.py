"""Demo traffic for `make run`: DERMS reports 1,200 devices' registrations, three not registered."""

import time

import requests

from flows.headend_registrations.samples import registration_devices, registration_message
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    stamp = time.strftime("%Y%m%d%H%M%S")
    body = registration_message(f"DEMO-HER-{stamp}", None, registration_devices(1200, not_registered=(7, 512, 1100)))
    resp = requests.post(f"{base}/api/v1/derms/headend-registrations", json=body, auth=partners["DERMS"], timeout=60)
    return [f"head-end registrations of 1,200 devices (3 not registered) → {answer(resp)}"]
