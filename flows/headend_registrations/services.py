"""Writes of flow 9: each device's latest registration, and the reports DERMS puts in its flow 3
acknowledgements, taken in as flow 9 messages of their own."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction

from flows.headend_registrations.models import DeviceRegistration
from hub.activity import activity_record
from hub.bulk import items_insert
from hub.messages import acknowledgement, message_enqueue
from hub.models import Message, System
from hub.payload import Rejection
from hub.registry import flow_for

NAME = "headend_registrations"
BATCH = 1000


def registrations_record(*, message: Message, devices: list[dict], sync_request_id: str) -> None:
    """Each reported device's registration becomes its latest (one row per nicId and head end)."""
    rows = [
        DeviceRegistration(
            nic_id=device["nicId"],
            head_end_system=device["headEndSystem"],
            device_id=device.get("deviceId") or "",
            registration=device["registration"],
            text=device.get("message") or "",
            sync_request_id=sync_request_id,
            reported_at=message.received_at,
            report=message,
        )
        for device in devices
    ]
    DeviceRegistration.objects.bulk_create(
        rows,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["nic_id", "head_end_system"],
        update_fields=["device_id", "registration", "text", "sync_request_id", "reported_at", "report"],
    )


def registrations_from_ack(*, source: Message, sync_request_id: str, devices: Any) -> Message:
    """The `devices` DERMS put in its flow 3 acknowledgement (`source`: the sync's message for an
    immediate answer, the acknowledgement's message for a later one), taken in as a flow 9 message.

    Its key is made from the source and the list, so a source processed twice makes one message.
    A list the flow refuses is kept as a rejected message, noted on the source's timeline.
    """
    payload = {"messageId": "", "dacsMessageId": sync_request_id, "devices": devices}
    digest = hashlib.sha256(json.dumps(devices, sort_keys=True, default=str).encode()).hexdigest()[:16]
    payload["messageId"] = f"{source.flow}:{source.accepted_key or source.id}:{digest}"[-200:]
    raw = json.dumps(payload).encode()
    message = Message.objects.create(
        flow=NAME,
        sender=System.DERMS,
        method="POST",
        path=f"(devices in {source.flow} {source.message_key})"[:300],
        content_type="application/json",
        raw_body=raw,
        body_size=len(raw),
        message_key=payload["messageId"],
        related=source,
    )
    flow = flow_for(NAME)
    try:
        accepted = flow.validate(message, payload)
    except Rejection as rejection:
        errors = {"trackingId": str(message.tracking_id), "error": rejection.error, "message": rejection.message}
        Message.objects.filter(id=message.id).update(
            status=Message.Status.REJECTED,
            http_status=rejection.status,
            errors={**errors, "details": rejection.details},
        )
        activity_record(message=message, kind="rejected", text=f"{rejection.status} {rejection.message}")
        activity_record(
            message=source, kind="registrations_refused", text=f"Devices' registrations refused: {rejection.message}"
        )
        return message
    # validate() linked the sync as `related`; the source stays findable from the message's path and timeline.
    try:
        with transaction.atomic():
            Message.objects.filter(id=message.id).update(
                ack=acknowledgement(message, accepted.key, accepted.ack_extra),
                accepted_key=accepted.key,
                status=Message.Status.QUEUED,
                http_status=202,
            )
            for write in accepted.on_accept:
                write()
            for item in accepted.items:
                item.message = message
            items_insert(items=accepted.items)
            activity_record(message=message, kind="accepted", text=f"{len(accepted.items)} item(s) from {source}")
            message_enqueue(message_id=message.id)
    except IntegrityError:
        first = Message.objects.filter(flow=NAME, accepted_key=accepted.key).first()
        if first is None:
            raise
        Message.objects.filter(id=message.id).update(status=Message.Status.DUPLICATE, duplicate_of=first)
        return first
    activity_record(message=source, kind="registrations", text=f"{len(accepted.items)} device registration(s) taken in")
    return message
