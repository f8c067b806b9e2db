"""Why a message, a record or an email is where it is, in one line; and statuses as coloured badges with
readable names.

Every list of messages (the messages list, the dashboard, a message's own
page) shows `messages_why` beside anything not succeeded: the last error,
the partner, attempt n of N, the next attempt. It reads a handful of rows
per page whatever the number of messages: the item counts of the messages
shown, and for each message one retrying, one failed and one refused item.
The items list shows `items_why` and the emails list `email_why` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from hub.models import Item, Message, Notification, OutboundCall
from hub.registry import FLOWS

# Readable names of every status the console shows: messages, items, replies, calls, emails.
LABELS = {
    "RECEIVED": "Received",
    "REJECTED": "Rejected",
    "DUPLICATE": "Duplicate",
    "QUEUED": "Queued",
    "PROCESSING": "Processing",
    "COMPLETED": "Completed",
    "COMPLETED_WITH_ERRORS": "Completed with errors",
    "FAILED": "Failed",
    "DISCARDED": "Discarded",
    "PENDING": "Pending",
    "RETRY": "Retrying",
    "SUCCESS": "Succeeded",
    "ERROR": "Business error",
    "FAILURE": "Technical failure",
    "CANCELLED": "Cancelled",
    "BUSINESS": "Business error",
    "TECHNICAL": "Technical error",
    "NONE": "Not due",
    "SENT": "Sent",
    "SENDING": "Sending",
}
# What a colour means: done well, under way, needs a look, went wrong, out of play.
TONES = {
    "ok": ("COMPLETED", "SUCCESS", "SENT"),
    "busy": ("RECEIVED", "QUEUED", "PROCESSING", "PENDING", "SENDING"),
    "warn": ("RETRY", "COMPLETED_WITH_ERRORS", "ERROR", "BUSINESS"),
    "bad": ("FAILED", "FAILURE", "TECHNICAL", "REJECTED"),
    "off": ("DISCARDED", "DUPLICATE", "CANCELLED", "NONE"),
}
TONE_OF = {status: tone for tone, statuses in TONES.items() for status in statuses}
# Background colours readable with white text in the admin's light and dark themes.
COLOURS = {"ok": "#2e7d32", "busy": "#1565c0", "warn": "#a15c00", "bad": "#c62828", "off": "#616161"}
BADGE_STYLE = (
    "display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;background:{};"
    "font-size:11px;font-weight:600;line-height:16px;white-space:nowrap"
)


CELL_CHARS = 200  # text put in a list cell; the cell itself is cut to its width, the whole in its title


def cell(text: str, css: str = "cut") -> SafeString:
    """A one-line list cell cut to its column's width, the whole text in its title."""
    return format_html('<span class="{}" title="{}">{}</span>', css, text, text[:CELL_CHARS])


def when_cell(value: datetime | None) -> SafeString | str:
    """A list cell's date and time, short ("28 Nov 04:36"), the full ISO time in its title."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html('<span title="{}">{}</span>', local.isoformat(), f"{local:%d %b %H:%M}")


def status_label(status: str) -> str:
    """ "COMPLETED_WITH_ERRORS" → "Completed with errors"; an unknown value is made readable the same way."""
    return LABELS.get(status) or str(status).replace("_", " ").capitalize()


def status_tone(status: str) -> str:
    return TONE_OF.get(status, "off")


def status_badge(status: str, *, label: str = "", tone: str = "") -> SafeString:
    """The one way the console shows a status: a coloured badge, its readable name, the raw value as title."""
    colour = COLOURS[tone or status_tone(status)]
    return format_html(
        '<span class="status-badge" title="{}" style="{}">{}</span>',
        status,
        format_html(BADGE_STYLE, colour),
        label or status_label(status),
    )


@dataclass(frozen=True)
class Why:
    """A message's state as people read it: a badge (`label`, `tone`) and one line of reason (`text`)."""

    status: str
    label: str
    tone: str
    text: str
    counts: dict[str, int]  # the message's items by status

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def badge(self) -> SafeString:
        return status_badge(self.status, label=self.label, tone=self.tone)


def when_text(value: datetime, now: datetime) -> str:
    """14:05, or 26 Nov 14:05 on another day, in the console's time zone."""
    local, today = timezone.localtime(value), timezone.localtime(now)
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%d %b %H:%M}"


def error_text(partner: str | None, error: str, code: int | None = None) -> str:
    """ "HTTP 503: Service temporarily unavailable" from DACS → "DACS 503 Service temporarily unavailable";
    `code`, the HTTP status of the call that failed, is added when the error does not say it."""
    error = " ".join(error.split())
    if error.startswith("HTTP ") and ":" in error[5:9]:
        said, _, rest = error[5:].partition(":")
        error = f"{said} {rest.strip()}"
    elif code:
        error = f"{code} {error}"
    return f"{partner} {error}".strip() if partner else error


def _attempt(attempts: int, due: datetime | None, now: datetime) -> str:
    """Attempt n of N about to be made, and when."""
    text = f"attempt {attempts + 1} of {settings.RETRY_ATTEMPTS}"
    if due is not None:
        text += f", next at {when_text(due, now)}" if due > now else f", due since {when_text(due, now)}"
    return text


def _with_error(text: str, partner: str | None, error: str, code: int | None = None) -> str:
    return f"{text} — {error_text(partner, error, code)}" if error else text


def _items(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


def _last_call_codes(item_ids) -> dict[int, int | None]:
    """The HTTP status of each item's last call (a technical failure's error text may not say it)."""
    last_calls = OutboundCall.objects.filter(item_id__in=item_ids).order_by().values("item_id")
    return dict(
        OutboundCall.objects.filter(id__in=last_calls.annotate(last=Max("id")).values("last")).values_list(
            "item_id", "response_status"
        )
    )


def message_why(
    message: Message,
    *,
    counts: dict[str, int],
    examples: dict[str, Item],
    reply_error: str = "",
    rejection: str = "",
    now: datetime | None = None,
) -> Why:
    """The reason for one message, from its item counts and one item per status in `examples`.

    Use `messages_why`, which reads these for many messages at once.
    """
    now = now or timezone.now()
    status = message.status
    flow = FLOWS.get(message.flow)
    partner = flow.partner if flow else None
    reply_partner = flow.reply_partner if flow else None
    total = sum(counts.values())
    n_retry, n_failure, n_error = (counts.get(s, 0) for s in (Item.Status.RETRY, Item.Status.FAILURE, "ERROR"))
    label, tone, text = status_label(status), status_tone(status), ""

    if status in Message.UNFINISHED:
        if n_retry:
            item = examples[Item.Status.RETRY]
            label, tone = "Retrying", "warn"
            head = "Retrying" if n_retry == 1 else f"Retrying {n_retry} of {_items(total)}"
            head = f"{head}: {_attempt(item.attempts, item.next_attempt_at, now)}"
            text = _with_error(head, partner, item.last_error, getattr(item, "http_status", None))
        elif message.reply_status == Message.Reply.RETRY:
            label, tone = "Retrying", "warn"
            due = message.next_attempt_at
            head = f"Retrying the reply to {reply_partner}: {_attempt(message.reply_attempts, due, now)}"
            text = _with_error(head, None, reply_error)
        elif message.crashes:
            runs = f"{message.crashes} interrupted run{'s' if message.crashes != 1 else ''}"
            text = _with_error(f"{label} again after {runs}", None, message.last_error)
        elif status == Message.Status.QUEUED:
            text = f"Waiting for a worker since {when_text(message.enqueued_at or message.received_at, now)}"
        elif status == Message.Status.PROCESSING:
            done = total - counts.get(Item.Status.PENDING, 0)
            text = f"Sending to {partner}: {done} of {_items(total)} done" if partner and total else "Processing"
        else:
            text = f"Being received since {when_text(message.received_at, now)}"
    elif status == Message.Status.REJECTED:
        code = f" ({message.http_status})" if message.http_status else ""
        text = f"Rejected{code}: {rejection}" if rejection else f"Rejected{code}"
    elif status == Message.Status.DUPLICATE:
        text = "A copy of a message already accepted; the first copy is the one processed"
    elif status == Message.Status.DISCARDED:
        text = message.last_error or "Discarded"
    elif status in (Message.Status.FAILED, Message.Status.COMPLETED_WITH_ERRORS, Message.Status.COMPLETED):
        parts = []
        if n_failure:
            item = examples[Item.Status.FAILURE]
            head = f"{n_failure} of {_items(total)} failed after {_attempts(item.attempts)}"
            parts.append(_with_error(head, partner, item.last_error, getattr(item, "http_status", None)))
        if n_error:
            item = examples[Item.Status.ERROR]
            code = f" {item.message_number}" if item.message_number is not None else ""
            head = f"{n_error} of {_items(total)} refused by {partner or 'the partner'}{code}"
            parts.append(_with_error(head, None, item.last_error))
        if message.reply_status == Message.Reply.FAILED:
            head = f"Reply to {reply_partner} failed after {_attempts(message.reply_attempts)}"
            parts.append(_with_error(head, None, reply_error))
        if not parts and status == Message.Status.FAILED:
            parts.append(message.last_error or "Failed")
        text = "; ".join(parts)
    return Why(status=status, label=label, tone=tone, text=text, counts=counts)


def messages_why(messages: Iterable[Message], *, now: datetime | None = None) -> dict[int, Why]:
    """The reason for each of `messages` (a page of them), by message id, in at most six queries.

    The messages need `id`, `flow`, `status`, `http_status`, `reply_status`,
    `reply_attempts`, `crashes`, `last_error`, `next_attempt_at`,
    `enqueued_at` and `received_at` loaded.
    """
    messages = list(messages)
    ids = [m.id for m in messages]
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = {}
    rows = Item.objects.filter(message_id__in=ids).order_by().values_list("message_id", "status")
    for message_id, status, n in rows.annotate(n=Count("id")):
        counts.setdefault(message_id, {})[status] = n

    wanted = (Item.Status.RETRY, Item.Status.FAILURE, Item.Status.ERROR)
    needing = [i for i in ids if any(counts.get(i, {}).get(s) for s in wanted)]
    examples: dict[int, dict[str, Item]] = {}
    if needing:
        # One item per message and status, each found on the (message, status) index.
        picks = {
            status: Subquery(Item.objects.filter(message_id=OuterRef("pk"), status=status).order_by().values("id")[:1])
            for status in wanted
        }
        chosen = Message.objects.filter(id__in=needing).order_by().annotate(**picks).values_list("id", *wanted)
        item_ids = {item_id for row in chosen for item_id in row[1:] if item_id}
        fields = ("id", "message_id", "status", "attempts", "next_attempt_at", "last_error", "message_number")
        retried = Item.objects.filter(id__in=item_ids, status__in=(Item.Status.RETRY, Item.Status.FAILURE))
        codes = _last_call_codes(retried.values("id"))
        for item in Item.objects.filter(id__in=item_ids).only(*fields):
            item.http_status = codes.get(item.id)
            examples.setdefault(item.message_id, {})[item.status] = item

    replying = [m.id for m in messages if m.reply_status in (Message.Reply.RETRY, Message.Reply.FAILED)]
    reply_errors: dict[int, str] = {}
    if replying:
        reply_calls = OutboundCall.objects.filter(message_id__in=replying).order_by().values("message_id")
        last_ids = reply_calls.annotate(last=Max("id")).values_list("last", flat=True)
        reply_errors = dict(OutboundCall.objects.filter(id__in=list(last_ids)).values_list("message_id", "error"))

    rejected = [m.id for m in messages if m.status == Message.Status.REJECTED]
    rejections: dict[int, str] = {}
    if rejected:
        found = Message.objects.filter(id__in=rejected).annotate(said=KeyTextTransform("message", "errors"))
        rejections = {pk: said or "" for pk, said in found.values_list("id", "said")}

    now = now or timezone.now()
    return {
        m.id: message_why(
            m,
            counts=counts.get(m.id, {}),
            examples=examples.get(m.id, {}),
            reply_error=reply_errors.get(m.id, ""),
            rejection=rejections.get(m.id, ""),
            now=now,
        )
        for m in messages
    }


# The fields of a message `messages_why` reads: load these (`.only(*WHY_FIELDS)`) and nothing bigger.
WHY_FIELDS = (
    "id",
    "flow",
    "message_key",
    "tracking_id",
    "status",
    "http_status",
    "reply_status",
    "reply_attempts",
    "crashes",
    "last_error",
    "next_attempt_at",
    "enqueued_at",
    "received_at",
    "finished_at",
)


def next_step(message: Message, why: Why) -> str:
    """What, if anything, support staff can do about the message now."""
    flow = FLOWS.get(message.flow)
    partner = (flow.partner if flow else None) or "the partner"
    counts = why.counts
    match message.status:
        case Message.Status.REJECTED:
            return (
                "Nothing to send: the sender must correct the message and send it again "
                "(the corrected copy gets a new tracking id)."
            )
        case Message.Status.DUPLICATE:
            return "Nothing to do: the first copy of this message is the one processed."
        case Message.Status.DISCARDED:
            return "Nothing to do: a discarded message is never sent again."
        case Message.Status.COMPLETED:
            return "Nothing to do."
    if message.status in Message.UNFINISHED:
        if why.label == "Retrying":
            return (
                f"Nothing to do yet: the hub tries again by itself, up to {settings.RETRY_ATTEMPTS} attempts; "
                "if they all fail the records end as technical failures and support is emailed."
            )
        return "Nothing to do: the hub is working on it."
    steps = []
    if counts.get(Item.Status.FAILURE) or (message.status == Message.Status.FAILED and not counts.get("ERROR")):
        steps.append(f"once {partner} answers again, retry the failed items (or resubmit the whole message)")
    if counts.get(Item.Status.ERROR):
        steps.append(
            f"the records {partner} refused failed on its rules: correct them at the source; "
            "sent again unchanged they would be refused again"
        )
    return (steps[0][0].upper() + "; ".join(steps)[1:] + ".") if steps else "Nothing to do."


def item_why(item: Item, *, partner: str | None, code: int | None = None, now: datetime | None = None) -> str:
    """One line on a record not succeeded: its attempt and next attempt, or how it ended and the error."""
    now = now or timezone.now()
    match item.status:
        case Item.Status.RETRY:
            head = f"Retrying: {_attempt(item.attempts, item.next_attempt_at, now)}"
            return _with_error(head, partner, item.last_error, code)
        case Item.Status.FAILURE:
            return _with_error(f"Failed after {_attempts(item.attempts)}", partner, item.last_error, code)
        case Item.Status.ERROR:
            number = f" {item.message_number}" if item.message_number is not None else ""
            return _with_error(f"Refused by {partner or 'the partner'}{number}", None, item.last_error)
        case Item.Status.CANCELLED:
            return _with_error("Not sent", None, item.last_error)
    return ""


def items_why(items: Iterable[Item], *, now: datetime | None = None) -> dict[int, str]:
    """`item_why` for a page of items (loaded with their message's flow), by item id, in one query."""
    items = list(items)
    technical = [i.id for i in items if i.status in (Item.Status.RETRY, Item.Status.FAILURE)]
    codes = _last_call_codes(technical) if technical else {}
    now = now or timezone.now()
    out = {}
    for item in items:
        flow = FLOWS.get(item.message.flow)
        out[item.id] = item_why(item, partner=flow.partner if flow else None, code=codes.get(item.id), now=now)
    return out


def email_why(email: Notification, *, now: datetime | None = None) -> str:
    """One line on an email not sent yet or given up: the attempts, the next one, the last error."""
    now = now or timezone.now()
    limit = settings.RETRY_ATTEMPTS
    error = " ".join(email.error.split())
    match email.status:
        case Notification.Status.QUEUED:
            return f"Waiting to be sent since {when_text(email.created_at, now)}"
        case Notification.Status.SENDING:
            return f"Sending (attempt {email.attempts} of {limit})"
        case Notification.Status.RETRY:
            text = f"Retrying ({email.attempts} of {limit} attempts failed)"
            due = email.next_attempt_at
            if due is not None:
                text += f", next attempt at {when_text(due, now)}" if due > now else ", next attempt due now"
            return f"{text} — last error: {error}" if error else text
        case Notification.Status.FAILED:
            text = f"Failed after {_attempts(email.attempts)}"
            return f"{text} — last error: {error}" if error else text
        case Notification.Status.SENT if email.sent_at is not None:
            return f"Sent at {when_text(email.sent_at, now)}"
    return ""
