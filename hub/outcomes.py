"""What partners said about items, written back: outcomes, retry times, bulk saving."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connections, transaction
from django.utils import timezone

from hub.bulk import column
from hub.claims import Abandoned, MessageClaim, db_patiently
from hub.flow import Outcome, OutcomeStatus
from hub.models import Item, OutboundCall
from hub.retry import backoff_s, retries_exhausted

ITEM_OUTCOME_FIELDS = [
    "attempts",
    "last_error",
    "response",
    "message_number",
    "external_id",
    "status",
    "next_attempt_at",
    "first_failed_at",
    "updated_at",
]


class RecordBuffer:
    """Item outcomes and call records of many sending threads written together (a group commit).

    A thread hands over what its call produced and waits until it is
    written: whichever thread finds no write in progress writes everything
    handed over so far, in one transaction, while the others wait. So no
    thread starts its next call before its last outcome is stored, and an
    owner that freezes or dies leaves at most its calls in flight (the
    partner bound) to be sent again, each with the same transaction id.
    Outcomes are written only while `claim` is held (see outcomes_save).
    """

    def __init__(self, claim: MessageClaim):
        self.claim = claim
        self.cond = threading.Condition()
        self.items: list[Item] = []
        self.calls: list[OutboundCall] = []
        self.open = 1  # the batch new outcomes join
        self.written = 0  # the last batch written (or failed)
        self.writing = False
        self.failure: BaseException | None = None

    def add(self, items: list[Item], calls: list[OutboundCall]) -> None:
        """Hand over one call's outcomes; returns once they are written, raises if that failed."""
        with self.cond:
            self.items.extend(items)
            self.calls.extend(calls)
            mine = self.open
            while self.written < mine and self.failure is None:
                if self.writing:
                    self.cond.wait()
                else:
                    self._write_batch()
            if self.failure is not None:
                raise self.failure

    def _write_batch(self) -> None:
        """Write the open batch; called holding self.cond, which is released during the write."""
        batch, items, calls = self.open, self.items, self.calls
        self.items, self.calls = [], []
        self.open += 1
        self.writing = True
        self.cond.release()
        try:
            outcomes_save(claim=self.claim, items=items, calls=calls)
        except BaseException as exc:
            self.failure = exc
        finally:
            self.cond.acquire()
            self.writing = False
            self.written = batch
            self.cond.notify_all()


def outcomes_save(*, claim: MessageClaim, items: list[Item], calls: list[OutboundCall]) -> None:
    """Write call records and, if `claim` still holds the message, the items' outcomes, in one transaction.

    On PostgreSQL the guarded UPDATE of the message row locks it until the
    commit, so a discard or a takeover waits for these outcomes or comes
    wholly before them; never between.
    """

    def write() -> bool:
        for call in calls:
            call.pk = None  # a try that failed mid-way may have set ids; the write is all or nothing
        with transaction.atomic():
            OutboundCall.objects.bulk_create(calls, batch_size=500)
            if not claim.mine().update(heartbeat_at=timezone.now()):
                return False
            items_save_outcomes(items=items)
            return True

    if not db_patiently(write):
        claim.lost = True
        raise Abandoned


def items_save_outcomes(*, items: list[Item]) -> None:
    """UPDATE the items' outcome fields: one statement per shared outcome, one executemany for the rest.

    Django's bulk_update builds a CASE expression per field and row, which
    costs more CPU than the partner calls themselves on large collections.
    """
    if not items:
        return
    concrete = {f.name: f for f in Item._meta.concrete_fields}
    fields = [concrete[name] for name in ITEM_OUTCOME_FIELDS]
    connection = connections[Item.objects.db]
    columns = ", ".join(f"{connection.ops.quote_name(column(f))} = %s" for f in fields)
    update = f"UPDATE {connection.ops.quote_name(Item._meta.db_table)} SET {columns} WHERE "
    sql = update + "id = %s"
    # Items with the same outcome (a collection sent in one call) share one UPDATE … WHERE id IN (…).
    same: dict[tuple, list[Item]] = {}
    for item in items:
        same.setdefault(tuple(repr(getattr(item, f.attname)) for f in fields), []).append(item)
    rows = []
    with connection.cursor() as cursor:
        for group in same.values():
            values = [f.get_db_prep_save(getattr(group[0], f.attname), connection) for f in fields]
            if len(group) == 1:
                rows.append([*values, group[0].id])
                continue
            marks = ", ".join(["%s"] * len(group))
            cursor.execute(update + f"id IN ({marks})", [*values, *(item.id for item in group)])
        if rows:
            cursor.executemany(sql, rows)


def item_apply_outcomes(*, items: list[Item], outcomes: dict[int, Outcome]) -> None:
    """Set each item's fields from what the partner said; technical errors get a retry time."""
    now = timezone.now()
    for item in items:
        outcome = outcomes[item.id]
        item.attempts += 1
        item.last_error = outcome.error
        item.response = outcome.response
        if outcome.message_number is not None:
            item.message_number = outcome.message_number
        if outcome.external_id:
            item.external_id = outcome.external_id
        if outcome.status is OutcomeStatus.TECHNICAL:
            item.first_failed_at = item.first_failed_at or now
            if retries_exhausted(attempts=item.attempts, first_failed_at=item.first_failed_at, now=now):
                item.status = Item.Status.FAILURE
                item.next_attempt_at = None
            else:
                item.status = Item.Status.RETRY
                item.next_attempt_at = now + timedelta(seconds=backoff_s(item.attempts))
        else:
            item.status = outcome.status.item_status
            item.next_attempt_at = None
        item.updated_at = now
