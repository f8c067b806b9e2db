"""Sample opt-outs, for the API docs, the demo and the tests."""


def opt_out(opt_out_id: str = "OPT-000123", event_id: str = "EVT-2026-0042", nic_id: str = "ECB-000123") -> dict:
    return {
        "optOutId": opt_out_id,
        "eventId": event_id,
        "nicId": nic_id,
        "headEndSystem": "ECOBEE",
        "cisPersonId": "P100",
        "optOutDateTime": "2026-12-01T20:15:00Z",
        "reason": "Customer request",
    }


# What the DERMS stand-in answers for a device it does not hold in the event.
NOT_IN_EVENT = "Device is not reserved for this event"
