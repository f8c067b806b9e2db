"""Stand-in endpoint of flow 9: DACS `programEnrollments/postAcknowledgement`.

A collection naming a nicId in `error_ids` is refused with a business error
(the device is not enrolled); the knob `refuse_syncs` (syncRequestIds) refuses
every collection answering one of those syncs.
"""

from hub.simulators.core import endpoint


def acknowledged(body, knobs):
    devices = (body.get("deviceHeadendStatus") or {}).get("devices") or []
    if body.get("syncRequestId") in knobs.get("refuse_syncs", []):
        return 400, {"status": "VAL-ERROR", "messageNumber": 13002, "messageText": "Enrollment sync not found"}
    unknown = [d.get("nicId") for d in devices if d.get("nicId") in set(knobs["error_ids"])]
    if unknown:
        return 400, {"status": "VAL-ERROR", "messageNumber": 13001, "messageText": f"Device {unknown[0]} not enrolled"}
    return 200, {"status": "SUCCESS", "count": len(devices)}


def collection_key(body) -> str:
    """The sync and the first device: one collection's resends share the key."""
    devices = body["deviceHeadendStatus"]["devices"]
    return f"{body.get('syncRequestId') or ''}:{devices[0]['nicId'] if devices else ''}"


DACS = {
    "rest/apis/cross/digitalAssets/programEnrollments/postAcknowledgement": endpoint(
        "DACS", "postAcknowledgement", collection_key, acknowledged
    ),
}
