"""Sample unavailability messages, for the API docs, the demo and the tests."""


def unavailability(
    message_id: str = "UNAV-MSG-0001",
    unavailability_id: str = "UNAV-0007",
    action: str = "ADD",
    *,
    nic_id: str = "ECB-000123",
    start: str | None = "2026-12-20T00:00:00Z",
    end: str | None = "2027-01-03T00:00:00Z",
) -> dict:
    body = {
        "messageId": message_id,
        "unavailabilityId": unavailability_id,
        "action": action,
        "nicId": nic_id,
        "headEndSystem": "ECOBEE",
        "cisPersonId": "P100",
        "startDateTime": start,
        "endDateTime": end,
        "reason": "Vacation",
    }
    if action == "CANCEL":
        del body["startDateTime"], body["endDateTime"]
    return body


# What the DERMS stand-in answers for a device it does not know.
UNKNOWN_DEVICE = "Device is not enrolled in DERMS"
