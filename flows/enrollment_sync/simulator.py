"""Stand-in endpoints of flow 3: DERMS `enroll`, DACS `enrollmentSync/acknowledgement`.

DERMS refuses a sync whose cisPersonId it does not know with the contract's
error, and acknowledges either in its answer or later by posting to the
hub's acknowledgement endpoint. Knobs (beside the common ones):
  sync_ack          immediate | later | mixed (by syncRequestId, about half each)
                    (SIM_DERMS_SYNC_ACK, default mixed)
  sync_delay_ms     delay before a later acknowledgement (SIM_DERMS_SYNC_DELAY_MS, default 1000)
  unknown_persons   cisPersonIds DERMS does not know (SIM_DERMS_UNKNOWN_PERSONS, default P-UNKNOWN)
  silent_ids        syncs (syncRequestId) DERMS takes with 202 and never acknowledges
"""

import zlib

import environ

from flows.enrollment_sync.samples import UNKNOWN_PERSON
from hub.simulators.core import endpoint, hub_callback

env = environ.Env()
DEFAULT_MODE = env.str("SIM_DERMS_SYNC_ACK", default="mixed")
DEFAULT_DELAY_MS = env.float("SIM_DERMS_SYNC_DELAY_MS", default=1000)
DEFAULT_UNKNOWN = env.list("SIM_DERMS_UNKNOWN_PERSONS", default=["P-UNKNOWN"])


def acknowledges_at_once(sync_id: str, mode: str) -> bool:
    if mode == "mixed":
        return zlib.crc32(sync_id.encode()) % 2 == 0
    return mode != "later"


def enroll(body, knobs):
    sync_id = body["dacsMessageId"]
    if sync_id in knobs.get("silent_ids", []):
        return 202, {"status": "ACCEPTED"}
    person = (body.get("contactInfo") or {}).get("cisPersonId")
    if not person or person in knobs.get("unknown_persons", DEFAULT_UNKNOWN):
        ack = {"ackType": "ERROR", "message": UNKNOWN_PERSON}
    else:
        ack = {"ackType": "SUCCESS", "message": f"Subscription {body['subscriptionInfo']['subscriptionId']} synced"}
    if acknowledges_at_once(sync_id, knobs.get("sync_ack", DEFAULT_MODE)):
        return 200, ack
    delay_s = knobs.get("sync_delay_ms", DEFAULT_DELAY_MS) / 1000
    hub_callback("derms/enrollment-sync-acks", {"dacsMessageId": sync_id, **ack}, delay_s=delay_s)
    return 202, {"status": "ACCEPTED"}


DERMS = {"enroll": endpoint("DERMS", "enroll", lambda b: b["dacsMessageId"], enroll)}
DACS = {
    "rest/apis/cross/digitalAssets/enrollmentSync/acknowledgement": endpoint(
        "DACS", "sync_ack", lambda b: b["syncRequestId"], lambda body, knobs: (200, {"status": "OK"})
    ),
}
