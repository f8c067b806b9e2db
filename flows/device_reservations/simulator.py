"""Stand-in endpoints of flow 5: DACS `healthCheck` and `reserveDevice`, DERMS `reservation_ack`.

`healthCheck` follows the `down` knob like every endpoint. `reserveDevice`
answers per device: a nicId in `error_ids` is refused with "Device not
enrolled"; the knob `refuse_events` (event ids) refuses a whole call with a
business error.
"""

from hub.simulators.core import endpoint

NOT_ENROLLED = "Device not enrolled"


def reserve(body, knobs):
    event_id = body["eventExternalIdentifier"]
    if event_id in knobs.get("refuse_events", []):
        return 400, {"status": "VAL-ERROR", "messageNumber": 12001, "messageText": f"Event {event_id} not found"}
    refused = set(knobs["error_ids"])
    results = [
        {
            "nicId": d["nicId"],
            "headEndSystem": d["headEndSystem"],
            "status": "ERROR" if d["nicId"] in refused else "RESERVED",
            "message": NOT_ENROLLED if d["nicId"] in refused else None,
        }
        for d in body["deviceList"]
    ]
    return 200, {"results": results}


def collection_key(body) -> str:
    """The event id and the first device: one collection's resends share the key."""
    return f"{body['eventExternalIdentifier']}:{body['deviceList'][0]['nicId']}"


DACS = {
    "rest/apis/cross/healthCheck": endpoint(
        "DACS", "healthCheck", lambda b: "", lambda body, knobs: (200, {"status": "UP"}), method="GET"
    ),
    "rest/apis/cross/service/programEventParticipation/reserveDevice": endpoint(
        "DACS", "reserveDevice", collection_key, reserve
    ),
}
DERMS = {
    "reservation_ack": endpoint(
        "DERMS", "reservation_ack", lambda b: b["messageId"], lambda body, knobs: (200, {"status": "OK"})
    ),
}
