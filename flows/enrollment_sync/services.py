"""The state of a synchronisation, changed only by compare-and-swap updates.

DERMS's acknowledgement may come in its answer to the forward, or later on
its own endpoint, possibly before the forward has even returned: whichever
records it first wins, and the acknowledgement DACS gets is built from this
row by the sync's own message, so DACS gets exactly one.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from flows.enrollment_sync.models import EnrollmentSync
from hub.models import Message
from hub.timefmt import iso_z

State = EnrollmentSync.State


def sync_create(*, message: Message, payload: dict) -> EnrollmentSync:
    return EnrollmentSync.objects.create(
        sync_message=message,
        sync_request_id=payload["syncRequestId"],
        action=payload["action"],
        cis_person_id=payload["contactInfo"]["cisPersonId"],
        subscription_id=payload["subscriptionInfo"]["subscriptionId"],
        program_code=payload["subscriptionInfo"]["programCode"],
        service_point_id=payload["locationInfo"]["cisServicePointId"],
        received_at=message.received_at,
    )


def sync_forwarded(*, sync_id: int) -> None:
    """DERMS took the sync and will acknowledge it later, unless its acknowledgement overtook the answer."""
    EnrollmentSync.objects.filter(id=sync_id).update(
        state=Case(When(state__in=(State.RECEIVED, State.FAILED), then=Value(State.FORWARDED)), default=F("state")),
        ack_mode=Case(When(ack_mode="", then=Value(EnrollmentSync.AckMode.LATER)), default=F("ack_mode")),
        forwarded_at=Coalesce(F("forwarded_at"), Value(timezone.now())),
    )


def sync_acknowledge(
    *, sync_id: int, ack_type: str, text: str | None, at: datetime, ack_message: Message | None = None
) -> bool:
    """Record DERMS's acknowledgement; False when one was recorded before (or DACS was told FAILURE)."""
    immediate = ack_message is None
    starts = (*EnrollmentSync.OPEN, State.FAILED) if immediate else EnrollmentSync.OPEN
    fields = {
        "state": State.ACKNOWLEDGED,
        "derms_ack_type": ack_type,
        "derms_message": text or "",
        "acknowledged_at": at,
        "ack_message": ack_message,
        "ack_mode": EnrollmentSync.AckMode.IMMEDIATE if immediate else EnrollmentSync.AckMode.LATER,
    }
    if immediate:
        fields["forwarded_at"] = Coalesce(F("forwarded_at"), Value(at))
    return bool(EnrollmentSync.objects.filter(id=sync_id, state__in=starts).update(**fields))


def sync_fail(*, sync_id: int) -> bool:
    return bool(
        EnrollmentSync.objects.filter(id=sync_id, state__in=EnrollmentSync.OPEN).update(
            state=State.FAILED, failed_at=timezone.now()
        )
    )


def sync_flag_overdue(*, sync_id: int) -> bool:
    return bool(
        EnrollmentSync.objects.filter(id=sync_id, state__in=EnrollmentSync.OPEN, overdue_at__isnull=True).update(
            overdue_at=timezone.now()
        )
    )


def sync_dacs_acked(*, sync_id: int, status: str) -> None:
    EnrollmentSync.objects.filter(id=sync_id).update(dacs_status=status, dacs_acked_at=timezone.now())


def dacs_ack_body(sync: EnrollmentSync, failure: str = "") -> dict:
    """DACS's `enrollmentSync/acknowledgement`, from the recorded outcome (stable, so a resubmission
    that changes nothing sends nothing)."""
    if sync.state == State.ACKNOWLEDGED:
        status, text, when = sync.derms_ack_type, sync.derms_message or None, sync.acknowledged_at
    else:
        status, text, when = "FAILURE", failure or "DERMS could not be reached", sync.failed_at
    return {
        "syncRequestId": sync.sync_request_id,
        "status": status,
        "message": text,
        "acknowledgedDateTime": iso_z(when),
    }
