"""Services on program events and their devices."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count

from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from hub.models import Item, Message
from hub.payload import Rejection


def event_reserve(*, message: Message, header: dict, device_count: int, collection_size: int) -> Reservation:
    """Record an accepted reservation on its event (created, or its type and times updated)."""
    fields = {
        "event_type": header["eventType"],
        "program_code": header.get("programCode") or "",
        "start": header["eventStartDateTime"],
        "end": header["eventEndDateTime"],
        "status": ProgramEvent.Status.RESERVING,
    }
    for _ in range(2):
        try:
            with transaction.atomic():
                event = ProgramEvent.objects.select_for_update().filter(event_id=header["eventId"]).first()
                if event is None:
                    event = ProgramEvent.objects.create(event_id=header["eventId"], **fields)
                elif event.status in ProgramEvent.STOPPED:
                    raise Rejection(
                        409, "event_cancelled", {"eventId": [f"Event {event.event_id} is {event.status.lower()}."]}
                    )
                else:
                    ProgramEvent.objects.filter(id=event.id).update(**fields)
                return Reservation.objects.create(
                    message=message, event=event, device_count=device_count, collection_size=collection_size
                )
        except IntegrityError:
            continue  # the same new event created by a concurrent request: take it on the second pass
    raise RuntimeError(f"could not record event {header['eventId']}")


def event_cancelling(*, event_id: str, reason: str, now: datetime) -> str | None:
    """Stop the event's reservations from sending more; its status before, or None for an event not seen.

    A CANCELLED event stays so (a repeated cancellation changes nothing); otherwise 409 when it has started.
    """
    with transaction.atomic():
        event = ProgramEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None:
            return None
        was = event.status
        if was == ProgramEvent.Status.CANCELLED:
            return was
        if event.start <= now:
            raise Rejection(
                409, "event_started", {"eventId": [f"Event {event_id} started at {event.start:%Y-%m-%dT%H:%M:%SZ}."]}
            )
        event.status = ProgramEvent.Status.CANCELLING
        event.cancel_reason = reason
        event.save(update_fields=["status", "cancel_reason", "updated_at"])
        return was


def event_cancel_abandoned(*, event_id: str, was: str | None) -> None:
    """A cancellation ended with no answer from DACS: a CANCELLING event goes back to its status before.

    Back to CANCEL_FAILED when it was CANCELLING already (its own cancellation's outcome is unknown);
    a reservation-side status is settled again, as its reservations may have ended meanwhile.
    """
    with transaction.atomic():
        event = ProgramEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None or event.status != ProgramEvent.Status.CANCELLING:
            return
        if was in (None, ProgramEvent.Status.CANCELLING, ProgramEvent.Status.CANCELLED):
            was = ProgramEvent.Status.CANCEL_FAILED
        ProgramEvent.objects.filter(id=event.id).update(status=was)
        event_settle(event=event)


def event_cancelled(*, event_id: str, ok: bool) -> None:
    """After DACS answered the cancellation: the event and its devices no longer reserved, or CANCEL_FAILED."""
    events = ProgramEvent.objects.filter(event_id=event_id)
    if not ok:
        events.filter(status=ProgramEvent.Status.CANCELLING).update(status=ProgramEvent.Status.CANCEL_FAILED)
        return
    with transaction.atomic():
        events.update(status=ProgramEvent.Status.CANCELLED)
        EventDevice.objects.filter(
            event__event_id=event_id, state__in=(EventDevice.State.PENDING, EventDevice.State.RESERVED)
        ).update(state=EventDevice.State.CANCELLED)


def event_settle(*, event: ProgramEvent, ended: Message | None = None) -> None:
    """When no reservation of the event is open any more: RESERVED, PARTIALLY_RESERVED or FAILED.

    `ended`: a message that has ended though its status may not say so yet (discarded in this transaction).
    """
    open_ = Reservation.objects.filter(event=event, message__status__in=Message.UNFINISHED)
    if ended is not None:
        open_ = open_.exclude(message=ended)
    if open_.exists():
        return
    counts = dict(EventDevice.objects.filter(event=event).values_list("state").annotate(n=Count("id")).order_by())
    reserved = counts.get(EventDevice.State.RESERVED, 0)
    # A device its customer opted out of the event (flow 10) was reserved: it does not make the event partial.
    opted_out = counts.get(EventDevice.State.OPTED_OUT, 0)
    if reserved and reserved + opted_out == sum(counts.values()):
        status = ProgramEvent.Status.RESERVED
    elif reserved:
        status = ProgramEvent.Status.PARTIALLY_RESERVED
    else:
        status = ProgramEvent.Status.FAILED
    # A resubmitted reservation settles the event again; a cancellation's outcome is never overwritten.
    settled = (
        ProgramEvent.Status.RESERVING,
        ProgramEvent.Status.RESERVED,
        ProgramEvent.Status.PARTIALLY_RESERVED,
        ProgramEvent.Status.FAILED,
    )
    ProgramEvent.objects.filter(id=event.id, status__in=settled).update(status=status)


def devices_record(*, message: Message, seqs: list[int], state: str, error: str = "") -> None:
    # An opt-out (flow 10) is the customer's last word on the device: a reservation's outcome never undoes it.
    rows = EventDevice.objects.filter(message=message).exclude(state=EventDevice.State.OPTED_OUT)
    if seqs and max(seqs) - min(seqs) + 1 == len(seqs):  # a whole collection: a range scan of the index
        rows = rows.filter(seq__gte=min(seqs), seq__lte=max(seqs))
    else:
        rows = rows.filter(seq__in=seqs)
    rows.update(state=state, error=error)


def devices_fail_pending(*, message: Message, error: str) -> None:
    """Devices of a message that ended abnormally still PENDING (their outcome never written) are FAILED."""
    EventDevice.objects.filter(message=message, state=EventDevice.State.PENDING).update(
        state=EventDevice.State.FAILED, error=error
    )


def devices_sync_failures(*, message: Message) -> None:
    """Devices whose items ended FAILURE or CANCELLED outside a call (retries exhausted, DACS down, cancelled)."""
    for status, state in (
        (Item.Status.FAILURE, EventDevice.State.FAILED),
        (Item.Status.CANCELLED, EventDevice.State.CANCELLED),
    ):
        errors = message.items.filter(status=status).values_list("last_error", flat=True).order_by().distinct()
        for error in list(errors):
            seqs = message.items.filter(status=status, last_error=error).values("seq")
            EventDevice.objects.filter(message=message, seq__in=seqs).exclude(state=EventDevice.State.OPTED_OUT).update(
                state=state, error=error
            )
