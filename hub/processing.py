"""Processing on django-q2: claim, send, retry with backoff, complete, sweep.

Tasks receive ids only. A message is claimed with a compare-and-swap update,
so a task delivered twice does the work once. Business retries live in the
hub's tables (Item.next_attempt_at), never in the broker.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
import uuid
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Count, Min, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from flows.base import Flow
from flows.registry import FLOWS, flow_for
from hub import partners
from hub.activity import activity_record
from hub.leases import lease_held, lease_release, lease_take
from hub.logs import log_bind_message
from hub.models import Item, Message, OutboundCall
from hub.outcomes import RecordBuffer, backoff_s, item_apply_outcomes, item_record_outcomes

log = logging.getLogger(__name__)

BATCH = 2000  # items fetched per pass


class Abandoned(Exception):
    """The message was taken from this task (discarded, or swept as stale)."""


def message_enqueue(*, message_id: int) -> None:
    Message.objects.filter(id=message_id).update(enqueued_at=timezone.now())
    # save=False: a message's own record is its audit trail, so a successful task leaves no django-q2
    # Success row (saving one also makes the monitor lock and read up to save_limit rows); failures are kept.
    async_task("hub.processing.message_process", message_id, task_name=f"message-{message_id}", save=False)


def message_process(message_id: int) -> None:
    """The task: claim the message, then work on it until done or handed back."""
    now = timezone.now()
    claimed = Message.objects.filter(id=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.PROCESSING,
        heartbeat_at=now,
        next_attempt_at=None,
        started_at=Coalesce("started_at", Value(now)),
    )
    if not claimed:
        return
    message = Message.objects.get(id=message_id)
    log_bind_message(message)
    runner = Runner(message, flow_for(message.flow))
    try:
        with runner.exclusive():
            runner.run()
    except Abandoned:
        log.info("message %s was taken back while processing", message_id)


def run_parallel(func, units: list, workers: int, hold=nullcontext) -> None:
    """Run func(unit) on up to `workers` threads, each closing its DB connection at the end.

    Each thread runs inside `hold()` for its whole life (e.g. holding one
    partner slot across all its calls instead of taking one per call).
    """
    if len(units) <= 1 or workers <= 1:
        with hold():
            for unit in units:
                func(unit)
        return
    work: queue.Queue = queue.Queue()
    for unit in units:
        work.put(unit)
    errors: list[BaseException] = []

    def worker():
        try:
            with hold():
                while True:
                    try:
                        unit = work.get_nowait()
                    except queue.Empty:
                        return
                    func(unit)
        except BaseException as exc:  # surfaced in the calling thread below
            errors.append(exc)
        finally:
            connections.close_all()

    # Each thread runs in a copy of the caller's context, so its log lines carry the message's ids.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(worker,), daemon=True)
        for _ in range(min(workers, len(units)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


class Runner:
    def __init__(self, message: Message, flow: Flow):
        self.message = message
        self.flow = flow
        self.deadline = time.monotonic() + settings.TASK_BUDGET_S
        self.last_beat = time.monotonic()  # the claim has just set the heartbeat
        self.lock = flow.lock_name(message)
        self.owner = uuid.uuid4().hex
        self.records = RecordBuffer()
        self.more_due = True  # False once a pass found fewer due items than it could take

    @contextmanager
    def exclusive(self):
        """Hold the flow's lock for this message; a message whose lock is taken goes back to wait."""
        if not self.lock:
            yield
            return
        if not lease_take(name=self.lock, owner=self.owner, seconds=settings.STALE_AFTER_S):
            self.release(timezone.now() + timedelta(seconds=1))
            raise Abandoned
        try:
            yield
        finally:
            lease_release(name=self.lock, owner=self.owner)

    # --- the loop -------------------------------------------------------------
    def run(self) -> None:
        beat = False  # the claim (and the lock, if any) were taken just now
        while True:
            if beat:
                self.heartbeat(force=True)
            beat = True
            if self.send_due_items():
                if self.more_due:
                    continue
                self.heartbeat(force=True)
            next_due = self.next_item_due()
            if next_due is None:
                next_due = self.send_reply()
                if next_due is None:
                    self.finish()
                    return
            if not self.wait_until(next_due):
                self.release(next_due)
                return

    def heartbeat(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_beat < settings.HEARTBEAT_S:
            return
        self.last_beat = time.monotonic()
        alive = Message.objects.filter(id=self.message.id, status=Message.Status.PROCESSING).update(
            heartbeat_at=timezone.now()
        )
        if not alive:
            raise Abandoned
        if self.lock and not lease_take(name=self.lock, owner=self.owner, seconds=settings.STALE_AFTER_S):
            raise Abandoned

    def wait_until(self, due: datetime) -> bool:
        """Sleep until `due` if this task's budget allows; False means hand the message back."""
        wait = (due - timezone.now()).total_seconds()
        if wait > settings.RETRY_HOLD_S or time.monotonic() + wait > self.deadline:
            return False
        while wait > 0:
            time.sleep(min(wait, settings.HEARTBEAT_S))
            self.heartbeat()
            wait = (due - timezone.now()).total_seconds()
        return True

    def release(self, due: datetime) -> None:
        Message.objects.filter(id=self.message.id, status=Message.Status.PROCESSING).update(
            status=Message.Status.QUEUED, next_attempt_at=due, enqueued_at=None
        )
        if due <= timezone.now():
            transaction.on_commit(lambda: message_enqueue(message_id=self.message.id))

    # --- items ------------------------------------------------------------------
    def due_items(self) -> list[Item]:
        now = timezone.now()
        return list(
            self.message.items.filter(status__in=Item.OPEN)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("seq")[: self.batch_size()]
        )

    def batch_size(self) -> int:
        return max(BATCH, self.flow.unit_size * settings.PARTNER_CONCURRENCY)

    def next_item_due(self) -> datetime | None:
        left = self.message.items.filter(status__in=Item.OPEN).aggregate(n=Count("id"), due=Min("next_attempt_at"))
        if not left["n"]:
            return None
        return left["due"] or timezone.now()

    def send_due_items(self) -> bool:
        held = self.flow.hold(self.message)
        if held is not None:
            if not self.wait_until(held):
                self.release(held)
                raise Abandoned
            self.more_due = True
            return True
        items = self.due_items()
        if not items:
            return False
        self.more_due = len(items) >= self.batch_size()
        if time.monotonic() > self.deadline:
            self.release(timezone.now())
            raise Abandoned
        units = self.flow.units(self.message, items)
        partner = self.flow.partner
        hold = (lambda: partners.partner_slot(partner)) if partner else nullcontext
        run_parallel(self.send_unit, units, settings.PARTNER_CONCURRENCY, hold=hold)
        self.records.flush()
        return True

    def send_unit(self, items: list[Item]) -> None:
        self.heartbeat()
        if not self.flow.batch_records:
            item_record_outcomes(items=items, outcomes=self.flow.send(self.message, items))
            return
        calls: list[OutboundCall] = []
        with partners.recording_into(calls.append):
            outcomes = self.flow.send(self.message, items)
        item_apply_outcomes(items=items, outcomes=outcomes)
        self.records.add(items, calls)

    # --- the reply owed to the partner ------------------------------------------
    def send_reply(self) -> datetime | None:
        """Send the overall acknowledgement; a datetime when it must be retried later."""
        message = Message.objects.get(id=self.message.id)
        self.message = message
        if self.flow.reply_partner is None or message.reply_status in (Message.Reply.SENT, Message.Reply.FAILED):
            return None
        if not self.flow.reply_due(message):
            return None
        if message.reply_status == Message.Reply.RETRY and message.next_attempt_at:
            if message.next_attempt_at > timezone.now():
                return message.next_attempt_at
        body = self.flow.reply(message)
        if message.reply_body and same_outcome(message.reply_body, body):
            message.reply_status = Message.Reply.SENT
            message.save(update_fields=["reply_status"])
            activity_record(message=message, kind="reply_unchanged", text="Outcome unchanged: not sent again")
            return None
        result = self.flow.send_reply(message, body)
        message.reply_attempts += 1
        if result.ok:
            message.reply_status = Message.Reply.SENT
            message.reply_body = body
            activity_record(
                message=message, kind="reply_sent", text=f"{body.get('ackType', '')} to {self.flow.reply_partner}"
            )
        elif result.technical and message.reply_attempts < settings.RETRY_ATTEMPTS:
            message.reply_status = Message.Reply.RETRY
            message.next_attempt_at = timezone.now() + timedelta(seconds=backoff_s(message.reply_attempts))
        else:
            message.reply_status = Message.Reply.FAILED
            activity_record(message=message, kind="reply_failed", text=result.error)
        message.save(update_fields=["reply_status", "reply_body", "reply_attempts", "next_attempt_at"])
        if message.reply_status == Message.Reply.RETRY:
            return message.next_attempt_at
        return None

    def finish(self) -> None:
        message = self.message  # as send_reply read it just before
        counts = item_counts(message)
        if counts.get(Item.Status.FAILURE) or message.reply_status == Message.Reply.FAILED:
            status, ack_type = Message.Status.FAILED, "FAILURE"
        elif counts.get(Item.Status.ERROR):
            status, ack_type = Message.Status.COMPLETED_WITH_ERRORS, "ERROR"
        else:
            status, ack_type = Message.Status.COMPLETED, "SUCCESS"
        if message.reply_body and message.reply_body.get("ackType"):
            ack_type = message.reply_body["ackType"]
        done = Message.objects.filter(id=message.id, status=Message.Status.PROCESSING).update(
            status=status, ack_type=ack_type, finished_at=timezone.now(), next_attempt_at=None
        )
        if not done:
            raise Abandoned
        activity_record(message=message, kind="finished", text=f"{status}: {format_counts(counts)}")
        self.flow.finished(message, status)


def same_outcome(old: dict, new: dict) -> bool:
    """Two replies say the same thing if only their timestamps differ."""

    def strip(body: dict) -> dict:
        return {k: v for k, v in body.items() if not k.lower().startswith("when")}

    return strip(old) == strip(new)


def item_counts(message: Message) -> dict[str, int]:
    from django.db.models import Count

    rows = message.items.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no items"


# --- the sweeper ------------------------------------------------------------
SWEEP_LEASE = "sweeper"


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
    """One pass: take back work from dead workers, enqueue due messages, run the flows' own checks."""
    now = timezone.now()
    counts = {"stale": 0, "enqueued": 0}
    stale = Message.objects.filter(
        status=Message.Status.PROCESSING, heartbeat_at__lt=now - timedelta(seconds=settings.STALE_AFTER_S)
    ).values_list("id", flat=True)
    for message_id in list(stale):
        taken = Message.objects.filter(
            id=message_id,
            status=Message.Status.PROCESSING,
            heartbeat_at__lt=now - timedelta(seconds=settings.STALE_AFTER_S),
        ).update(status=Message.Status.QUEUED, next_attempt_at=now, enqueued_at=None)
        if taken:
            counts["stale"] += 1
            activity_record(
                message=Message(id=message_id), kind="taken_back", text="Worker stopped answering; work taken back"
            )
    requeue_before = now - timedelta(seconds=settings.Q_CLUSTER["retry"])
    due = (
        Message.objects.filter(status=Message.Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
    )
    for message_id in list(due.values_list("id", flat=True)[:1000]):
        if (
            Message.objects.filter(id=message_id, status=Message.Status.QUEUED)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
            .update(enqueued_at=now)
        ):
            counts["enqueued"] += 1
            message_enqueue(message_id=message_id)
    for flow in FLOWS.values():
        flow.sweep()
    return counts


# --- services used by the admin and management commands ---------------------
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
            .exclude(status__in=Message.UNFINISHED)
            .exclude(status__in=(Message.Status.REJECTED, Message.Status.DUPLICATE))
            .update(
                status=Message.Status.QUEUED,
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
        transaction.on_commit(lambda: message_enqueue(message_id=message.id))
    return reopened


def message_reopen(*, message_id: int, text: str) -> bool:
    """Queue a finished message again whose reply has become due since (see Flow.reply_due)."""
    reopened = Message.objects.filter(
        id=message_id,
        reply_status=Message.Reply.NONE,
        status__in=(Message.Status.COMPLETED, Message.Status.COMPLETED_WITH_ERRORS, Message.Status.FAILED),
    ).update(status=Message.Status.QUEUED, next_attempt_at=None, finished_at=None, enqueued_at=None)
    if reopened:
        activity_record(message=Message(id=message_id), kind="reopened", text=text)
        transaction.on_commit(lambda: message_enqueue(message_id=message_id))
    return bool(reopened)


def message_discard(*, message: Message, actor=None, reason: str) -> bool:
    """Stop work on a message for good; open items are cancelled."""
    with transaction.atomic():
        updated = (
            Message.objects.filter(id=message.id)
            .exclude(status__in=(Message.Status.DISCARDED, Message.Status.REJECTED, Message.Status.DUPLICATE))
            .update(status=Message.Status.DISCARDED, finished_at=timezone.now(), next_attempt_at=None)
        )
        if not updated:
            return False
        message.items.filter(status__in=Item.OPEN).update(status=Item.Status.CANCELLED, next_attempt_at=None)
        activity_record(message=message, kind="discarded", actor=actor, text=reason)
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
        for message in Message.objects.filter(id__in=ids).only("id", "status")
    )


def _actor(actor_id: int | None):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(id=actor_id).first() if actor_id else None
