"""Search by any business key: the console's one search box, and the messages list's exact search.

The search box (search_view) looks a term up in the business keys of every
record (records.BusinessKey: cisPersonId, nicId, eventId, messageId…),
case-insensitively, by exact value and, for terms of PREFIX_MIN characters
or more, by prefix, through one index; each hit says which key matched. A
tracking id, or a message id that names one message only, opens that message.

The messages list keeps its exact search below.

A single OR across the message table and its items would defeat every index
on a large table, so each key is looked up on its own and the message ids
are combined. Keys that live on a flow's own models (an event id, a
communication id) are found the same way: every indexed text field of a
flow model that leads to a message is searched, so a new flow's keys are
covered without changing the console.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

from django.apps import apps
from django.db import connection, models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from hub.models import Item, Message
from hub.registry import flow_model
from records.models import BusinessKey, Device, Enrollment

LIMIT = 10_000  # message ids collected per key; more than anyone pages through
PREFIX_MIN = 4  # shorter terms match whole keys only ("1" is a requestId, not the start of thousands)
HITS = 50  # hits shown per kind of match (exact, prefix)


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
        if not flow_model(model):
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
    # Keys are written in one case by the partners; the term is looked up as typed, in upper and in lower case.
    spellings = sorted({term, term.upper(), term.lower()})
    ids = set(Message.objects.filter(message_key__in=spellings).values_list("id", flat=True)[:LIMIT])
    try:
        ids.update(Message.objects.filter(tracking_id=uuid.UUID(term)).values_list("id", flat=True))
    except ValueError:
        pass
    for model, field, path in key_sources():
        rows = model._default_manager.filter(**{f"{field}__in": spellings}).exclude(**{f"{path}__isnull": True})
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
        if flow_model(model):
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


# --- the search box -----------------------------------------------------------------
@dataclass
class Hit:
    kind: str  # the key that matched: "cisPersonId", "nicId", "trackingId"…
    value: str  # the key as the record holds it
    exact: bool
    target: str  # enrollment, device, event, message
    target_id: int = 0
    label: str = ""
    status: str = ""
    url: str = ""


def keys_matching(term: str, *, prefix: bool, limit: int = HITS) -> list[BusinessKey]:
    """Business keys equal to `term` (any case) or, with `prefix`, starting with it; through one index."""
    low = term.lower()
    keys = BusinessKey.objects.only("kind", "value", "value_lower", "target", "target_id")
    if not prefix:
        return list(keys.filter(value_lower=low)[:limit])
    if connection.vendor == "postgresql":
        # LIKE 'abc%' on the varchar_pattern_ops index, whatever the database's collation.
        keys = keys.filter(value_lower__startswith=low)
    else:
        # SQLite compares text byte by byte: a range on the plain index is the prefix.
        keys = keys.filter(value_lower__gte=low, value_lower__lt=low + "\U0010ffff")
    return list(keys.exclude(value_lower=low)[:limit])


def messages_by_id(term: str) -> list[Hit]:
    """The message a tracking id names, or the messages whose sender's key is `term` (in its own case or upper)."""
    try:
        found = Message.objects.filter(tracking_id=uuid.UUID(term))
        kind = "trackingId"
    except ValueError:
        found = Message.objects.filter(message_key__in={term, term.upper(), term.lower()})
        kind = "messageId"
    return [
        Hit(kind, str(m.tracking_id) if kind == "trackingId" else m.message_key, True, "message", target_id=m.id)
        for m in found.only("id", "tracking_id", "message_key")[:HITS]
    ]


def search(term: str, user) -> list[Hit]:
    """Every record one of whose keys matches `term`, exact matches first; only records `user` may see."""
    term = term.strip()
    if not term:
        return []
    hits = messages_by_id(term)
    seen = {(hit.target, hit.target_id, "") for hit in hits}
    rows = keys_matching(term, prefix=False)
    if len(term) >= PREFIX_MIN:
        rows += keys_matching(term, prefix=True)
    for row in rows:
        # A record is listed once, by its first matching key; a program once per program.
        seen_as = (row.target, row.target_id, row.value_lower if row.target == "program" else "")
        if seen_as in seen:
            continue
        seen.add(seen_as)
        hits.append(Hit(row.kind, row.value, row.value.lower() == term.lower(), row.target, row.target_id))
    return [hit for hit in describe(hits) if hit.url and allowed(user, hit.target)]


VIEW_PERMISSION = {
    "enrollment": "records.view_enrollment",
    "device": "records.view_device",
    "event": "device_reservations.view_programevent",
    "message": "hub.view_message",
    "program": "records.view_enrollment",
}


def allowed(user, target: str) -> bool:
    return user.has_perm(VIEW_PERMISSION[target])


def describe(hits: list[Hit]) -> list[Hit]:
    """Give each hit its record's label, status and page: one query per kind of record."""
    from flows.device_reservations.models import ProgramEvent

    ids: dict[str, set[int]] = {}
    for hit in hits:
        ids.setdefault(hit.target, set()).add(hit.target_id)
    records: dict[tuple[str, int], tuple[str, str, str]] = {}
    for e in Enrollment.objects.filter(id__in=ids.get("enrollment", ())):
        label = f"{e.cis_person_id} in {e.program_code} at service point {e.cis_service_point_id}"
        url = reverse("admin:records_enrollment_change", args=[e.id])
        records[("enrollment", e.id)] = (label, e.get_status_display(), url)
    for d in Device.objects.filter(id__in=ids.get("device", ())):
        label = f"{d.nic_id} ({d.head_end_system}{', ' + d.device_type if d.device_type else ''})"
        url = reverse("admin:records_device_change", args=[d.id])
        records[("device", d.id)] = (label, d.check_result and f"last check {d.check_result}", url)
    for ev in ProgramEvent.objects.filter(id__in=ids.get("event", ())):
        label = f"{ev.event_id}: {ev.event_type} event of {ev.program_code or 'no program'}, {ev.start:%Y-%m-%d %H:%M}"
        url = reverse("admin:device_reservations_programevent_change", args=[ev.id])
        records[("event", ev.id)] = (label, ev.get_status_display(), url)
    for m in Message.objects.filter(id__in=ids.get("message", ())).only("id", "flow", "message_key", "status"):
        label = f"{m.flow.replace('_', ' ')} {m.message_key or m.id}"
        records[("message", m.id)] = (label, m.get_status_display(), reverse("admin:hub_message_change", args=[m.id]))
    for hit in hits:
        if hit.target == "program":
            hit.label = f"every enrollment in {hit.value}"
            hit.url = reverse("admin:records_enrollment_changelist") + "?" + urlencode({"program": hit.value})
            continue
        hit.label, hit.status, hit.url = records.get((hit.target, hit.target_id), ("", "", ""))
    return hits


def search_view(site, request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()[:200]
    hits = search(term, request.user) if term else []
    messages = [hit for hit in hits if hit.target == "message"]
    if len(messages) == 1 and messages[0].exact and all(hit.target == "message" for hit in hits):
        return redirect(messages[0].url)
    context = {
        **site.each_context(request),
        "title": f"Search: {term}" if term else "Search",
        "term": term,
        "exact": [hit for hit in hits if hit.exact],
        "prefix": [hit for hit in hits if not hit.exact],
        "prefix_min": PREFIX_MIN,
        "limit": HITS,
    }
    return TemplateResponse(request, "admin/hub/search.html", context)
