"""Demo traffic for `make run`: three status checks, the last for a device that does not communicate."""

import requests

from flows.device_status.samples import status_check
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    lines = []
    for n, nic_id in enumerate(("ECB-000123", "ECB-000124", "ECB-OFFLINE"), start=1):
        resp = requests.post(
            f"{base}/api/v1/dacs/device-status-checks",
            json=status_check(f"DEMO-CD-{n:04d}", nic_id),
            auth=partners["DACS"],
            timeout=30,
        )
        lines.append(f"status check of {nic_id} → {answer(resp)}; DERMS answers in a second")
    return lines
