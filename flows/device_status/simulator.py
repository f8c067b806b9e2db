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
from datetime import timedelta

import environ
from django.utils import timezone

from hub.simulators.core import endpoint, hub_callback
from hub.timefmt import iso_z

log = logging.getLogger(__name__)
env = environ.Env()
DEFAULT_DELAY_MS = env.float("SIM_DERMS_STATUS_DELAY_MS", default=1000)
DEFAULT_OFFLINE = env.list("SIM_DERMS_OFFLINE_IDS", default=["ECB-OFFLINE"])


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
