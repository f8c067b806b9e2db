"""Stand-in endpoints of flow 8: DACS `programEvent` (create) and DERMS `event_status_ack`.

DACS's `lifecycle` is flow 6's stand-in (flows/event_cancellations/simulator.py),
which takes every action. `programEvent` refuses with a business error an event
id in the DACS knob `refuse_events` and a program code in `error_ids`.
"""

from hub.simulators.core import endpoint


def program_event(body, knobs):
    event_id, program = body.get("eventExternalIdentifier"), body.get("programExternalIdentifier")
    if event_id in knobs.get("refuse_events", []):
        return 400, {"status": "VAL-ERROR", "messageNumber": 12003, "messageText": f"Event {event_id} is refused"}
    if program in knobs["error_ids"]:
        return 400, {"status": "VAL-ERROR", "messageNumber": 12004, "messageText": f"Program {program} not found"}
    return 200, {
        "status": "SUCCESS",
        "eventExternalIdentifier": event_id,
        "externalIdentifier": body.get("externalIdentifier"),
    }


DACS = {
    "rest/apis/cross/service/programEvent/": endpoint(
        "DACS", "programEvent", lambda b: b["eventExternalIdentifier"], program_event
    ),
}
DERMS = {
    "event_status_ack": endpoint(
        "DERMS", "event_status_ack", lambda b: b["messageId"], lambda body, knobs: (200, {"status": "OK"})
    ),
}
