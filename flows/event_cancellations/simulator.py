"""Stand-in endpoints of flow 6: both DACS cancellation endpoints.

An event id in the DACS knob `refuse_events` is refused with a business error.
"""

from hub.simulators.core import endpoint


def cancelled(body, knobs):
    event_id = body.get("eventExternalIdentifier")
    if event_id in knobs.get("refuse_events", []):
        return 400, {"status": "VAL-ERROR", "messageNumber": 12002, "messageText": f"Event {event_id} not found"}
    return 200, {"status": "SUCCESS", "eventExternalIdentifier": event_id}


DACS = {
    "rest/apis/cross/service/programEvent/lifecycle": endpoint(
        "DACS", "lifecycle", lambda b: b["eventExternalIdentifier"], cancelled
    ),
    "rest/apis/cross/service/programEventParticipation/preEventCancellation": endpoint(
        "DACS", "preEventCancellation", lambda b: b["eventExternalIdentifier"], cancelled
    ),
}
