"""Sample status checks and responses, for the demo, the tests and the benchmark."""


def status_check(communication_id: str, nic_id: str = "ECB-000123", reason: str = "TROUBLESHOOTING") -> dict:
    return {
        "sendDetails": {"communicationId": communication_id},
        "deviceInfo": {
            "division": "NORTH",
            "deviceType": "THERMOSTAT",
            "specification": "ECOBEE!SMART-PREMIUM",
            "headEndSystem": "ECOBEE",
            "nicId": nic_id,
        },
        "reason": reason,
    }


def status_response(
    dacs_message_id: str,
    code: str = "SUCCESS",
    nic_id: str = "ECB-000123",
    message: str = "Device communicating",
    when: str | None = "2026-11-26T10:02:11Z",
) -> dict:
    body = {"dacsMessageId": dacs_message_id, "responseCode": code, "nicId": nic_id, "message": message}
    if when:
        body["responseTimeISO"] = when
    return body
