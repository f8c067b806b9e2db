"""Flow 3, second half: DERMS posts its acknowledgement of a sync later.

The acknowledgement is recorded on the sync (first one wins) and the sync's
own message, which owes DACS its acknowledgement, is queued again to send it.
"""

from __future__ import annotations

from typing import Any

from flows.enrollment_sync import services
from flows.enrollment_sync.flow import ACKS
from flows.enrollment_sync.flow import NAME as SYNCS
from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import UNKNOWN_PERSON, sync_ack
from flows.enrollment_sync.serializers import SyncAck
from flows.headend_registrations.services import registrations_from_ack
from hub.activity import activity_record
from hub.flow import Accepted, Flow, Outcome, OutcomeStatus, correlated
from hub.messages import message_reopen
from hub.models import Item, Message, System
from hub.payload import validated


class EnrollmentSyncAcks(Flow):
    name = ACKS
    sender = System.DERMS
    path = "derms/enrollment-sync-acks"
    key_field = "dacsMessageId"
    request_serializer = SyncAck
    request_examples = {"acknowledgement": sync_ack("SYNC-555", "ERROR", UNKNOWN_PERSON)}

    def validate(self, message: Message, payload: Any) -> Accepted:
        data = validated(SyncAck, payload)
        key = data["dacsMessageId"]
        correlated(message, flow=SYNCS, key=key, field="dacsMessageId", label="enrollment sync")
        return Accepted(key=key, items=[Item(seq=0, key=key, data=payload)])

    def send(self, message: Message, items: list[Item]) -> dict[int, Outcome]:
        outcomes = {}
        sync = EnrollmentSync.objects.get(sync_message_id=message.related_id)
        for item in items:
            ack_type, text = item.data["ackType"], item.data.get("message")
            if "devices" in item.data:
                registrations_from_ack(source=message, sync_request_id=item.key, devices=item.data["devices"])
            recorded = services.sync_acknowledge(
                sync_id=sync.id, ack_type=ack_type, text=text, at=message.received_at, ack_message=message
            )
            sync.refresh_from_db()
            if not recorded and sync.ack_message_id != message.id:
                told = f"DACS was told {sync.dacs_status}" if sync.dacs_status else f"the sync is {sync.state}"
                error = f"Not passed on: {told} before this acknowledgement came"
                activity_record(message=message, kind="not_passed_on", text=error)
                outcomes[item.id] = Outcome(OutcomeStatus.CANCELLED, error=error)
                continue
            if ack_type == "ERROR":
                # The forward already finished as a success: the sync ends with DERMS's refusal.
                Item.objects.filter(message_id=sync.sync_message_id, status=Item.Status.SUCCESS).update(
                    status=Item.Status.ERROR, last_error=text or "Refused by DERMS"
                )
            message_reopen(message_id=sync.sync_message_id, text=f"DERMS acknowledged {ack_type}: owed to DACS")
            outcomes[item.id] = Outcome(OutcomeStatus.SUCCESS)
        return outcomes

    # --- an acknowledgement that ends abnormally -----------------------------------
    def settle(self, message: Message, *, reason: str) -> None:
        """A sync still waiting for DERMS's acknowledgement fails, and its message tells DACS so.

        Its forward's item ends FAILURE with the reason, which the FAILURE acknowledgement carries.
        """
        sync = EnrollmentSync.objects.get(sync_message_id=message.related_id)
        if not services.sync_fail(sync_id=sync.id):
            return
        Item.objects.filter(message_id=sync.sync_message_id, status=Item.Status.SUCCESS).update(
            status=Item.Status.FAILURE, last_error=reason
        )
        message_reopen(message_id=sync.sync_message_id, text=f"DERMS's acknowledgement was not passed on: {reason}")
