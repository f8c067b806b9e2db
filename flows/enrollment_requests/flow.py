"""Flow 1: enrollment requests, DERMS → hub → DACS, one overall response → DERMS."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from flows.enrollment_requests.samples import enrollment_message
from flows.enrollment_requests.serializers import EnrollmentMessage
from hub import partners
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus, ack_type
from hub.lookups import MissingTranslation, translate
from hub.models import Item, Message, System
from hub.payload import validated
from hub.timefmt import iso_z, parse_offset_datetime

ENROLL = partners.Operation(System.DACS, "enroll", "DACS_ENROLL_PATH")
ENROLLMENT_RESPONSE = partners.Operation(System.DERMS, "enrollment_response", "DERMS_ENROLLMENT_RESPONSE_PATH")

ALREADY_ENROLLED = 10589


def dacs_enrollment(message_id: str, request: dict) -> dict:
    """The DACS `enroll` body for one request (raises MissingTranslation)."""
    customer, program = request["customerInfo"], request["programInfo"]
    location, assets = request["locationInfo"], request["assetInfo"]
    devices = []
    for asset in assets["assetList"]:
        make, model = asset.get("make"), asset.get("model")
        devices.append(
            {
                "sequence": asset.get("sequence"),
                "assetId": asset.get("assetId"),
                "specification": translate("asset_specification", f"{make}!{model}") if make and model else None,
                "assetType": translate("asset_type", asset.get("assetType")),
                "badgeNo": asset.get("badgeNo"),
                "serialNo": asset.get("serialNo"),
                "nicId": asset["nicId"],
                "headEndSystem": asset["headEndSystem"],
            }
        )
    return {
        "transactionId": f"{message_id}:{request['requestId']}",
        "enrollmentSource": settings.DACS_ENROLLMENT_SOURCE,
        "customer": {
            key: customer.get(key)
            for key in ("cisPersonId", "cisAccountId", "name", "homePhone", "businessPhone", "email")
        },
        "program": {
            "cisServiceAgreementId": program.get("cisServiceAgreementId"),
            "programCode": program["programCode"],
            # The date in the request's own offset (the location's local date), whatever ISO form it was written in.
            "startDate": parse_offset_datetime(program["startDateTimeISO"]).date().isoformat(),
        },
        "location": {
            key: location.get(key)
            for key in (
                "locationId",
                "division",
                "cisPremiseId",
                "cisServicePointId",
                "timeZone",
                "address1",
                "city",
                "county",
                "state",
                "postal",
                "country",
            )
        },
        "asset": {
            "installationMethod": translate("installation_method", assets.get("installationMethod")),
            "assetOwnership": translate("asset_ownership", assets.get("assetOwnership")),
            "devices": devices,
        },
    }


def outcome_of(result: partners.Result) -> Outcome:
    body = result.body if isinstance(result.body, dict) else {}
    enrollment_id = str(body.get("enrollmentId") or "")
    if result.ok:
        return Outcome(OutcomeStatus.SUCCESS, external_id=enrollment_id, response=result.body)
    if result.technical:
        return Outcome(OutcomeStatus.TECHNICAL, error=result.error, response=result.body)
    number = body.get("messageNumber")
    try:
        number = int(number) if number is not None else None
    except (TypeError, ValueError):
        number = None
    if number == ALREADY_ENROLLED:
        return Outcome(OutcomeStatus.SUCCESS, external_id=enrollment_id, message_number=number, response=result.body)
    return Outcome(OutcomeStatus.ERROR, error=result.error, message_number=number, response=result.body)


class EnrollmentRequests(Flow):
    name = "enrollment_requests"
    sender = System.DERMS
    path = "derms/enrollment-requests"
    partner = System.DACS
    reply_partner = System.DERMS
    request_serializer = EnrollmentMessage
    request_examples = {"enrollment collection": enrollment_message("DRMS-ENR-20261126-0001", 1)}

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(EnrollmentMessage, payload)
        # Items keep the request exactly as DERMS wrote it (timestamps included).
        raw_requests = payload["enrollmentRequests"]
        items = [
            Item(
                seq=index,
                key=request["requestId"],
                nic_id=request["assetInfo"]["assetList"][0]["nicId"][:200],
                data=raw_requests[index],
            )
            for index, request in enumerate(data["enrollmentRequests"])
        ]
        return Accepted(key=data["messageId"], items=items, ack_extra={"requestCount": len(items)})

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        for item in items:
            try:
                body = dacs_enrollment(message.message_key, item.data)
            except MissingTranslation as exc:
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=str(exc))
                continue
            result = partners.call(
                ENROLL,
                json_body=body,
                message=message,
                item=item,
            )
            outcomes[item.id] = outcome_of(result)
        return outcomes

    def reply(self, message: Message) -> dict:
        responses = []
        statuses = set()
        for key, status, external_id, number, error in message.items.order_by("seq").values_list(
            "key", "status", "external_id", "message_number", "last_error"
        ):
            statuses.add(status)
            responses.append(
                {
                    "requestId": key,
                    "responseCode": status,
                    "enrollmentId": external_id or None,
                    "messageNumber": number if status != Item.Status.SUCCESS else None,
                    "message": error or None if status != Item.Status.SUCCESS else None,
                }
            )
        return {
            "messageId": message.message_key,
            "ackType": ack_type(statuses),
            "whenISO": iso_z(timezone.now()),
            "responses": responses,
        }

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        return partners.call(
            ENROLLMENT_RESPONSE,
            json_body=body,
            message=message,
        )
