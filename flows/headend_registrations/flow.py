"""Flow 9: DERMS reports each device's head-end registration; the hub passes it on to DACS.

Reports come on their own endpoint, or as the `devices` of DERMS's flow 3 acknowledgement
(taken in as messages of this flow: services.registrations_from_ack). DACS gets them in
collections of 500, the registration translated by lookup. The hub keeps each device's
latest registration.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Q

from flows.enrollment_sync.flow import NAME as SYNCS
from flows.headend_registrations import services
from flows.headend_registrations.samples import registration_message
from flows.headend_registrations.serializers import MAX_DEVICES, RegistrationMessage
from hub import partners
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus, correlated
from hub.lookups import MissingTranslation, translate
from hub.models import Item, Message, System
from hub.notify import email_send
from hub.payload import Rejection, validated

REGISTRATION_ACK = partners.Operation(System.DACS, "postAcknowledgement", "DACS_REGISTRATION_ACK_PATH")
LOOKUP = "headend_registration"
COLLECTION_SIZE = 500
LISTED = 200


def devices_checked(payload: Any) -> None:
    """What the serializer does not say, or says only after reading every row: too many devices,
    and one device reported twice."""
    devices = payload.get("devices") if isinstance(payload, dict) else None
    if not isinstance(devices, list):
        return
    if len(devices) > MAX_DEVICES:
        raise Rejection(400, "validation_failed", {"devices": [f"At most {MAX_DEVICES} devices, not {len(devices)}."]})
    seen: dict[tuple, int] = {}
    for index, device in enumerate(devices):
        if not isinstance(device, dict):
            continue
        key = (device.get("nicId"), device.get("headEndSystem"))
        if not all(isinstance(part, str) for part in key):
            continue  # the serializer names a missing or mistyped key
        if key in seen:
            raise Rejection(
                400,
                "validation_failed",
                {f"devices[{index}]": [f"The same nicId and headEndSystem as devices[{seen[key]}]."]},
            )
        seen.setdefault(key, index)


def dacs_device(device: dict) -> dict:
    return {
        "deviceId": device.get("deviceId"),
        "nicId": device["nicId"],
        "headEndSystem": device["headEndSystem"],
        "headEndRegistration": translate(LOOKUP, device["registration"]),
        "message": device.get("message"),
    }


class HeadendRegistrations(Flow):
    name = services.NAME
    sender = System.DERMS
    path = "derms/headend-registrations"
    partner = System.DACS
    unit_size = COLLECTION_SIZE
    request_serializer = RegistrationMessage
    request_examples = {"registration status": registration_message()}

    def validate(self, message: Message, payload: Any) -> Accepted:
        devices_checked(payload)
        data = validated(RegistrationMessage, payload)
        sync_id = data.get("dacsMessageId") or ""
        if sync_id:
            correlated(message, flow=SYNCS, key=sync_id, field="dacsMessageId", label="enrollment sync")
        devices = payload["devices"]
        items = [
            Item(seq=n, key=device["nicId"], nic_id=device["nicId"], data=device) for n, device in enumerate(devices)
        ]
        record = partial(services.registrations_record, message=message, devices=devices, sync_request_id=sync_id)
        return Accepted(key=data["messageId"], items=items, ack_extra={"deviceCount": len(items)}, on_accept=[record])

    def units(self, message: Message, items: list[Item]) -> list[list[Item]]:
        """Whole collections by position in the message: a collection sent again holds the same devices
        (its items may fall due at slightly different times, so each collection named is read whole)."""
        size = self.unit_size
        ranges = Q()
        for number in sorted({item.seq // size for item in items}):
            ranges |= Q(seq__gte=number * size, seq__lt=(number + 1) * size)
        collections: dict[int, list[Item]] = {}
        for item in message.items.filter(ranges, status__in=Item.OPEN).order_by("seq"):
            collections.setdefault(item.seq // size, []).append(item)
        return list(collections.values())

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        sendable, devices = [], []
        for item in items:
            try:
                devices.append(dacs_device(item.data))
            except MissingTranslation as exc:
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=str(exc))
                continue
            sendable.append(item)
        if not sendable:
            return outcomes
        sync_id = (
            Message.objects.filter(id=message.related_id).values_list("accepted_key", flat=True).first()
            if message.related_id is not None
            else None
        )
        body = {
            "syncRequestId": sync_id,
            "hasError": any(item.data["registration"] == "NOT_REGISTERED" for item in sendable),
            "deviceHeadendStatus": {"devices": devices},
        }
        outcome = Outcome.of(partners.call(REGISTRATION_ACK, json_body=body, message=message, item=sendable[0]))
        outcomes.update((item.id, outcome) for item in sendable)
        return outcomes

    def finished(self, message: Message, status: str) -> None:
        refused = message.items.filter(status=Item.Status.ERROR)
        count = refused.count()
        if count:
            email_send(
                kind="registration_error",
                subject=f"Head-end registrations {message.message_key}: {count} not passed to DACS",
                recipients=settings.NOTIFY_BUSINESS_EMAILS,
                context={
                    "message": message,
                    "refused": list(refused.order_by("seq").values("nic_id", "last_error")[:LISTED]),
                    "count": count,
                },
                message=message,
            )
        super().finished(message, status)
