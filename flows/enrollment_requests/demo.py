"""Demo traffic for `make run`: one enrollment collection, one request of it refused."""

import requests

from flows.enrollment_requests.samples import enrollment_message
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    body = enrollment_message("DEMO-ENR-0001", 25, refused={7: "BYOT-X"})
    resp = requests.post(f"{base}/api/v1/derms/enrollment-requests", json=body, auth=partners["DERMS"], timeout=30)
    return [f"enrollment collection of 25 requests (one for an unknown program) → {answer(resp)}"]
