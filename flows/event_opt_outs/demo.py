"""Demo traffic for `make run`: one customer opts a device out of an upcoming event."""

import time

import requests

from flows.event_opt_outs.samples import opt_out
from hub.demo import answer


def send(base: str, partners: dict) -> list[str]:
    stamp = time.strftime("%Y%m%d%H%M%S")
    body = opt_out(f"DEMO-OPT-{stamp}", f"DEMO-EVT-{stamp}-OPT")
    resp = requests.post(f"{base}/api/v1/dacs/event-opt-outs", json=body, auth=partners["DACS"], timeout=30)
    return [f"opt-out of {body['nicId']} from event {body['eventId']} → {answer(resp)}"]
