"""Stand-in endpoints of flow 2: DERMS `status_check`, DACS `controllableDeviceStatus/response`.

DERMS acknowledges a check at once and posts its result to the hub's
response endpoint later, as the real DERMS does after asking the head-end.
Knobs (beside the common ones):
  status_delay_ms      delay before DERMS posts its result (SIM_DERMS_STATUS_DELAY_MS, default 1000)
  status_before_ack    post the result before acknowledging the check (a DERMS faster than the forward)
  silent_ids           checks (dacsMessageId or nicId) DERMS never answers
  offline_ids          devices (nicId) reported as not communicating, responseCode FAILURE
                       (SIM_DERMS_OFFLINE_IDS, default ECB-OFFLINE)
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import environ
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token

from hub.simulators.core import endpoint
from hub.timefmt import iso_z

log = logging.getLogger(__name__)
env = environ.Env()
DEFAULT_DELAY_MS = env.float("SIM_DERMS_STATUS_DELAY_MS", default=1000)
DEFAULT_OFFLINE = env.list("SIM_DERMS_OFFLINE_IDS", default=["ECB-OFFLINE"])


def derms_token() -> str:
    """The stand-in calls the hub as the first DERMS partner account."""
    user = User.objects.filter(groups__name="DERMS", is_active=True).order_by("id").first()
    if user is None:
        raise RuntimeError("No DERMS partner account for the stand-in to call the hub with")
    return Token.objects.get_or_create(user=user)[0].key


def hub_callback(path: str, body: dict, *, delay_s: float = 0, wait: bool = False) -> None:
    """POST `body` to the hub's /api/v1/<path> as DERMS, after `delay_s`; inline when `wait`."""
    url = f"{settings.HUB_BASE_URL}/api/v1/{path}"
    headers = {"Authorization": f"Token {derms_token()}"}

    def post() -> None:
        for attempt in range(1, 6):
            try:
                resp = requests.post(url, json=body, headers=headers, timeout=60)
                if resp.status_code < 500:
                    return
            except requests.RequestException as exc:
                log.warning("stand-in callback to %s failed: %s", url, exc)
            time.sleep(attempt * 0.5)

    if wait:
        post()
        return
    timer = threading.Timer(delay_s, post)
    timer.daemon = True
    timer.start()


def status_check(body, knobs):
    check_id, nic_id = body["dacsMessageId"], body["deviceInfo"]["nicId"]
    if not {check_id, nic_id} & set(knobs.get("silent_ids", [])):
        delay_s = knobs.get("status_delay_ms", DEFAULT_DELAY_MS) / 1000
        failing = nic_id in knobs.get("offline_ids", DEFAULT_OFFLINE)
        result = {
            "dacsMessageId": check_id,
            "responseCode": "FAILURE" if failing else "SUCCESS",
            "responseTimeISO": iso_z(timezone.now() + timedelta(seconds=delay_s)),
            "nicId": nic_id,
            "message": "Device not communicating" if failing else "Device communicating",
        }
        before_ack = bool(knobs.get("status_before_ack"))
        hub_callback("derms/device-status-responses", result, delay_s=delay_s, wait=before_ack)
    return 200, {"status": "RECEIVED", "dacsMessageId": check_id}


DERMS = {
    "status_check": endpoint("DERMS", "status_check", lambda b: b["dacsMessageId"], status_check),
}
DACS = {
    "rest/apis/cross/digitalAssets/controllableDeviceStatus/response": endpoint(
        "DACS",
        "status_response",
        lambda b: b["responseDetail"]["transactionId"],
        lambda body, knobs: (200, {"status": "OK"}),
    ),
}
