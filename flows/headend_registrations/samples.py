"""Sample registration reports, for the API docs, the demo and the tests."""


def registration_device(nic_id: str = "ECB-000123", registration: str = "REGISTERED", **extra) -> dict:
    return {
        "nicId": nic_id,
        "headEndSystem": "ECOBEE",
        "deviceId": "DV" + "".join(filter(str.isdigit, nic_id)).rjust(10, "0")[-10:],
        "registration": registration,
        "message": None,
        **extra,
    }


def registration_message(message_id: str = "DRMS-HER-0007", sync_id: str | None = "SYNC-555", devices=None) -> dict:
    body = {"messageId": message_id, "devices": [registration_device()] if devices is None else devices}
    if sync_id is not None:
        body["dacsMessageId"] = sync_id
    return body


def registration_devices(count: int, *, not_registered: tuple[int, ...] = ()) -> list[dict]:
    """Devices ECB-R00001…, those numbered in `not_registered` not registered with their head end."""
    return [
        registration_device(
            f"ECB-R{n:05d}",
            "NOT_REGISTERED" if n in not_registered else "REGISTERED",
            message="Head end refused the device" if n in not_registered else None,
        )
        for n in range(1, count + 1)
    ]
