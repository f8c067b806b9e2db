"""Bulk writes: one COPY writer for PostgreSQL, whose columns come from the model; batched INSERTs elsewhere."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from django.db import connections, models
from django.db.models import ForeignObjectRel

from hub.models import Item

BATCH = 2000


def column(field: models.Field | ForeignObjectRel) -> str:
    """A concrete field's column (a reverse relation, or a field not yet on a model, has none)."""
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{field} has no column")
    return field.column


def copy_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    using: str = "default",
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """PostgreSQL: COPY `rows` (values in the order of `fields`, ready for the database) into `model`'s table.

    Fields are named as on the model (a foreign key by its field name, e.g. "message"); their
    columns come from the model. With `conflict` (the fields of a unique constraint), the rows go
    through a temporary table and are upserted: a row that exists is updated in its `update` fields
    (inside a transaction only).
    """
    connection = connections[using]
    if conflict and not connection.in_atomic_block:
        raise RuntimeError("copy_rows with `conflict` needs a transaction: its temporary table is dropped at commit")
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [quote(column(meta.get_field(name))) for name in fields]
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        target = table
        if conflict:
            # The listed columns only, without the table's constraints; dropped when the transaction ends.
            target = quote(f"bulk_{meta.db_table}_{zlib.crc32(' '.join(fields).encode()):08x}")
            raw.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {target} ON COMMIT DROP AS"
                f" SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
            )
            raw.execute(f"TRUNCATE {target}")
        with raw.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if conflict:
            keys = ", ".join(quote(column(meta.get_field(name))) for name in conflict)
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in (quote(column(meta.get_field(n))) for n in update))
            action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
            listed = ", ".join(columns)
            raw.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {target} ON CONFLICT ({keys}) {action}")


def items_insert(*, items: list[Item]) -> None:
    """Insert `items` (their ids are not set afterwards).

    A 10,000-request collection is inserted before its 202 is sent; COPY
    takes a fraction of the time of Django's multi-row INSERT statements.
    """
    if not items:
        return
    connection = connections[Item.objects.db]
    if connection.vendor != "postgresql":
        Item.objects.bulk_create(items, batch_size=BATCH)
        return
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    for item in items:
        for field in fields:
            field.pre_save(item, add=True)  # auto_now and defaults, as save() would
    copy_rows(
        Item,
        [f.name for f in fields],
        ([f.get_db_prep_save(getattr(item, f.attname), connection) for f in fields] for item in items),
        using=Item.objects.db,
    )
