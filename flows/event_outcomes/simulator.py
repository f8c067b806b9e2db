"""Stand-in endpoints of flow 7: DACS `postEventOutcome` and DERMS `event_outcome_ack`.

`postEventOutcome` answers per device: a nicId in `error_ids` is refused with
"Device not enrolled"; the knob `refuse_events` (event ids) refuses a whole
call naming one of them with a business error. DACS's `healthCheck` is flow 5's.
"""

from flows.device_reservations.simulator import NOT_ENROLLED
from hub.simulators.core import endpoint


def post_outcome(body, knobs):
    entries = body["postOutcomeList"]
    refused_events = set(knobs.get("refuse_events", [])) & {e["eventExternalIdentifier"] for e in entries}
    if refused_events:
        event_id = sorted(refused_events)[0]
        return 400, {"status": "VAL-ERROR", "messageNumber": 12001, "messageText": f"Event {event_id} not found"}
    refused = set(knobs["error_ids"])
    results = [
        {
            "nicId": e["nicId"],
            "headEndSystem": e["headEndSystem"],
            "status": "ERROR" if e["nicId"] in refused else "POSTED",
            "message": NOT_ENROLLED if e["nicId"] in refused else None,
        }
        for e in entries
    ]
    return 200, {"results": results}


def collection_key(body) -> str:
    """The event id and the first device: one collection's resends share the key."""
    first = body["postOutcomeList"][0]
    return f"{first['eventExternalIdentifier']}:{first['nicId']}"


DACS = {
    "rest/apis/cross/service/programEventParticipation/postEventOutcome": endpoint(
        "DACS", "postEventOutcome", collection_key, post_outcome
    ),
}
DERMS = {
    "event_outcome_ack": endpoint(
        "DERMS", "event_outcome_ack", lambda b: b["messageId"], lambda body, knobs: (200, {"status": "OK"})
    ),
}
