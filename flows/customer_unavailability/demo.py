"""Demo traffic for `make run`: a customer's holiday added, then moved."""

import time

import requests

from flows.customer_unavailability.samples import unavailability
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    stamp = time.strftime("%Y%m%d%H%M%S")
    period = f"DEMO-UNAV-{stamp}"[:30]
    lines = []
    for n, (action, start, end) in enumerate(
        (
            ("ADD", "2026-12-20T00:00:00Z", "2027-01-03T00:00:00Z"),
            ("UPDATE", "2026-12-22T00:00:00Z", "2027-01-05T00:00:00Z"),
        ),
        start=1,
    ):
        body = unavailability(f"DEMO-UNAV-MSG-{stamp}-{n}", period, action, start=start, end=end)
        resp = requests.post(
            f"{base}/api/v1/dacs/customer-unavailability", json=body, auth=partners["DACS"], timeout=30
        )
        lines.append(f"unavailability {action} of {period} ({start[:10]} to {end[:10]}) → {answer(resp)}")
    return lines
