"""Stand-in endpoint of flow 11: DERMS `customer_unavailability`.

Knobs (beside the common ones): a nicId, unavailabilityId or dacsMessageId in
`error_ids` is answered `{"ackType": "ERROR"}` (a device DERMS does not know).
"""

from flows.customer_unavailability.samples import UNKNOWN_DEVICE
from hub.simulators.core import endpoint


def taken(body, knobs):
    refused = set(knobs["error_ids"])
    if refused & {body.get("nicId"), body.get("unavailabilityId"), body.get("dacsMessageId")}:
        return 200, {"ackType": "ERROR", "message": UNKNOWN_DEVICE}
    return 200, {"ackType": "SUCCESS", "message": f"{body.get('action')} of {body.get('unavailabilityId')} recorded"}


DERMS = {"customer_unavailability": endpoint("DERMS", "customer_unavailability", lambda b: b["dacsMessageId"], taken)}
