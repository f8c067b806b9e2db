"""The runner: one owner works through a claimed message until it is done or handed back.

It sends the due items (in parallel up to the partner bound), records their
outcomes, waits for retries that fall due soon, sends the acknowledgement the
partner waits for, and finishes the message. Every write is conditional on
the owner's claim (hub/claims.py); losing it raises Abandoned.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, Min, Q
from django.utils import timezone

from hub import partners
from hub.activity import activity_record
from hub.claims import Abandoned, MessageClaim, claim_in_force
from hub.flow import Flow
from hub.leases import lease_release, lease_take
from hub.messages import format_counts, item_counts, message_enqueue
from hub.models import Item, Message, OutboundCall
from hub.outcomes import RecordBuffer, item_apply_outcomes
from hub.retry import backoff_s
from records.projection import records_update

log = logging.getLogger(__name__)

BATCH = 2000  # items fetched per pass
GROW_EVERY_S = 0.5  # how often a busy sender looks for another free partner slot


class OutOfTime(Exception):
    """The task's budget is spent: stop taking new units, hand the rest back."""


def run_parallel(
    func: Callable[[Any], None],
    units: list,
    workers: int,
    slot: Callable[..., AbstractContextManager[bool]] | None = None,
) -> None:
    """Run func(unit) for every unit on up to `workers` threads; the first error stops them all.

    With `slot` (a partner's slot, held by each thread for its whole life),
    the calling thread waits for one and sends; helper threads start only
    while slots are free and end at once otherwise, so waiting for the
    partner costs one database connection per message, not one per thread.
    """
    if slot is None:

        def slot(wait: bool = True) -> AbstractContextManager[bool]:
            return _always()

    work: queue.Queue = queue.Queue()
    for unit in units:
        work.put(unit)
    limit = min(workers, len(units))
    errors: list[BaseException] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    lock = threading.Lock()
    last_start = [0.0]

    def drain() -> None:
        while not stop.is_set():
            try:
                unit = work.get_nowait()
            except queue.Empty:
                return
            try:
                func(unit)
            except BaseException as exc:  # surfaced in the calling thread below
                errors.append(exc)
                stop.set()
                return
            if time.monotonic() - last_start[0] >= GROW_EVERY_S:
                start_helper()

    def helper() -> None:
        try:
            with slot(wait=False) as got:
                if got:
                    drain()
        except BaseException as exc:
            errors.append(exc)
            stop.set()
        finally:
            connections.close_all()

    def start_helper() -> None:
        with lock:
            if stop.is_set() or work.empty() or 1 + sum(t.is_alive() for t in threads) >= limit:
                return
            last_start[0] = time.monotonic()
            # Each thread runs in a copy of the caller's context: its log lines carry the message's
            # ids, and its partner calls check the caller's claim.
            thread = threading.Thread(target=contextvars.copy_context().run, args=(helper,), daemon=True)
            threads.append(thread)
        thread.start()

    with slot(wait=True):
        for _ in range(limit - 1):
            start_helper()
        drain()
        while any(t.is_alive() for t in threads):
            for thread in list(threads):
                thread.join()
    if errors:
        raise errors[0]


@contextmanager
def _always() -> Iterator[bool]:
    yield True


class Runner:
    def __init__(self, message: Message, flow: Flow, claim: MessageClaim):
        self.message = message
        self.flow = flow
        self.claim = claim
        self.deadline = time.monotonic() + settings.TASK_BUDGET_S
        self.lock = flow.lock_name(message)
        if self.lock:
            claim.on_beat = self._renew_lock
        self.records = RecordBuffer(claim)
        self.more_due = True  # False once a pass found fewer due items than it could take

    def _renew_lock(self) -> bool:
        return lease_take(name=self.lock, owner=self.claim.token, seconds=settings.STALE_AFTER_S)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the flow's lock for this message; a message whose lock is taken goes back to wait."""
        if not self.lock:
            yield
            return
        if not self._renew_lock():
            self.release(timezone.now() + timedelta(seconds=1))
            raise Abandoned
        try:
            yield
        finally:
            lease_release(name=self.lock, owner=self.claim.token)

    # --- the loop -------------------------------------------------------------
    def run(self) -> None:
        with claim_in_force(self.claim):
            self._run()

    def _run(self) -> None:
        beat = False  # the claim (and the lock, if any) were taken just now
        while True:
            if beat:
                self.claim.beat()
            beat = True
            if self.send_due_items():
                if self.more_due:
                    continue
                self.claim.beat()
            next_due = self.next_item_due()
            if next_due is None:
                next_due = self.send_reply()
                if next_due is None:
                    self.finish()
                    return
            if not self.wait_until(next_due):
                self.release(next_due)
                return

    def wait_until(self, due: datetime) -> bool:
        """Sleep until `due` if this task's budget allows; False means hand the message back."""
        wait = (due - timezone.now()).total_seconds()
        if wait > settings.RETRY_HOLD_S or time.monotonic() + wait > self.deadline:
            return False
        while wait > 0:
            time.sleep(min(wait, settings.HEARTBEAT_S))
            self.claim.check()
            wait = (due - timezone.now()).total_seconds()
        return True

    def release(self, due: datetime) -> None:
        """Hand the message back to the queue, to be taken up again at `due`."""
        released = self.claim.mine().update(
            status=Message.Status.QUEUED, claim="", next_attempt_at=due, enqueued_at=None
        )
        if released and due <= timezone.now():
            message_enqueue(message_id=self.message.id)

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
        units = self.flow.units(self.message, items)
        partner = self.flow.partner
        slot = (lambda wait=True: partners.partner_slot(partner, wait=wait)) if partner else None
        try:
            run_parallel(self.send_unit, units, settings.PARTNER_CONCURRENCY, slot=slot)
        except OutOfTime:
            self.release(timezone.now())
            raise Abandoned from None
        return True

    def send_unit(self, items: list[Item]) -> None:
        if time.monotonic() > self.deadline:
            raise OutOfTime
        self.claim.check()
        calls: list[OutboundCall] = []
        with partners.recording_into(calls.append):
            outcomes = self.flow.send(self.message, items)
        item_apply_outcomes(items=items, outcomes=outcomes)
        # Stored before this thread's next call: a worker that stops leaves only its calls in flight to resend.
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
        if body is None:  # nothing owed after all
            return None
        if message.reply_body and same_outcome(message.reply_body, body):
            if not self.claim.mine().update(reply_status=Message.Reply.SENT):
                raise Abandoned
            message.reply_status = Message.Reply.SENT
            activity_record(message=message, kind="reply_unchanged", text="Outcome unchanged: not sent again")
            return None
        self.claim.check()
        return reply_send(message=message, flow=self.flow, body=body, claim=self.claim)

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
        done = self.claim.mine().update(
            status=status, claim="", ack_type=ack_type, finished_at=timezone.now(), next_attempt_at=None
        )
        if not done:
            raise Abandoned
        activity_record(message=message, kind="finished", text=f"{status}: {format_counts(counts)}")
        try:
            self.flow.finished(message, status)
        finally:
            records_update(message)  # the business records the message touched; never raises


def reply_send(*, message: Message, flow: Flow, body: dict, claim: MessageClaim) -> datetime | None:
    """Send `body` to the partner that waits for it and record the attempt; a datetime when to try again."""
    result = flow.send_reply(message, body)
    attempts = message.reply_attempts + 1
    next_at = None
    if result.ok:
        status = Message.Reply.SENT
        activity_record(message=message, kind="reply_sent", text=f"{body.get('ackType', '')} to {flow.reply_partner}")
    elif result.technical and attempts < settings.RETRY_ATTEMPTS:
        status = Message.Reply.RETRY
        next_at = timezone.now() + timedelta(seconds=backoff_s(attempts))
    else:
        status = Message.Reply.FAILED
        activity_record(message=message, kind="reply_failed", text=result.error)
    fields = {"reply_status": status, "reply_attempts": attempts, "next_attempt_at": next_at}
    if result.ok:
        fields["reply_body"] = body
    if not claim.mine().update(**fields):
        raise Abandoned
    for name, value in fields.items():
        setattr(message, name, value)
    return next_at


def same_outcome(old: dict, new: dict) -> bool:
    """Two replies say the same thing if only their timestamps differ."""

    def strip(body: dict) -> dict:
        return {k: v for k, v in body.items() if not k.lower().startswith("when")}

    return strip(old) == strip(new)
