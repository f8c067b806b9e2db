"""Flow 5: device reservation, DERMS → hub → DACS in collections, one acknowledgement → DERMS."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from flows.device_reservations import availability, notify
from flows.device_reservations.devices import DeviceCheck, device_list_parse, device_list_validate
from flows.device_reservations.events import (
    devices_fail_pending,
    devices_record,
    devices_sync_failures,
    event_reserve,
    event_settle,
)
from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from flows.device_reservations.prepare import reservation_prepare
from flows.device_reservations.samples import reservation_message
from flows.device_reservations.serializers import ReservationForm, ReservationHeader, ReservationMessage
from hub import partners
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus
from hub.lookups import MissingTranslation, translate
from hub.messages import item_counts
from hub.models import Item, Message, System
from hub.timefmt import iso_z

RESERVE = partners.Operation(System.DACS, "reserveDevice", "DACS_RESERVE_PATH")
RESERVATION_ACK = partners.Operation(System.DERMS, "reservation_ack", "DERMS_RESERVATION_ACK_PATH")

MAX_FAILURES_LISTED = 1000
CANCELLED_TEXT = "Event cancelled before this collection was sent"


def event_lock(event_id: str) -> str:
    """The lock every message about one program event takes while it is processed."""
    return f"program-event:{event_id}"


class DeviceReservations(Flow):
    name = "device_reservations"
    sender = System.DERMS
    path = "derms/device-reservations"
    content_types = ("application/json", "multipart/form-data")
    reply_partner = System.DERMS
    request_serializer = {"application/json": ReservationMessage, "multipart/form-data": ReservationForm}
    request_examples = {"reservation": reservation_message("DRMS-RSV-0042", "EVT-2026-0042", 1)}

    @property
    def unit_size(self) -> int:
        return settings.RESERVATION_COLLECTION_SIZE

    # --- inbound -------------------------------------------------------------
    def parse(self, request, body: bytes) -> Any:
        return device_list_parse(request.META.get("CONTENT_TYPE", ""), body, list_field="deviceList")

    def validate(self, message: Message, payload: Any) -> Accepted:
        header, check = device_list_validate(
            message,
            payload,
            header_serializer=ReservationHeader,
            list_field="deviceList",
            check_for=lambda header, csv_file: DeviceCheck(
                header["eventStartDateTime"] if header else None,
                header["eventEndDateTime"] if header else None,
                csv_file=csv_file,
            ),
        )
        reserve = partial(
            event_reserve,
            message=message,
            header=header,
            device_count=check.count,
            collection_size=settings.RESERVATION_COLLECTION_SIZE,
        )
        return Accepted(key=header["messageId"], items=[], ack_extra={"deviceCount": check.count}, on_accept=[reserve])

    # --- processing ----------------------------------------------------------
    def lock_name(self, message: Message) -> str:
        event_id = ProgramEvent.objects.filter(reservations__message=message).values_list("event_id", flat=True)
        return event_lock(event_id.first() or str(message.id))

    def hold(self, message: Message) -> datetime | None:
        reservation = Reservation.objects.select_related("event").get(message=message)
        if not reservation.prepared:
            reservation_prepare(reservation=reservation)
        open_items = message.items.filter(status__in=Item.OPEN)
        if reservation.event.status in ProgramEvent.STOPPED:
            open_items.update(status=Item.Status.CANCELLED, last_error=CANCELLED_TEXT, next_attempt_at=None)
            return None
        if not open_items.exists():
            return None
        return availability.dacs_hold(reservation=reservation, message=message)

    def units(self, message: Message, items: list[Item]) -> list[list[Item]]:
        size, count = Reservation.objects.filter(message=message).values_list("collection_size", "device_count").get()
        return whole_collections(message, items, size=size, count=count)

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        event = ProgramEvent.objects.get(reservations__message=message)
        seqs = [item.seq for item in items]
        if event.status in ProgramEvent.STOPPED:
            devices_record(message=message, seqs=seqs, state=EventDevice.State.CANCELLED, error=CANCELLED_TEXT)
            return {item.id: Outcome(OutcomeStatus.CANCELLED, error=CANCELLED_TEXT) for item in items}
        try:
            event_type = translate("event_type", event.event_type)
        except MissingTranslation as exc:
            devices_record(message=message, seqs=seqs, state=EventDevice.State.ERROR, error=str(exc))
            return {item.id: Outcome(OutcomeStatus.ERROR, error=str(exc)) for item in items}
        start, end = iso_z(event.start), iso_z(event.end)
        body = {
            "eventExternalIdentifier": event.event_id,
            "eventType": event_type,
            "eventStartDateTime": start,
            "eventEndDateTime": end,
            "deviceList": [
                {
                    "headEndSystem": item.data["h"],
                    "nicId": item.nic_id,
                    "reservationStartDateTime": item.data.get("s", start),
                    "reservationEndDateTime": item.data.get("e", end),
                }
                for item in items
            ],
        }
        result = partners.call(RESERVE, json_body=body, message=message)
        if result.technical:
            availability.dacs_suspect(message=message)
            return {item.id: Outcome(OutcomeStatus.TECHNICAL, error=result.error) for item in items}
        if not result.ok:
            devices_record(message=message, seqs=seqs, state=EventDevice.State.ERROR, error=result.error)
            return {item.id: Outcome(OutcomeStatus.ERROR, error=result.error) for item in items}
        return self._per_device(message, items, result.body)

    def _per_device(self, message: Message, items: list[Item], body: Any) -> dict[int, Outcome]:
        results = body.get("results") if isinstance(body, dict) else None
        said = {}
        for row in results if isinstance(results, list) else []:
            if isinstance(row, dict):
                said[(row.get("nicId"), row.get("headEndSystem"))] = row
        outcomes, reserved = {}, []
        refused: dict[str, list[int]] = {}
        for item in items:
            row = said.get((item.nic_id, item.data["h"]))
            # A device DACS does not list counts as reserved.
            if row is None or str(row.get("status", "")).upper() == "RESERVED":
                outcomes[item.id] = Outcome(OutcomeStatus.SUCCESS)
                reserved.append(item.seq)
            else:
                text = str(row.get("message") or row.get("status") or "Refused")[:1000]
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=text)
                refused.setdefault(text, []).append(item.seq)
        if reserved:
            devices_record(message=message, seqs=reserved, state=EventDevice.State.RESERVED)
        for text, seqs in refused.items():
            devices_record(message=message, seqs=seqs, state=EventDevice.State.ERROR, error=text)
        return outcomes

    # --- the acknowledgement ---------------------------------------------------
    def reply(self, message: Message) -> dict:
        counts = reservation_counts(message)
        failures = [
            {"recordId": int(key), "nicId": nic_id, "headEndSystem": data.get("h"), "message": error}
            for key, nic_id, data, error in message.items.filter(status__in=(Item.Status.ERROR, Item.Status.FAILURE))
            .order_by("seq")
            .values_list("key", "nic_id", "data", "last_error")[:MAX_FAILURES_LISTED]
        ]
        event_id = ProgramEvent.objects.filter(reservations__message=message).values_list("event_id", flat=True).get()
        return {
            "messageId": message.message_key,
            "eventId": event_id,
            "ackType": "FAILURE" if counts["failure"] else "ERROR" if counts["error"] else "SUCCESS",
            "whenISO": iso_z(timezone.now()),
            "deviceCount": counts["total"],
            "reservedCount": counts["reserved"],
            "failedCount": counts["error"] + counts["failure"],
            "cancelledCount": counts["cancelled"],
            "failures": failures,
        }

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        return partners.call(RESERVATION_ACK, json_body=body, message=message)

    def finished(self, message: Message, status: str) -> None:
        devices_sync_failures(message=message)
        reservation = Reservation.objects.select_related("event").get(message=message)
        event_settle(event=reservation.event)
        notify.reservation_emails(message=message, reservation=reservation, counts=reservation_counts(message))

    # --- a reservation that ends abnormally ----------------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """Devices of the message end as their items did (FAILURE: FAILED); the event settles without it."""
        devices_sync_failures(message=message)
        devices_fail_pending(message=message, error=reason)
        reservation = Reservation.objects.select_related("event").get(message=message)
        event_settle(event=reservation.event, ended=message)

    def failure_reply(self, message: Message, *, reason: str) -> dict | None:
        body = super().failure_reply(message, reason=reason)
        if body is None:
            return None
        # Devices never made into items (the message ended before its preparation) count as failed.
        count = Reservation.objects.filter(message=message).values_list("device_count", flat=True).get()
        body["failedCount"] += count - body["deviceCount"]
        body["deviceCount"] = count
        return body


def whole_collections(message: Message, items: list[Item], *, size: int, count: int) -> list[list[Item]]:
    """Whole collections, numbered by position in the message: a resent collection holds the same devices.

    Items of one collection may fall due at slightly different times (retry jitter), so each
    collection named in `items` is read whole. `count`: the devices of the message.
    """
    collections: dict[int, list[Item]] = {}
    for item in items:
        collections.setdefault(item.seq // size, []).append(item)
    partial = [n for n, unit in collections.items() if len(unit) < min(size, count - n * size)]
    if partial:
        ranges = Q()
        for number in partial:
            ranges |= Q(seq__gte=number * size, seq__lt=(number + 1) * size)
            collections[number] = []
        for item in message.items.filter(ranges, status__in=Item.OPEN).order_by("seq"):
            collections[item.seq // size].append(item)
    return [unit for unit in collections.values() if unit]


def reservation_counts(message: Message) -> dict[str, int]:
    by_status = item_counts(message)
    return {
        "total": sum(by_status.values()),
        "reserved": by_status.get(Item.Status.SUCCESS, 0),
        "error": by_status.get(Item.Status.ERROR, 0),
        "failure": by_status.get(Item.Status.FAILURE, 0),
        "cancelled": by_status.get(Item.Status.CANCELLED, 0),
    }
