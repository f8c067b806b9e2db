"""Enrollments as flow 1 leaves them: DERMS's request and DACS's answer, per request."""

from __future__ import annotations

from hub.models import Item, Message
from hub.timefmt import parse_offset_datetime
from records.projection import EnrollmentChange, enrollments_apply

OUTCOME: dict[str, str] = {
    Item.Status.SUCCESS: "enrolled by DACS",
    Item.Status.ERROR: "refused by DACS",
    Item.Status.FAILURE: "DACS could not be reached",
    Item.Status.CANCELLED: "not sent",
}


def start_date(program: dict):
    try:
        return parse_offset_datetime(program.get("startDateTimeISO") or "").date()
    except (TypeError, ValueError):
        return None


def request_change(message: Message, key: str, status: str, external_id: str, error: str, data: dict):
    customer = data.get("customerInfo") or {}
    program = data.get("programInfo") or {}
    location = data.get("locationInfo") or {}
    assets = (data.get("assetInfo") or {}).get("assetList") or []
    final = status not in Item.OPEN
    outcome = OUTCOME.get(status, "waiting for DACS")
    text = f"Request {key} of {message.message_key}: {outcome}"
    if external_id:
        text += f", enrollmentId {external_id}"
    if error and status != Item.Status.SUCCESS:
        text += f": {error}"
    return EnrollmentChange(
        person=str(customer.get("cisPersonId") or ""),
        service_point=str(location.get("cisServicePointId") or ""),
        program=str(program.get("programCode") or ""),
        stage="request",
        at=message.received_at,
        fields={
            "cis_account_id": str(customer.get("cisAccountId") or ""),
            "customer_name": str(customer.get("name") or "")[:200],
            "cis_premise_id": str(location.get("cisPremiseId") or ""),
            "service_agreement_id": str(program.get("cisServiceAgreementId") or ""),
            "start_date": start_date(program),
            "request_id": key[:20],
            "request_message": message,
            "dacs_result": status if final else "",
            "dacs_error": error if status != Item.Status.SUCCESS else "",
            "dacs_enrollment_id": external_id or None,  # a later failure keeps the id DACS gave before
            "dacs_result_at": message.finished_at if final else None,
        },
        entry_kind="enrollment_request",
        entry_text=text,
        devices={
            (str(asset["nicId"]), str(asset["headEndSystem"])): {
                "device_type": asset.get("assetType") or "",
                "specification": "!".join(filter(None, (asset.get("make"), asset.get("model")))),
            }
            for asset in assets
            if isinstance(asset, dict) and asset.get("nicId") and asset.get("headEndSystem")
        },
        keys=[
            ("cisAccountId", str(customer.get("cisAccountId") or "")),
            ("cisPremiseId", str(location.get("cisPremiseId") or "")),
            ("requestId", key),
            ("enrollmentId", external_id),
        ],
    )


def project(message: Message) -> None:
    rows = message.items.order_by("seq").values_list("key", "status", "external_id", "last_error", "data")
    changes = [
        request_change(message, key, status, external_id, error, data)
        for key, status, external_id, error, data in rows.iterator(chunk_size=2000)
        if isinstance(data, dict)
    ]
    enrollments_apply([c for c in changes if c.person and c.service_point and c.program], message)
