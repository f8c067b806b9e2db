"""A message's life: accept, reject, duplicate, enqueue, resubmit, retry failed, reopen, discard, settle; and
its selectors.

The admin, the API, the management commands and the flows call these; the
rules they apply (what may be resubmitted or discarded, and why not) are
decided here only.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.tasks import async_task

from hub.activity import activity_record
from hub.bulk import items_insert
from hub.flow import Accepted, Flow
from hub.logs import log_bind_message
from hub.models import Item, Message
from hub.payload import Rejection
from hub.registry import flow_for
from hub.timefmt import iso_z
from records.projection import records_update

# A message whose processing ended for good, or never started, cannot be sent again.
NOT_RESUBMITTABLE: dict[str, str] = {
    Message.Status.REJECTED: "it was rejected, so there is nothing to send",
    Message.Status.DUPLICATE: "it is a duplicate; its first copy is the one processed",
    Message.Status.DISCARDED: "it was discarded, and a discarded message is never sent again",
    Message.Status.RECEIVED: "it is still being received",
    Message.Status.QUEUED: "it is already queued",
    Message.Status.PROCESSING: "it is being processed",
}
NOT_DISCARDABLE: dict[str, str] = {
    Message.Status.REJECTED: "it was rejected; nothing waits on it",
    Message.Status.DUPLICATE: "it is a duplicate; its first copy is the one processed",
    Message.Status.DISCARDED: "it is already discarded",
}


log = logging.getLogger("hub.inbound")


# --- accepted, rejected, a duplicate (the inbound pipeline, hub/inbound.py, answers with these) ---
def acknowledgement(message: Message, key: str, extra: dict | None = None) -> dict:
    return {
        "trackingId": str(message.tracking_id),
        "messageId": key,
        "flow": message.flow,
        "status": "ACCEPTED",
        "duplicate": False,
        "receivedAt": iso_z(message.received_at),
        **(extra or {}),
    }


def message_reject(*, message: Message, rejection: Rejection) -> dict:
    """Store the message as REJECTED with the refusal's status and body; the body to answer with."""
    body = {
        "trackingId": str(message.tracking_id),
        "error": rejection.error,
        "message": rejection.message,
        "details": rejection.details,
    }
    message.status = Message.Status.REJECTED
    message.http_status = rejection.status
    message.errors = body
    message.save(update_fields=["status", "http_status", "errors", "message_key"])
    activity_record(message=message, kind="rejected", text=f"{rejection.status} {rejection.message}")
    log_bind_message(message)
    log.info("rejected %s %s", rejection.status, rejection.error)
    if rejection.then is not None:
        rejection.then()
    return body


def message_duplicate(*, message: Message, first: Message) -> dict:
    """Store the message as a DUPLICATE of the accepted `first`; the acknowledgement to answer with (the first's)."""
    message.status = Message.Status.DUPLICATE
    message.duplicate_of = first
    message.http_status = 200
    message.ack = {**(first.ack or {}), "duplicate": True}
    message.save(update_fields=["status", "duplicate_of", "http_status", "ack", "message_key"])
    activity_record(message=message, kind="duplicate", text=f"Duplicate of {first.tracking_id}")
    log_bind_message(message)
    log.info("duplicate of %s", first.tracking_id)
    return message.ack


def message_accept(*, message: Message, flow: Flow, accepted: Accepted) -> dict:
    """Accept the message: QUEUED with its acknowledgement, the flow's own writes, its items and its
    processing task, in one transaction (see message_enqueue); the acknowledgement to answer with.

    Raises IntegrityError when another copy with the same key was accepted a moment ago, and the
    flow's Rejection for a rule it checks under the lock its writes take; nothing is written then.
    """
    message.ack = acknowledgement(message, accepted.key, accepted.ack_extra)
    message.accepted_key = accepted.key
    message.status = Message.Status.QUEUED
    message.http_status = 202
    with transaction.atomic():
        queued_now = _queued_in_transaction()
        if queued_now:
            # Its task is written in this transaction: noted in the same write that accepts it.
            message.enqueued_at = timezone.now()
        message.save(update_fields=["ack", "accepted_key", "status", "http_status", "message_key", "enqueued_at"])
        for write in accepted.on_accept:
            write()
        for item in accepted.items:
            item.message = message
        items_insert(items=accepted.items)
        activity_record(message=message, kind="accepted", text=f"{len(accepted.items)} item(s)")
        message_enqueue(message_id=message.id, noted=queued_now)
    log_bind_message(message)
    log.info("accepted %s %s tracking=%s", flow.name, accepted.key, message.tracking_id)
    return message.ack


NOT_ANSWERED = "The hub stopped before answering this request (its web process ended or failed); it is stored."


def messages_abandon_received(*, older_than_s: float) -> int:
    """Mark messages still RECEIVED after `older_than_s` REJECTED with a 500: their request was never
    answered (a web process killed while judging it), and nothing else would ever finish them."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    abandoned = 0
    for message in Message.objects.filter(status=Message.Status.RECEIVED, received_at__lt=cutoff).defer("raw_body"):
        errors = {"trackingId": str(message.tracking_id), "error": "not_answered", "message": NOT_ANSWERED}
        # Conditional: a message answered meanwhile keeps its answer.
        changed = Message.objects.filter(id=message.id, status=Message.Status.RECEIVED).update(
            status=Message.Status.REJECTED, http_status=500, errors={**errors, "details": {}}
        )
        if changed:
            activity_record(message=message, kind="rejected", text=f"500 {NOT_ANSWERED}")
            abandoned += 1
    if abandoned:
        log.warning("%d message(s) left RECEIVED marked REJECTED (not answered)", abandoned)
    return abandoned


# --- selectors and the life after acceptance ---------------------------------------
def item_counts(message: Message) -> dict[str, int]:
    rows = message.items.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no items"


@functools.cache
def _queue_is_a_table() -> bool:
    """Whether django-q2's queue is a table of the hub's own database (its ORM broker)."""
    return isinstance(get_broker(), ORM) and Conf.ORM == Message.objects.db


def _queued_in_transaction() -> bool:
    """Whether message_enqueue writes the task at once, in the current transaction (not when tasks run inline,
    as in unit tests: the task would run inside the transaction that queues it)."""
    return transaction.get_connection().in_atomic_block and not Conf.SYNC and _queue_is_a_table()


def message_enqueue(*, message_id: int, noted: bool = False) -> None:
    """Queue the processing task so that it appears when the current transaction commits, and note when on
    the message (the sweeper queues again a message whose task was lost); `noted`: the caller noted it.

    With the ORM broker the task's row is written at once, in the transaction: it appears when (and only if)
    the transaction commits, as with on_commit, without a write and a commit of its own afterwards.
    Otherwise (Redis, or tasks run inline) it is queued once the transaction commits.
    """

    def enqueue() -> None:
        if not noted:
            Message.objects.filter(id=message_id).update(enqueued_at=timezone.now())
        # save=False: a message's own record is its audit trail, so a successful task leaves no
        # django-q2 Success row (saving one also makes the monitor lock and read up to save_limit
        # rows per task); failures are kept.
        async_task("hub.processing.message_process", message_id, task_name=f"message-{message_id}", save=False)

    if _queued_in_transaction():
        enqueue()
    else:
        transaction.on_commit(enqueue)


def reply_enqueue(*, message_id: int) -> None:
    """Queue the sending of the one reply still owed for a message that ended abnormally."""
    transaction.on_commit(
        lambda: async_task("hub.processing.message_reply_owed", message_id, task_name=f"reply-{message_id}", save=False)
    )


def message_resubmit(*, message: Message, actor=None, failed_only: bool = False, reason: str = "") -> int:
    """Send a finished message's items again (all, or only those that failed); returns items reopened."""
    items = message.items.all()
    if failed_only:
        items = items.filter(status__in=(Item.Status.ERROR, Item.Status.FAILURE))
    with transaction.atomic():
        reopened = items.update(
            status=Item.Status.PENDING, attempts=0, next_attempt_at=None, first_failed_at=None, last_error=""
        )
        updated = (
            Message.objects.filter(id=message.id)
            .exclude(status__in=NOT_RESUBMITTABLE)
            .update(
                status=Message.Status.QUEUED,
                claim="",
                crashes=0,
                last_error="",
                reply_status=Message.Reply.NONE,
                reply_attempts=0,
                next_attempt_at=None,
                finished_at=None,
                enqueued_at=None,
            )
        )
        if not updated:
            transaction.set_rollback(True)
            return 0
        kind = "retry_failed" if failed_only else "resubmitted"
        activity_record(message=message, kind=kind, actor=actor, text=f"{reopened} item(s) reopened. {reason}".strip())
        message_enqueue(message_id=message.id)
    return reopened


def message_reopen(*, message_id: int, text: str) -> bool:
    """Queue a finished message again whose reply has become due since (see Flow.reply_due)."""
    reopened = Message.objects.filter(
        id=message_id,
        reply_status=Message.Reply.NONE,
        status__in=(Message.Status.COMPLETED, Message.Status.COMPLETED_WITH_ERRORS, Message.Status.FAILED),
    ).update(status=Message.Status.QUEUED, claim="", next_attempt_at=None, finished_at=None, enqueued_at=None)
    if reopened:
        activity_record(message=Message(id=message_id), kind="reopened", text=text)
        message_enqueue(message_id=message_id)
    return bool(reopened)


def message_discard(*, message: Message, actor=None, reason: str) -> bool:
    """End a message for good and settle what waited on it (see message_settle)."""
    return message_settle(
        message=message,
        status=Message.Status.DISCARDED,
        reason=f"Discarded: {reason}" if reason else "Discarded",
        kind="discarded",
        actor=actor,
        note=reason,
        allowed=None,
    )


def message_settle(
    *,
    message: Message,
    status: str,
    reason: str,
    kind: str,
    actor=None,
    note: str | None = None,
    allowed: tuple[str, ...] | None,
    token: str | None = None,
) -> bool:
    """End a message abnormally, as a technical failure would, leaving nothing waiting on it.

    In one transaction: the message takes `status` and loses its owner (the
    worker that held it starts no further call and writes no outcome),
    records not yet final become FAILURE with `reason`, and the flow settles
    its business state (Flow.settle). The partner owed an answer gets exactly
    one, with ackType FAILURE and `reason` as its text, sent by a task with
    the usual retries. `allowed` limits the statuses it may end from (None:
    any but those NOT_DISCARDABLE); `token` requires that owner's claim.
    The timeline records `note` (the reason by default).
    """
    flow = flow_for(message.flow)
    with transaction.atomic():
        mine = Message.objects.filter(id=message.id)
        mine = mine.filter(status__in=allowed) if allowed is not None else mine.exclude(status__in=NOT_DISCARDABLE)
        if token is not None:
            mine = mine.filter(claim=token)
        current = mine.select_for_update().first()
        if current is None:
            return False
        owed = flow.reply_partner is not None and current.reply_status != Message.Reply.SENT
        Message.objects.filter(id=message.id).update(
            status=status,
            claim="",
            ack_type="FAILURE",
            last_error=reason,
            finished_at=timezone.now(),
            next_attempt_at=None,
            reply_status=Message.Reply.PENDING if owed else current.reply_status,
            reply_attempts=0 if owed else current.reply_attempts,
        )
        current.items.filter(status__in=Item.OPEN).update(
            status=Item.Status.FAILURE, last_error=reason, next_attempt_at=None, updated_at=timezone.now()
        )
        current.status = status
        flow.settle(current, reason=reason)
        activity_record(message=current, kind=kind, actor=actor, text=reason if note is None else note)
        if owed:
            reply_enqueue(message_id=current.id)
        if status == Message.Status.FAILED:
            transaction.on_commit(lambda: flow.finished(current, status))
        transaction.on_commit(lambda: records_update(current))
    return True


def messages_resubmit(
    *, ids: list[int], actor_id: int | None = None, failed_only: bool = False, reason: str = ""
) -> int:
    """Resubmit many messages (a bulk admin action queued as a task, or `manage.py reprocess`); returns how many."""
    actor = _actor(actor_id)
    done = 0
    for message in Message.objects.filter(id__in=ids).only("id", "tracking_id", "status"):
        if message_resubmit(message=message, actor=actor, failed_only=failed_only, reason=reason):
            done += 1
    return done


def messages_discard(*, ids: list[int], actor_id: int | None = None, reason: str) -> int:
    """Discard many messages (a bulk admin action queued as a task, or `manage.py discard`); returns how many."""
    actor = _actor(actor_id)
    return sum(
        message_discard(message=message, actor=actor, reason=reason)
        for message in Message.objects.filter(id__in=ids).only("id", "status", "flow")
    )


def _actor(actor_id: int | None):
    return get_user_model().objects.filter(id=actor_id).first() if actor_id else None
