"""What partners said about items, written back: outcomes, retry times, bulk saving."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from flows.base import Outcome
from hub.models import Item, OutboundCall


def backoff_s(attempts: int) -> float:
    """Delay before attempt `attempts + 1`: doubling from RETRY_FIRST_S, capped, ±20 % jitter."""
    base = min(settings.RETRY_FIRST_S * 2 ** max(attempts - 1, 0), settings.RETRY_MAX_S)
    return base * random.uniform(0.8, 1.2)


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
    """Item outcomes and call records written in bulk, FLUSH_EVERY items at a time.

    A worker that dies loses at most the unwritten outcomes: those items are
    still open and are sent again with the same transaction id, which the
    partner recognises.
    """

    FLUSH_EVERY = 200

    def __init__(self):
        self.lock = threading.Lock()
        self.items: list[Item] = []
        self.calls: list[OutboundCall] = []

    def add(self, items: list[Item], calls: list[OutboundCall]) -> None:
        with self.lock:
            self.items.extend(items)
            self.calls.extend(calls)
            full = len(self.items) >= self.FLUSH_EVERY
        if full:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            items, calls = self.items, self.calls
            self.items, self.calls = [], []
        if not items and not calls:
            return
        with transaction.atomic():
            OutboundCall.objects.bulk_create(calls, batch_size=500)
            items_save_outcomes(items=items)


def items_save_outcomes(*, items: list[Item]) -> None:
    """UPDATE the items' outcome fields: one statement per shared outcome, one executemany for the rest.

    Django's bulk_update builds a CASE expression per field and row, which
    costs more CPU than the partner calls themselves on large collections.
    """
    if not items:
        return
    fields = [Item._meta.get_field(name) for name in ITEM_OUTCOME_FIELDS]
    connection = connections[Item.objects.db]
    columns = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
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


def item_record_outcomes(*, items: list[Item], outcomes: dict[int, Outcome]) -> None:
    """Write what the partner said about each item; technical errors get a retry time."""
    item_apply_outcomes(items=items, outcomes=outcomes)
    items_save_outcomes(items=items)


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
        if outcome.status == Outcome.TECHNICAL:
            item.first_failed_at = item.first_failed_at or now
            if item.attempts >= settings.RETRY_ATTEMPTS:
                item.status = Item.Status.FAILURE
                item.next_attempt_at = None
            else:
                item.status = Item.Status.RETRY
                item.next_attempt_at = now + timedelta(seconds=backoff_s(item.attempts))
        else:
            item.status = outcome.status
            item.next_attempt_at = None
        item.updated_at = now
