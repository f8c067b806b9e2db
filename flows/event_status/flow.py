"""Flow 8: program event status update, DERMS → hub → DACS, one acknowledgement per update → DERMS.

SCHEDULED creates the DACS program event; the other statuses go to its
lifecycle operation. An event's status moves forward only (409 stale_status
otherwise); a CANCELLED update is a flow 6 cancellation. The updates of one
event reach DACS one at a time, in the order the hub accepted them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from flows.device_reservations.flow import event_lock
from flows.event_cancellations.flow import LIFECYCLE
from flows.event_status import notify, services
from flows.event_status.models import EventStatus, StatusUpdate
from flows.event_status.samples import status_update
from flows.event_status.serializers import StatusUpdateMessage
from hub import partners
from hub.activity import activity_record
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus, ack_type
from hub.lookups import MissingTranslation, translate
from hub.models import Item, Message, System
from hub.payload import validated
from hub.timefmt import iso_z

PROGRAM_EVENT = partners.Operation(System.DACS, "programEvent", "DACS_PROGRAM_EVENT_PATH")
EVENT_STATUS_ACK = partners.Operation(System.DERMS, "event_status_ack", "DERMS_EVENT_STATUS_ACK_PATH")

# The lifecycle action for each status but SCHEDULED.
ACTIONS = {EventStatus.IN_PROGRESS: "X1IP", EventStatus.COMPLETED: "F1CO", EventStatus.CANCELLED: "F1CN"}
CATEGORY_LOOKUP = "program_event_category"


def dacs_request(update: StatusUpdate, item: Item) -> tuple[partners.Operation, dict]:
    """(operation, body) of the DACS call for an update; MissingTranslation for an unmapped event type."""
    event_id = item.key
    if update.status == EventStatus.SCHEDULED:
        data = item.data
        body = {
            "eventExternalIdentifier": event_id,
            "externalIdentifier": update.stage_id,
            "programExternalIdentifier": data["programCode"],
            "programEventCategory": translate(CATEGORY_LOOKUP, data["eventType"]),
            "startDateTime": data["startDateTime"],
            "endDateTime": data["endDateTime"],
        }
        return PROGRAM_EVENT, body
    body = {"action": ACTIONS[EventStatus(update.status)], "eventExternalIdentifier": event_id}
    if update.status == EventStatus.CANCELLED:
        body["cancelReason"] = item.data.get("cancelReason")
    return LIFECYCLE, body


class EventStatusUpdates(Flow):
    name = "event_status_updates"
    sender = System.DERMS
    path = "derms/event-status-updates"
    reply_partner = System.DERMS
    request_serializer = StatusUpdateMessage
    request_examples = {
        "scheduled": status_update("DRMS-EVS-0101", "EVT-2026-0042"),
        "cancelled": status_update(
            "DRMS-EVS-0102",
            "EVT-2026-0042",
            "CANCELLED",
            at="2026-12-01T12:00:00Z",
            reason="Forecast load below threshold",
        ),
    }

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(StatusUpdateMessage, payload)
        item = Item(
            seq=0,
            key=data["eventId"],
            data={
                "status": data["status"],
                "stageId": data["stageId"],
                "statusDateTime": iso_z(data["statusDateTime"]),
                "programCode": data.get("programCode"),
                "eventType": data.get("eventType"),
                "startDateTime": iso_z(data.get("startDateTime")),
                "endDateTime": iso_z(data.get("endDateTime")),
                "cancelReason": data.get("cancelReason"),
            },
        )

        def accept() -> None:
            services.update_accept(message=message, data=data, item=item, now=timezone.now())

        return Accepted(key=data["messageId"], items=[item], on_accept=[accept])

    # --- processing ----------------------------------------------------------
    def lock_name(self, message: Message) -> str:
        """The event's lock, shared with its reservations and cancellations (flows 5 and 6)."""
        return event_lock(message.items.values_list("key", flat=True).first() or str(message.id))

    def hold(self, message: Message) -> datetime | None:
        """Nothing is sent while the DACS call of an update of the event accepted earlier is not final
        (waiting for a retry included); that one wakes this one when it is."""
        update = StatusUpdate.objects.get(message=message)
        earlier = services.update_earlier_open(update=update)
        if earlier is None:
            return None
        activity_record(
            message=message,
            kind="waiting",
            text=f"Waits for the earlier update {earlier.message.message_key} ({earlier.status}) of its event",
        )
        # Later than a retry the runner would wait for in the task: the message is handed back, and the
        # event's lock with it, so the earlier update can run.
        wait = max(settings.EVENT_STATUS_RECHECK_S, settings.RETRY_HOLD_S + 1)
        return timezone.now() + timedelta(seconds=wait)

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        update = StatusUpdate.objects.select_related("event").get(message=message)
        outcomes = {}
        for item in items:
            later = services.update_superseded_by(update=update)
            if later is not None:
                # Resubmitted after a later update was applied: sending it would move the event back.
                text = f"Not sent: the later update {later.message.message_key} ({later.status}) is applied"
                services.update_not_applied(
                    update=update, state=StatusUpdate.State.ERROR, error=text, cancel_failed=False
                )
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=text)
                continue
            if update.status == EventStatus.CANCELLED and services.event_already_cancelled(event_id=item.key):
                activity_record(message=message, kind="already_cancelled", text=f"Event {item.key} is CANCELLED")
                services.update_applied(update=update, unchanged=True)
                outcomes[item.id] = Outcome(OutcomeStatus.SUCCESS)
                continue
            try:
                operation, body = dacs_request(update, item)
            except MissingTranslation as exc:
                services.update_not_applied(update=update, state=StatusUpdate.State.ERROR, error=str(exc))
                outcomes[item.id] = Outcome(OutcomeStatus.ERROR, error=str(exc))
                continue
            result = partners.call(operation, json_body=body, message=message, item=item)
            if result.ok:
                services.update_applied(update=update)
            elif not result.technical:
                services.update_not_applied(update=update, state=StatusUpdate.State.ERROR, error=result.error)
            outcomes[item.id] = Outcome.of(result)
        if any(outcome.status != OutcomeStatus.TECHNICAL for outcome in outcomes.values()):
            services.update_wake_next(update=update)  # it may go once this run lets go of the event's lock
        return outcomes

    # --- the acknowledgement -----------------------------------------------------
    def reply(self, message: Message) -> dict:
        item = message.items.get()
        return {
            "messageId": message.message_key,
            "eventId": item.key,
            "status": item.data["status"],
            "ackType": ack_type({item.status}),
            "message": item.last_error or None,
            "whenISO": iso_z(timezone.now()),
        }

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        return partners.call(EVENT_STATUS_ACK, json_body=body, message=message)

    def finished(self, message: Message, status: str) -> None:
        update = StatusUpdate.objects.select_related("event").get(message=message)
        item = message.items.get()
        if item.status == Item.Status.FAILURE:
            services.update_not_applied(update=update, state=StatusUpdate.State.FAILED, error=item.last_error)
        notify.status_update_emails(message=message, update=update, item=item)
        services.update_wake_next(update=update)

    # --- an update that ends abnormally --------------------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """Not applied; a cancellation's event goes back as flow 6's does; the next update may go."""
        update = StatusUpdate.objects.select_related("event").get(message=message)
        services.update_abandoned(update=update, item=message.items.get(), reason=reason)
        services.update_wake_next(update=update)
