"""Flow 7: event device outcome, DERMS → hub → DACS in collections, one acknowledgement → DERMS."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from flows.device_reservations import availability
from flows.device_reservations.devices import device_list_parse, device_list_validate
from flows.device_reservations.flow import event_lock, whole_collections
from flows.event_outcomes import notify
from flows.event_outcomes.models import DeviceOutcome, OutcomeReport
from flows.event_outcomes.outcomes import (
    outcome_counts,
    outcomes_fail_pending,
    outcomes_record,
    outcomes_sync_failures,
)
from flows.event_outcomes.prepare import outcome_prepare
from flows.event_outcomes.rows import OutcomeCheck
from flows.event_outcomes.samples import outcome_message
from flows.event_outcomes.serializers import OutcomeForm, OutcomeHeader, OutcomeMessage
from hub import partners
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus
from hub.lookups import MissingTranslation, translate
from hub.models import Item, Message, System
from hub.timefmt import iso_z

POST_OUTCOME = partners.Operation(System.DACS, "postEventOutcome", "DACS_EVENT_OUTCOME_PATH")
OUTCOME_ACK = partners.Operation(System.DERMS, "event_outcome_ack", "DERMS_EVENT_OUTCOME_ACK_PATH")

MAX_FAILURES_LISTED = 1000


def report_record(*, message: Message, event_id: str, device_count: int, collection_size: int) -> OutcomeReport:
    return OutcomeReport.objects.create(
        message=message, event_id=event_id, device_count=device_count, collection_size=collection_size
    )


class EventOutcomes(Flow):
    name = "event_outcomes"
    sender = System.DERMS
    path = "derms/event-outcomes"
    content_types = ("application/json", "multipart/form-data")
    reply_partner = System.DERMS
    request_serializer = {"application/json": OutcomeMessage, "multipart/form-data": OutcomeForm}
    request_examples = {"outcome": outcome_message("DRMS-OUT-0042", "EVT-2026-0042", 1)}

    @property
    def unit_size(self) -> int:
        return settings.OUTCOME_COLLECTION_SIZE

    # --- inbound -------------------------------------------------------------
    def parse(self, request, body: bytes) -> Any:
        return device_list_parse(request.META.get("CONTENT_TYPE", ""), body, list_field="outcomeList")

    def validate(self, message: Message, payload: Any) -> Accepted:
        header, check = device_list_validate(
            message,
            payload,
            header_serializer=OutcomeHeader,
            list_field="outcomeList",
            check_for=lambda header, csv_file: OutcomeCheck(csv_file=csv_file),
        )
        # An event the hub has not seen is forwarded all the same: DACS decides.
        record = partial(
            report_record,
            message=message,
            event_id=header["eventId"],
            device_count=check.count,
            collection_size=settings.OUTCOME_COLLECTION_SIZE,
        )
        return Accepted(key=header["messageId"], items=[], ack_extra={"deviceCount": check.count}, on_accept=[record])

    # --- processing ----------------------------------------------------------
    def lock_name(self, message: Message) -> str:
        """Outcomes of an event wait for its other messages (a reservation, a cancellation), as they wait for them."""
        event_id = OutcomeReport.objects.filter(message=message).values_list("event_id", flat=True).first()
        return event_lock(event_id or str(message.id))

    def hold(self, message: Message) -> datetime | None:
        report = OutcomeReport.objects.get(message=message)
        if not report.prepared:
            outcome_prepare(report=report)
        if not message.items.filter(status__in=Item.OPEN).exists():
            return None
        return availability.dacs_hold(reservation=report, message=message)

    def units(self, message: Message, items: list[Item]) -> list[list[Item]]:
        size, count = OutcomeReport.objects.filter(message=message).values_list("collection_size", "device_count").get()
        return whole_collections(message, items, size=size, count=count)

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        event_id = OutcomeReport.objects.filter(message=message).values_list("event_id", flat=True).get()
        outcomes: dict[int, Outcome] = {}
        sendable, entries = [], []
        for item in items:
            try:
                code = translate("event_outcome", item.data["o"])
            except MissingTranslation as exc:
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=str(exc))
                outcomes_record(message=message, seqs=[item.seq], state=DeviceOutcome.State.ERROR, error=str(exc))
                continue
            sendable.append(item)
            entries.append(
                {
                    "eventExternalIdentifier": event_id,
                    "nicId": item.nic_id,
                    "headEndSystem": item.data["h"],
                    "outcome": code,
                    "participationStartDateTime": item.data.get("s"),
                    "participationEndDateTime": item.data.get("e"),
                    "errorMessage": item.data.get("m"),
                }
            )
        if not sendable:
            return outcomes
        result = partners.call(POST_OUTCOME, json_body={"postOutcomeList": entries}, message=message)
        seqs = [item.seq for item in sendable]
        if result.technical:
            availability.dacs_suspect(message=message)
            outcomes.update({item.id: Outcome(OutcomeStatus.TECHNICAL, error=result.error) for item in sendable})
        elif not result.ok:
            outcomes_record(message=message, seqs=seqs, state=DeviceOutcome.State.ERROR, error=result.error)
            outcomes.update({item.id: Outcome(OutcomeStatus.ERROR, error=result.error) for item in sendable})
        else:
            outcomes.update(self._per_device(message, sendable, result.body))
        return outcomes

    def _per_device(self, message: Message, items: list[Item], body: Any) -> dict[int, Outcome]:
        results = body.get("results") if isinstance(body, dict) else None
        said: dict[tuple[Any, Any], dict] = {}
        for row in results if isinstance(results, list) else []:
            if isinstance(row, dict):
                said[(row.get("nicId"), row.get("headEndSystem"))] = row
        outcomes: dict[int, Outcome] = {}
        posted: list[int] = []
        refused: dict[str, list[int]] = {}
        for item in items:
            row = said.get((item.nic_id, item.data["h"]))
            # A device DACS does not list counts as posted.
            if row is None or str(row.get("status", "")).upper() == "POSTED":
                outcomes[item.id] = Outcome(OutcomeStatus.SUCCESS)
                posted.append(item.seq)
            else:
                text = str(row.get("message") or row.get("status") or "Refused")[:1000]
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=text)
                refused.setdefault(text, []).append(item.seq)
        if posted:
            outcomes_record(message=message, seqs=posted, state=DeviceOutcome.State.POSTED)
        for text, seqs in refused.items():
            outcomes_record(message=message, seqs=seqs, state=DeviceOutcome.State.ERROR, error=text)
        return outcomes

    # --- the acknowledgement ---------------------------------------------------
    def reply(self, message: Message) -> dict:
        counts = outcome_counts(message)
        failures = [
            {"recordId": int(key), "nicId": nic_id, "headEndSystem": data.get("h"), "message": error}
            for key, nic_id, data, error in message.items.exclude(status__in=(*Item.OPEN, Item.Status.SUCCESS))
            .order_by("seq")
            .values_list("key", "nic_id", "data", "last_error")[:MAX_FAILURES_LISTED]
        ]
        event_id = OutcomeReport.objects.filter(message=message).values_list("event_id", flat=True).get()
        return {
            "messageId": message.message_key,
            "eventId": event_id,
            "ackType": "FAILURE" if counts["failure"] else "ERROR" if counts["error"] else "SUCCESS",
            "whenISO": iso_z(timezone.now()),
            "deviceCount": counts["total"],
            "postedCount": counts["posted"],
            "failedCount": counts["error"] + counts["failure"],
            "failures": failures,
        }

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        return partners.call(OUTCOME_ACK, json_body=body, message=message)

    def finished(self, message: Message, status: str) -> None:
        outcomes_sync_failures(message=message)
        report = OutcomeReport.objects.get(message=message)
        notify.outcome_emails(message=message, report=report, counts=outcome_counts(message))

    # --- a message that ends abnormally ----------------------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """Outcomes of the message end as their items did (FAILURE: FAILED); those never made into items too."""
        outcomes_sync_failures(message=message)
        outcomes_fail_pending(message=message, error=reason)

    def failure_reply(self, message: Message, *, reason: str) -> dict | None:
        body = super().failure_reply(message, reason=reason)
        if body is None:
            return None
        # Devices never made into items (the message ended before its preparation) count as failed.
        count = OutcomeReport.objects.filter(message=message).values_list("device_count", flat=True).get()
        body["failedCount"] += count - body["deviceCount"]
        body["deviceCount"] = count
        return body
