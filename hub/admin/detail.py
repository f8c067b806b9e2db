"""What the message page shows beside the fields: payload, items, calls, timeline, related messages."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse

from hub.admin.search import links_to_message, messages_linked_to
from hub.models import Item, Message

PAYLOAD_SHOWN = 512 * 1024  # bytes of a raw body shown on the page; the rest is cut
ITEMS_PER_PAGE = 50
CALLS_PER_PAGE = 20
TIMELINE_SHOWN = 500
RECORDS_SHOWN = 5


def payload_text(raw: bytes | memoryview | None) -> tuple[str, bool]:
    """The raw body pretty-printed when it is JSON, as text otherwise; and whether it was cut."""
    if raw is None:
        return "", False
    raw = bytes(raw)
    cut = len(raw) > PAYLOAD_SHOWN
    if not cut:
        try:
            return json.dumps(json.loads(raw), indent=2, ensure_ascii=False), False
        except ValueError:
            pass
    return raw[:PAYLOAD_SHOWN].decode("utf-8", "replace"), cut


def pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if value not in (None, "", {}, []) else ""


def pretty_body(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def item_section(request: HttpRequest, message: Message) -> dict:
    status = request.GET.get("item_status", "")
    counts = dict(message.items.order_by().values_list("status").annotate(n=Count("id")))
    items = message.items.order_by("seq")
    if status in Item.Status.values:
        items = items.filter(status=status)
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("item_page"))
    return {
        "items_page": page,
        "item_status": status,
        "item_counts": [(value, counts.get(value, 0)) for value in Item.Status.values if counts.get(value)],
        "failed_item_count": counts.get(Item.Status.ERROR, 0) + counts.get(Item.Status.FAILURE, 0),
    }


def call_section(request: HttpRequest, message: Message) -> dict:
    calls = message.calls.select_related("item").order_by("id")
    page = Paginator(calls, CALLS_PER_PAGE).get_page(request.GET.get("call_page"))
    for call in page.object_list:
        # Shown by the template beside each call's raw bodies.
        vars(call).update(
            request_pretty=pretty_body(call.request_body), response_pretty=pretty_body(call.response_body)
        )
    return {"calls_page": page}


def related_messages(message: Message) -> list[tuple[str, Message]]:
    """Messages linked to this one: what it answers, what answers it, the copy it duplicates, its duplicates."""
    rows: list[tuple[str, Message]] = []
    fields = ("id", "flow", "message_key", "tracking_id", "status", "received_at")
    if message.related_id:
        rows += [("relates to", m) for m in Message.objects.filter(id=message.related_id).only(*fields)]
    if message.duplicate_of_id:
        rows += [("duplicate of", m) for m in Message.objects.filter(id=message.duplicate_of_id).only(*fields)]
    linked = Message.objects.filter(Q(related_id=message.id) | Q(duplicate_of_id=message.id)).only(
        *fields, "related_id"
    )
    for other in linked.order_by("id")[:100]:
        rows.append(("related" if other.related_id == message.id else "duplicate", other))
    shown = {other.pk for _, other in rows}
    through_flow = messages_linked_to(message.id) - shown
    rows += [("same record", m) for m in Message.objects.filter(id__in=through_flow).only(*fields).order_by("id")]
    return rows


def flow_records(request: HttpRequest, site, message: Message) -> list[dict]:
    """The flows' own rows about this message (its status check, its event…), linked to their pages."""
    out = []
    for model, model_admin in site._registry.items():
        if not model.__module__.startswith("flows.") or not model_admin.has_view_permission(request):
            continue
        opts = model._meta
        for path in links_to_message(model):
            rows = model._default_manager.filter(**{path: message.id}).distinct().order_by("pk")
            shown = list(rows[: RECORDS_SHOWN + 1])
            if not shown:
                continue
            out.append(
                {
                    "title": opts.verbose_name_plural,
                    "rows": [
                        (str(obj), reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
                        for obj in shown[:RECORDS_SHOWN]
                    ],
                    "more": rows.count() - RECORDS_SHOWN if len(shown) > RECORDS_SHOWN else 0,
                }
            )
    return out


def message_context(request: HttpRequest, message: Message, site) -> dict:
    payload, cut = payload_text(message.raw_body)
    timeline = list(message.activities.select_related("actor").order_by("id")[:TIMELINE_SHOWN])
    return {
        "payload": payload,
        "payload_cut": cut,
        "errors_pretty": pretty(message.errors),
        "headers_pretty": pretty(message.headers),
        "ack_pretty": pretty(message.ack),
        "reply_pretty": pretty(message.reply_body),
        "timeline": timeline,
        "related": related_messages(message),
        "records": flow_records(request, site, message),
        **item_section(request, message),
        **call_section(request, message),
    }
