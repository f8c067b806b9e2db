"""Writes of flow 10: the opt-out's own record, and the device's state in the event once DERMS accepted it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from flows.device_reservations.models import EventDevice
from flows.event_opt_outs.models import EventOptOut
from hub.models import Message


def opt_out_create(*, message: Message, data: dict) -> EventOptOut:
    return EventOptOut.objects.create(
        message=message,
        opt_out_id=data["optOutId"],
        event_id=data["eventId"],
        nic_id=data["nicId"],
        head_end_system=data["headEndSystem"],
        cis_person_id=data.get("cisPersonId") or "",
        opted_out_at=data["optOutDateTime"],
        reason=data.get("reason") or "",
        received_at=message.received_at,
    )


def opt_out_decide(*, message_id: int, state: str, text: str = "") -> None:
    """Record what became of the opt-out; on OPTED_OUT the device leaves the event's reservation
    (when the hub holds one for it: an opt-out of a device it never reserved is kept all the same)."""
    with transaction.atomic():
        opt_out = EventOptOut.objects.select_for_update().get(message_id=message_id)
        opt_out.state, opt_out.derms_message, opt_out.decided_at = state, text, timezone.now()
        opt_out.save(update_fields=["state", "derms_message", "decided_at"])
        if state == EventOptOut.State.OPTED_OUT:
            EventDevice.objects.filter(
                event__event_id=opt_out.event_id, nic_id=opt_out.nic_id, head_end_system=opt_out.head_end_system
            ).update(state=EventDevice.State.OPTED_OUT, error="")
