"""Demo traffic for `make run`: four syncs (enroll and unenroll), one for a person DERMS does not know."""

import requests

from flows.enrollment_sync.samples import sync_request
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    lines = []
    for n, (action, person) in enumerate(
        (("ENROLL", "P100"), ("ENROLL", "P101"), ("UNENROLL", "P100"), ("ENROLL", "P-UNKNOWN")), start=1
    ):
        resp = requests.post(
            f"{base}/api/v1/dacs/enrollment-syncs",
            json=sync_request(f"DEMO-SYNC-{n:04d}", action=action, person=person),
            auth=partners["DACS"],
            timeout=30,
        )
        lines.append(f"enrollment sync {action} for {person} → {answer(resp)}")
    return lines
