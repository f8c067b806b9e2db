"""Services on an event's status: judging an update under the event's row lock, and recording what became of it.

An update is judged in the transaction that accepts it, holding the event's
EventState row and flow 5's ProgramEvent row (for a cancellation through flow
6's `event_cancelling`), so two updates of one event are judged one after the
other, against each other, in the order they are accepted, and a flow 6
cancellation accepted meanwhile is seen. Locks are taken in that order
(EventState, then ProgramEvent); nothing takes them the other way round.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from flows.device_reservations.events import event_cancel_abandoned, event_cancelled, event_cancelling
from flows.device_reservations.models import ProgramEvent
from flows.event_status.models import EventState, EventStatus, StatusUpdate
from hub.messages import message_enqueue
from hub.models import Item, Message
from hub.payload import Rejection
from hub.timefmt import iso_z

# Forward only: an update never goes to a lower rank. CANCELLED ends the event (before its start only).
RANK = {EventStatus.SCHEDULED: 1, EventStatus.IN_PROGRESS: 2, EventStatus.COMPLETED: 3, EventStatus.CANCELLED: 4}
STARTED = (EventStatus.IN_PROGRESS, EventStatus.COMPLETED)
CANCELLATIONS_FLOW = "event_cancellations"


def state_locked(*, event_id: str) -> EventState:
    """The event's row, created if new, locked until the transaction ends."""
    for _ in range(2):
        state = EventState.objects.select_for_update().filter(event_id=event_id).first()
        if state is not None:
            return state
        try:
            with transaction.atomic():
                return EventState.objects.create(event_id=event_id)
        except IntegrityError:
            continue  # created by a concurrent update of the same event: lock it on the second pass
    raise RuntimeError(f"could not record event {event_id}")


def _stale(text: str) -> Rejection:
    return Rejection(409, "stale_status", {"status": [text]})


def _started(event_id: str, since: str) -> Rejection:
    return Rejection(409, "event_started", {"eventId": [f"Event {event_id} {since}."]})


def update_judge(*, state: EventState, data: dict, now: datetime) -> None:
    """Raise the 409 an update gets from the event's status as accepted so far; nothing when it may go on."""
    new, current, event_id = data["status"], state.status, state.event_id
    if new == EventStatus.CANCELLED:
        if current == EventStatus.CANCELLED:
            return  # already cancelled: accepted, and nothing will be sent
        if current in STARTED:
            raise _started(event_id, f"is {current}")
        if state.start is not None and state.start <= now:
            raise _started(event_id, f"started at {iso_z(state.start)}")
    else:
        # Locked as flow 6 locks it to cancel: a cancellation accepted at the same moment is seen.
        reserved = ProgramEvent.objects.select_for_update().filter(event_id=event_id)
        reservation_status = reserved.values_list("status", flat=True).first()
        if current == EventStatus.CANCELLED or reservation_status in ProgramEvent.STOPPED:
            raise _stale(f"Event {event_id} is cancelled; it cannot become {new}.")
        if current and RANK[new] < RANK[EventStatus(current)]:
            raise _stale(f"Event {event_id} is {current}; {new} would move it back.")
    if state.status_at is not None and data["statusDateTime"] < state.status_at:
        raise _stale(
            f"statusDateTime {iso_z(data['statusDateTime'])} is older than the last one applied to event "
            f"{event_id} ({iso_z(state.status_at)})."
        )


def update_accept(*, message: Message, data: dict, item: Item, now: datetime) -> StatusUpdate:
    """Judge and record an update in the accepting transaction; a 409 Rejection leaves a REFUSED row behind."""
    state = state_locked(event_id=data["eventId"])
    try:
        update_judge(state=state, data=data, now=now)
        if data["status"] == EventStatus.CANCELLED:
            # Flow 6's cancellation: reservations of the event stop sending; 409 if it has started.
            item.data["was"] = event_cancelling(event_id=state.event_id, reason=data.get("cancelReason") or "", now=now)
    except Rejection as rejection:
        rejection.then = partial(update_refused, message=message, data=data, rejection=rejection)
        raise
    state.accepted_count += 1
    state.status = data["status"]
    state.status_at = data["statusDateTime"]
    if data["status"] == EventStatus.SCHEDULED:
        state.stage_id = data["stageId"]
        state.program_code = data["programCode"]
        state.event_type = data["eventType"]
        state.start, state.end = data["startDateTime"], data["endDateTime"]
    state.save()
    return StatusUpdate.objects.create(
        event=state,
        message=message,
        seq=state.accepted_count,
        stage_id=data["stageId"],
        status=data["status"],
        status_at=data["statusDateTime"],
    )


def update_refused(*, message: Message, data: dict, rejection: Rejection) -> None:
    """The history row of an update the hub refused (written after the refusal is stored)."""
    with transaction.atomic():
        state = state_locked(event_id=data["eventId"])
        StatusUpdate.objects.create(
            event=state,
            message=message,
            stage_id=data["stageId"],
            status=data["status"],
            status_at=data["statusDateTime"],
            state=StatusUpdate.State.REFUSED,
            error=f"{rejection.error}: {next(iter(rejection.details.values()))[0]}",
        )


def update_earlier_open(*, update: StatusUpdate) -> StatusUpdate | None:
    """An update of the same event accepted before this one whose DACS call is not final (not sent yet, or
    waiting for a retry): this one waits for it. Its acknowledgement to DERMS is not waited for."""
    return (
        StatusUpdate.objects.filter(event_id=update.event_id, seq__lt=update.seq)
        .filter(message__status__in=Message.UNFINISHED, message__items__status__in=Item.OPEN)
        .select_related("message")
        .order_by("seq")
        .first()
    )


def update_wake_next(*, update: StatusUpdate) -> None:
    """Queue at once the next update of the event waiting for this one (if it is not being processed).

    Called once this one's DACS call is final, and again when it ends (a discarded one's never is)."""
    later = (
        StatusUpdate.objects.filter(event_id=update.event_id, seq__gt=update.seq)
        .filter(message__status__in=Message.UNFINISHED)
        .order_by("seq")
        .values_list("message_id", "message__status")
        .first()
    )
    if later is None or later[1] != Message.Status.QUEUED:
        return
    woken = Message.objects.filter(id=later[0], status=Message.Status.QUEUED).update(
        next_attempt_at=timezone.now(), enqueued_at=None
    )
    if woken:
        message_enqueue(message_id=later[0])


def update_superseded_by(*, update: StatusUpdate) -> StatusUpdate | None:
    """A later update of the event DACS has applied already: this one (resubmitted) would move DACS back."""
    return (
        StatusUpdate.objects.filter(event_id=update.event_id, seq__gt=update.seq)
        .filter(state__in=(StatusUpdate.State.APPLIED, StatusUpdate.State.UNCHANGED))
        .select_related("message")
        .order_by("-seq")
        .first()
    )


def event_already_cancelled(*, event_id: str) -> bool:
    return (
        EventState.objects.filter(event_id=event_id, applied_status=EventStatus.CANCELLED).exists()
        or ProgramEvent.objects.filter(event_id=event_id, status=ProgramEvent.Status.CANCELLED).exists()
    )


def update_applied(*, update: StatusUpdate, unchanged: bool = False) -> None:
    """DACS took the update (or a cancellation found the event cancelled already): the event's confirmed status."""
    with transaction.atomic():
        state = EventState.objects.select_for_update().get(id=update.event_id)
        state.applied_status, state.applied_at = update.status, update.status_at
        if update.seq == state.accepted_count:  # the latest (a resubmitted one may have been undone meanwhile)
            state.status, state.status_at = update.status, update.status_at
        state.save(update_fields=["applied_status", "applied_at", "status", "status_at", "updated_at"])
        state_ = StatusUpdate.State.UNCHANGED if unchanged else StatusUpdate.State.APPLIED
        StatusUpdate.objects.filter(id=update.id).update(state=state_, error="", updated_at=timezone.now())
        if update.status == EventStatus.CANCELLED:
            event_cancelled(event_id=state.event_id, ok=True)


def update_not_applied(*, update: StatusUpdate, state: str, error: str, cancel_failed: bool = True) -> None:
    """DACS refused the update, or it never got there: ERROR or FAILED, and the event's status goes back.

    The status new updates are judged against goes back to what DACS last confirmed, unless a later
    update has been accepted since (it stands). A cancellation that failed leaves flow 5's event
    CANCEL_FAILED, as flow 6's does (`cancel_failed`).
    """
    with transaction.atomic():
        event = EventState.objects.select_for_update().get(id=update.event_id)
        StatusUpdate.objects.filter(id=update.id).update(state=state, error=error[:4000], updated_at=timezone.now())
        if update.seq == event.accepted_count:
            event.status, event.status_at = event.applied_status, event.applied_at
            event.save(update_fields=["status", "status_at", "updated_at"])
        if cancel_failed and update.status == EventStatus.CANCELLED:
            event_cancelled(event_id=event.event_id, ok=False)


def update_abandoned(*, update: StatusUpdate, item: Item, reason: str) -> None:
    """A cancellation that ended with no answer: flow 5's event goes back to what it was, unless another
    cancellation of it (by flow 6 or by an update) is still open."""
    update_not_applied(update=update, state=StatusUpdate.State.FAILED, error=reason, cancel_failed=False)
    if update.status != EventStatus.CANCELLED:
        return
    event_id = item.key
    others = (
        Message.objects.filter(status__in=Message.UNFINISHED)
        .filter(
            Q(flow=CANCELLATIONS_FLOW, items__key=event_id)
            | Q(event_status_update__event__event_id=event_id, event_status_update__status=EventStatus.CANCELLED)
        )
        .exclude(id=update.message_id)
    )
    if not others.exists():
        event_cancel_abandoned(event_id=event_id, was=item.data.get("was"))
