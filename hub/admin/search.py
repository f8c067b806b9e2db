"""Search by any business key, exact match, each key through its own index.

A single OR across the message table and its items would defeat every index
on a large table, so each key is looked up on its own and the message ids
are combined. Keys that live on a flow's own models (an event id, a
communication id) are found the same way: every indexed text field of a
flow model that leads to a message is searched, so a new flow's keys are
covered without changing the console.
"""

from __future__ import annotations

import uuid
from functools import cache

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from hub.models import Item, Message

LIMIT = 10_000  # message ids collected per key; more than anyone pages through


def links_to_message(model: type[models.Model]) -> list[str]:
    """Paths from `model` to a message id: its own foreign key, or one of a model that points at it."""
    paths = [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.related_model is Message
    ]
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model is Message:
            continue
        paths += [
            f"{rel.get_accessor_name() if rel.one_to_one else rel.name}__{f.attname}"
            for f in rel.related_model._meta.concrete_fields
            if isinstance(f, models.ForeignKey) and f.related_model is Message
        ]
    return paths


@cache
def key_sources() -> tuple[tuple[type[models.Model], str, str], ...]:
    """(model, field, path to the message id) for the items' keys and every indexed key of a flow's models."""
    sources: list[tuple[type[models.Model], str, str]] = [
        (Item, "key", "message_id"),
        (Item, "nic_id", "message_id"),
        (Item, "external_id", "message_id"),
    ]
    for model in apps.get_models():
        if not model.__module__.startswith("flows.") or model._meta.proxy:
            continue
        keys = [
            f.name
            for f in model._meta.concrete_fields
            # django-stubs leave out Field.db_index, which Field.__init__ sets on every field.
            if isinstance(f, models.CharField) and (f.db_index or f.unique) and not f.choices  # type: ignore[attr-defined]
        ]
        paths = links_to_message(model) if keys else []
        sources.extend((model, key, link) for key in keys for link in paths)
    return tuple(sources)


def message_ids_for(term: str) -> set[int]:
    term = term.strip()
    if not term:
        return set()
    ids = set(Message.objects.filter(message_key=term).values_list("id", flat=True)[:LIMIT])
    try:
        ids.update(Message.objects.filter(tracking_id=uuid.UUID(term)).values_list("id", flat=True))
    except ValueError:
        pass
    for model, field, path in key_sources():
        rows = model._default_manager.filter(**{field: term}).exclude(**{f"{path}__isnull": True})
        ids.update(rows.values_list(path, flat=True).order_by().distinct()[:LIMIT])
    return ids


def messages_matching(queryset: QuerySet, term: str) -> QuerySet:
    return queryset.filter(pk__in=sorted(message_ids_for(term))[-LIMIT:])


@cache
def link_sources() -> tuple[tuple[type[models.Model], tuple[str, ...]], ...]:
    """Flow models that tie several messages together (a check and its answer, an event's reservations
    and cancellation), with their paths to a message id."""
    out = []
    for model in apps.get_models():
        if model.__module__.startswith("flows.") and not model._meta.proxy:
            paths = tuple(links_to_message(model))
            if len(paths) >= 2:
                out.append((model, paths))
    return tuple(out)


def messages_linked_to(message_id: int, limit: int = 50) -> set[int]:
    """Ids of messages tied to this one through a flow's own rows."""
    linked: set[int] = set()
    for model, paths in link_sources():
        manager = model._default_manager
        rows: set = set()
        for path in paths:
            rows.update(manager.filter(**{path: message_id}).values_list("pk", flat=True).order_by()[:20])
        if not rows:
            continue
        for path in paths:
            found = manager.filter(pk__in=rows).exclude(**{f"{path}__isnull": True})
            linked.update(found.values_list(path, flat=True).order_by().distinct()[:limit])
    linked.discard(message_id)
    return linked
