"""The sweeper: due retries enqueued, stale claims taken back, owed replies and emails sent, the flows' own
checks (each flow's, and each flow package's: dead score-file runs recovered)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from hub.activity import activity_record
from hub.leases import lease_held, lease_take
from hub.messages import message_enqueue, message_settle, messages_abandon_received, reply_enqueue
from hub.models import Message
from hub.notify import emails_send_due
from hub.registry import FLOWS, flow_apps

SWEEP_LEASE = "sweeper"
ENDED = (Message.Status.DISCARDED, Message.Status.FAILED)


def sweep() -> None:
    """Scheduled every minute; keeps polling for SWEEP_LOOP_S so retries run within seconds of being due.

    The newest sweeper takes the lease from the one before, which then stops:
    one loop at a time, with no gap between two scheduled runs.
    """
    owner = uuid.uuid4().hex
    lease_take(name=SWEEP_LEASE, owner=owner, seconds=settings.SWEEP_LOOP_S + 30, steal=True)
    stop = time.monotonic() + settings.SWEEP_LOOP_S
    while True:
        sweep_once()
        if time.monotonic() >= stop or not lease_held(name=SWEEP_LEASE, owner=owner):
            return
        time.sleep(settings.SWEEP_POLL_S)
        close_old_connections()


def sweep_once() -> dict[str, int]:
    """One pass: take back work from dead workers, enqueue due messages and replies, run the flows' own checks."""
    counts = {"stale": take_back_stale(), "enqueued": enqueue_due(), "replies": enqueue_owed_replies()}
    for flow in FLOWS.values():
        flow.sweep()
    for app in flow_apps():
        counts.update(app.sweep())
    counts["unanswered"] = messages_abandon_received(older_than_s=settings.RECEIVED_STALE_S)
    counts["emails"] = emails_send_due()
    return counts


def take_back_stale() -> int:
    """Messages whose owner stopped answering go back to the queue without an owner; a run counts as crashed.

    A message whose runs keep dying (a worker killed by what it processes) is
    FAILED after RETRY_ATTEMPTS, like one whose runs keep raising.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.STALE_AFTER_S)
    taken = 0
    stale = Message.objects.filter(status=Message.Status.PROCESSING, heartbeat_at__lt=stale_before)
    for message_id, token, crashes in list(stale.values_list("id", "claim", "crashes")[:1000]):
        text = "Worker stopped answering; work taken back"
        if crashes + 1 >= settings.RETRY_ATTEMPTS:
            message = Message.objects.get(id=message_id)
            still_stale = Message.objects.filter(id=message_id, claim=token, heartbeat_at__lt=stale_before)
            if still_stale.update(crashes=crashes + 1) and message_settle(
                message=message,
                status=Message.Status.FAILED,
                reason=f"Stopped after {crashes + 1} runs whose worker stopped answering",
                kind="failed",
                allowed=(Message.Status.PROCESSING,),
                token=token,
            ):
                taken += 1
            continue
        if (
            Message.objects.filter(id=message_id, claim=token, heartbeat_at__lt=stale_before)
            .filter(status=Message.Status.PROCESSING)
            .update(
                status=Message.Status.QUEUED,
                claim="",
                crashes=F("crashes") + 1,
                last_error=text,
                next_attempt_at=now,
                enqueued_at=None,
            )
        ):
            taken += 1
            activity_record(message=Message(id=message_id), kind="taken_back", text=text)
    # A reply task whose worker died leaves its owner on an ended message: clear it so it can run again.
    Message.objects.filter(status__in=ENDED, heartbeat_at__lt=stale_before).exclude(claim="").update(claim="")
    return taken


def enqueue_due() -> int:
    now = timezone.now()
    requeue_before = now - timedelta(seconds=settings.Q_CLUSTER["retry"])
    waiting = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before)
    due = (
        Message.objects.filter(status=Message.Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(waiting)
    )
    enqueued = 0
    for message_id in list(due.values_list("id", flat=True)[:1000]):
        if Message.objects.filter(waiting, id=message_id, status=Message.Status.QUEUED).update(enqueued_at=now):
            enqueued += 1
            message_enqueue(message_id=message_id)
    return enqueued


def enqueue_owed_replies() -> int:
    """Replies owed for discarded or failed messages whose first try failed (or was never made) and are due."""
    now = timezone.now()
    due = Message.objects.filter(
        Q(reply_status=Message.Reply.RETRY, next_attempt_at__lte=now)
        | Q(reply_status=Message.Reply.PENDING, finished_at__lt=now - timedelta(seconds=settings.SWEEP_LOOP_S)),
        status__in=ENDED,
        claim="",
    )
    # Once per time it falls due, as workers busy with other tasks may not run it before the next pass;
    # again only if the broker lost it.
    requeue_before = now - timedelta(seconds=settings.Q_CLUSTER["retry"])
    waiting = (
        Q(enqueued_at__isnull=True)
        | Q(enqueued_at__lt=Coalesce("next_attempt_at", "finished_at"))
        | Q(enqueued_at__lt=requeue_before)
    )
    enqueued = 0
    for message_id in list(due.filter(waiting).values_list("id", flat=True)[:1000]):
        if due.filter(waiting, id=message_id).update(enqueued_at=now):
            enqueued += 1
            reply_enqueue(message_id=message_id)
    return enqueued
