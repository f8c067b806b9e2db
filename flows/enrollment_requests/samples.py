"""Sample enrollment collections, for the demo, the tests and the benchmark."""


def enrollment_request(request_id: str, *, program: str = "BYOT-SUMMER", nic_id: str | None = None) -> dict:
    n = request_id
    return {
        "requestId": request_id,
        "customerInfo": {
            "cisPersonId": f"P{n}",
            "cisAccountId": f"A{n}",
            "name": "Jane Doe",
            "homePhone": "555-0100",
            "businessPhone": None,
            "email": "jane@example.com",
        },
        "programInfo": {
            "cisServiceAgreementId": f"SA{n}",
            "programCode": program,
            "startDateTimeISO": "2026-12-01T06:00:00-06:00",
            "endDateTimeISO": None,
        },
        "locationInfo": {
            "locationId": f"L{n}",
            "division": "NORTH",
            "cisPremiseId": f"PR{n}",
            "cisServicePointId": f"SP{n}",
            "timeZone": "America/Chicago",
            "address1": "1 Main St",
            "city": "Springfield",
            "county": "Sangamon",
            "state": "IL",
            "postal": "62701",
            "country": "USA",
        },
        "assetInfo": {
            "installationMethod": "BRING_YOUR_OWN",
            "assetOwnership": "CUSTOMER_OWNED",
            "assetList": [
                {
                    "sequence": 1,
                    "assetId": f"AS-{n}",
                    "make": "ECOBEE",
                    "model": "SMART-PREMIUM",
                    "assetType": "THERMOSTAT",
                    "badgeNo": None,
                    "serialNo": f"SN{n}",
                    "nicId": nic_id or f"ECB-{int(n):06d}",
                    "headEndSystem": "ECOBEE",
                }
            ],
        },
    }


def enrollment_message(message_id: str, count: int, *, refused: dict[int, str] | None = None) -> dict:
    """`count` requests numbered 1..count; `refused` maps a request number to a program DACS refuses."""
    refused = refused or {}
    return {
        "messageId": message_id,
        "drmsInstanceId": "DERMS-PROD",
        "enrollmentRequests": [
            enrollment_request(str(i), program=refused.get(i, "BYOT-SUMMER")) for i in range(1, count + 1)
        ],
    }
