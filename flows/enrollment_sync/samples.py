"""Sample synchronisations and acknowledgements, for the demo, the tests and the benchmark."""


def sync_request(sync_id: str, *, action: str = "ENROLL", person: str = "P100", nic_id: str = "ECB-000123") -> dict:
    return {
        "syncRequestId": sync_id,
        "action": action,
        "contactInfo": {"contactId": "C1", "cisPersonId": person, "name": "Jane Doe", "email": "jane@example.com"},
        "subscriptionInfo": {
            "subscriptionId": f"S-{sync_id}",
            "cisAccountId": "A100",
            "subscriptionType": "BYOT",
            "status": "ACTIVE",
            "programId": "PRG1",
            "programCode": "BYOT-SUMMER",
            "startDateTime": "2026-12-01T00:00:00Z",
            "endDateTime": None,
        },
        "locationInfo": {
            "division": "NORTH",
            "servicePointId": "SPX1",
            "cisPremiseId": "PR100",
            "cisServicePointId": "SP100",
            "controllableDevices": [
                {
                    "nicId": nic_id,
                    "headEndSystem": "ECOBEE",
                    "deviceType": "THERMOSTAT",
                    "specification": "ECOBEE!SMART-PREMIUM",
                    "status": "ACTIVE",
                }
            ],
        },
    }


def sync_ack(sync_id: str, ack_type: str = "SUCCESS", message: str | None = None) -> dict:
    return {"dacsMessageId": sync_id, "ackType": ack_type, "message": message}


UNKNOWN_PERSON = "Cannot create the subscription in DERMS due to null CIS_PERSON_ID"
