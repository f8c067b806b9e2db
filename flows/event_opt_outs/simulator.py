"""Stand-in endpoint of flow 10: DERMS `event_opt_out`.

Knobs (beside the common ones): a nicId, eventId or dacsMessageId in `error_ids`
is answered `{"ackType": "ERROR"}` (the device is not in the event).
"""

from flows.event_opt_outs.samples import NOT_IN_EVENT
from hub.simulators.core import endpoint


def opted_out(body, knobs):
    refused = set(knobs["error_ids"])
    if refused & {body.get("nicId"), body.get("eventId"), body.get("dacsMessageId")}:
        return 200, {"ackType": "ERROR", "message": NOT_IN_EVENT}
    return 200, {"ackType": "SUCCESS", "message": f"{body.get('nicId')} opted out of {body.get('eventId')}"}


DERMS = {"event_opt_out": endpoint("DERMS", "event_opt_out", lambda b: b["dacsMessageId"], opted_out)}
