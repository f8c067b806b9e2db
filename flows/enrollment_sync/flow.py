"""Flow 3, first half: DACS announces an enrollment or unenrollment; the hub forwards it to DERMS.

DERMS acknowledges in its answer, or answers 202 and posts the
acknowledgement later (flows/enrollment_sync/acks). This message owes DACS
the one acknowledgement, sent once the outcome is known (Flow.reply_due).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from flows.enrollment_sync import services
from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.notify import notify_overdue
from flows.enrollment_sync.samples import sync_request
from flows.enrollment_sync.serializers import SyncRequest
from flows.headend_registrations.services import registrations_from_ack
from hub import partners
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus
from hub.messages import message_reopen
from hub.models import Item, Message, System
from hub.payload import validated

DERMS_ENROLL = partners.Operation(System.DERMS, "enroll", "DERMS_ENROLL_PATH")
SYNC_ACK = partners.Operation(System.DACS, "sync_ack", "DACS_SYNC_ACK_PATH")

NAME = "enrollment_syncs"
ACKS = "enrollment_sync_acks"
SWEEP_BATCH = 500
FINISHED = (Message.Status.COMPLETED, Message.Status.COMPLETED_WITH_ERRORS, Message.Status.FAILED)


def derms_enrollment(payload: dict) -> dict:
    """The DERMS `enroll` body: DACS's body as written, with the contract's renamed fields."""
    body = {"dacsMessageId": payload["syncRequestId"]}
    body.update((k, v) for k, v in payload.items() if k != "syncRequestId")
    subscription = dict(payload["subscriptionInfo"])
    for old, new in (("startDateTime", "startDateTimeISO"), ("endDateTime", "endDateTimeISO")):
        if old in subscription:
            subscription[new] = subscription.pop(old)
    body["subscriptionInfo"] = subscription
    return body


def acknowledged_outcome(sync: EnrollmentSync) -> Outcome:
    if sync.derms_ack_type == "ERROR":
        return Outcome(OutcomeStatus.ERROR, error=sync.derms_message or "Refused by DERMS")
    return Outcome(OutcomeStatus.SUCCESS)


def outcome_of(sync: EnrollmentSync, result: partners.Result) -> Outcome:
    """The forward's outcome; an acknowledgement recorded meanwhile (by either path) decides it."""
    if sync.state == EnrollmentSync.State.ACKNOWLEDGED:
        return acknowledged_outcome(sync)
    if result.technical:
        return Outcome(OutcomeStatus.TECHNICAL, error=result.error, response=result.body)
    return Outcome(OutcomeStatus.SUCCESS, response=result.body)


class EnrollmentSyncs(Flow):
    name = NAME
    sender = System.DACS
    path = "dacs/enrollment-syncs"
    key_field = "syncRequestId"
    reply_partner = System.DACS
    request_serializer = SyncRequest
    request_examples = {"enrollment sync": sync_request("SYNC-555")}

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(SyncRequest, payload)
        devices = data["locationInfo"].get("controllableDevices") or []
        nic_id = (devices[0].get("nicId") or "") if devices else ""
        item = Item(seq=0, key=data["syncRequestId"], nic_id=nic_id[:200], data=derms_enrollment(payload))
        create = partial(services.sync_create, message=message, payload=data)
        return Accepted(key=data["syncRequestId"], items=[item], on_accept=[create])

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        sync_id = message.enrollment_sync.id
        for item in items:
            sync = EnrollmentSync.objects.get(id=sync_id)
            if sync.state == EnrollmentSync.State.ACKNOWLEDGED:
                # The acknowledgement came while the forward waited for a retry: nothing left to send.
                outcomes[item.id] = acknowledged_outcome(sync)
                continue
            result = partners.call(
                DERMS_ENROLL,
                json_body=item.data,
                message=message,
                item=item,
            )
            body = result.body if isinstance(result.body, dict) else {}
            if result.ok and "devices" in body:
                registrations_from_ack(source=message, sync_request_id=item.key, devices=body["devices"])
            ack_type = str(body.get("ackType") or "").upper()
            if result.ok and ack_type in ("SUCCESS", "ERROR"):
                services.sync_acknowledge(
                    sync_id=sync_id, ack_type=ack_type, text=body.get("message"), at=timezone.now()
                )
            elif result.ok:
                services.sync_forwarded(sync_id=sync_id)
            elif not result.technical:
                # DERMS refused the call itself: an ERROR acknowledgement in all but name.
                services.sync_acknowledge(sync_id=sync_id, ack_type="ERROR", text=result.error, at=timezone.now())
            outcomes[item.id] = outcome_of(EnrollmentSync.objects.get(id=sync_id), result)
        return outcomes

    # --- the one acknowledgement DACS gets ---------------------------------------
    def reply_due(self, message: Message) -> bool:
        sync = EnrollmentSync.objects.get(sync_message=message)
        if sync.state in (EnrollmentSync.State.ACKNOWLEDGED, EnrollmentSync.State.FAILED):
            return True
        return message.items.filter(status=Item.Status.FAILURE).exists()

    def reply(self, message: Message) -> dict:
        sync = EnrollmentSync.objects.get(sync_message=message)
        if sync.state in EnrollmentSync.OPEN and services.sync_fail(sync_id=sync.id):
            sync.refresh_from_db()
        error = message.items.values_list("last_error", flat=True).first() or ""
        return services.dacs_ack_body(sync, failure=f"DERMS could not be reached: {error}"[:500])

    def send_reply(self, message: Message, body: dict) -> partners.Result:
        result = partners.call(SYNC_ACK, json_body=body, message=message)
        if result.ok:
            services.sync_dacs_acked(sync_id=message.enrollment_sync.id, status=body["status"])
        return result

    # --- a sync that ends abnormally -----------------------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """A sync still waiting for DERMS's acknowledgement fails."""
        services.sync_fail(sync_id=message.enrollment_sync.id)

    def failure_reply(self, message: Message, *, reason: str) -> dict | None:
        """FAILURE with the reason, unless DACS has been acknowledged already."""
        sync = EnrollmentSync.objects.get(sync_message=message)
        if sync.dacs_acked_at:
            return None
        if sync.state in EnrollmentSync.OPEN and services.sync_fail(sync_id=sync.id):
            sync.refresh_from_db()
        return {**services.dacs_ack_body(sync), "status": "FAILURE", "message": reason}

    # --- the sweeper ------------------------------------------------------------
    def sweep(self) -> None:
        cutoff = timezone.now() - timedelta(seconds=settings.SYNC_ACK_OVERDUE_S)
        waiting = EnrollmentSync.objects.filter(
            state__in=EnrollmentSync.OPEN,
            overdue_at__isnull=True,
            received_at__lt=cutoff,
            sync_message__accepted_key__isnull=False,
        )
        flagged = [
            sync_id
            for sync_id in waiting.values_list("id", flat=True)[:SWEEP_BATCH]
            if services.sync_flag_overdue(sync_id=sync_id)
        ]
        if flagged:
            notify_overdue(sync_ids=flagged)
        # Repeated every pass: an acknowledgement recorded while the sync's message was finishing
        # is sent once that message has finished.
        owed = EnrollmentSync.objects.filter(
            state__in=(EnrollmentSync.State.ACKNOWLEDGED, EnrollmentSync.State.FAILED),
            dacs_acked_at__isnull=True,
            sync_message__reply_status=Message.Reply.NONE,
            sync_message__status__in=FINISHED,
        )
        for message_id in owed.values_list("sync_message_id", flat=True)[:SWEEP_BATCH]:
            message_reopen(message_id=message_id, text="DERMS's acknowledgement is owed to DACS")
