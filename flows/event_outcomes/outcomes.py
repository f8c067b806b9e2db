"""Services on the device outcomes of an outcome message: where posting each one to DACS stands."""

from __future__ import annotations

from django.db.models import Count

from flows.event_outcomes.models import DeviceOutcome
from hub.models import Item, Message


def outcomes_record(*, message: Message, seqs: list[int], state: str, error: str = "") -> None:
    """The outcomes this message still holds (a later message may have taken a device over) at `seqs`."""
    rows = DeviceOutcome.objects.filter(message=message)
    if seqs and max(seqs) - min(seqs) + 1 == len(seqs):  # a whole collection: a range scan of the index
        rows = rows.filter(seq__gte=min(seqs), seq__lte=max(seqs))
    else:
        rows = rows.filter(seq__in=seqs)
    rows.update(state=state, error=error)


def outcomes_fail_pending(*, message: Message, error: str) -> None:
    """Outcomes of a message that ended abnormally still PENDING (their result never written) are FAILED."""
    DeviceOutcome.objects.filter(message=message, state=DeviceOutcome.State.PENDING).update(
        state=DeviceOutcome.State.FAILED, error=error
    )


def outcomes_sync_failures(*, message: Message) -> None:
    """Outcomes whose items ended FAILURE outside a call (retries exhausted, DACS down past its window)."""
    errors = message.items.filter(status=Item.Status.FAILURE).values_list("last_error", flat=True)
    for error in list(errors.order_by().distinct()):
        seqs = message.items.filter(status=Item.Status.FAILURE, last_error=error).values("seq")
        DeviceOutcome.objects.filter(message=message, seq__in=seqs).update(
            state=DeviceOutcome.State.FAILED, error=error
        )


def outcome_counts(message: Message) -> dict[str, int]:
    """The message's devices by how posting them ended (items: the message's own record of its sending)."""
    by_status = dict(message.items.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "total": sum(by_status.values()),
        "posted": by_status.get(Item.Status.SUCCESS, 0),
        "error": by_status.get(Item.Status.ERROR, 0),
        # Items cancelled (by an operator) were not posted either.
        "failure": by_status.get(Item.Status.FAILURE, 0) + by_status.get(Item.Status.CANCELLED, 0),
    }


def event_outcome_counts(*, event_id: str) -> dict[str, int]:
    """An event's device outcomes by state (for the event's page beside its reservation counts)."""
    rows = DeviceOutcome.objects.filter(event_id=event_id).values_list("state").annotate(n=Count("id")).order_by()
    return dict(rows)
