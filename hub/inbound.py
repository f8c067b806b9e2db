"""The one inbound pipeline: authenticate → store raw → validate → accept/reject.

Every flow's view hands its request to `receive`. Nothing a partner sent is
lost: the message row is written before the payload is judged.
"""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework.response import Response

from flows.base import Flow, Rejection
from hub.activity import activity_record
from hub.bulk import items_insert
from hub.health import backlog_full
from hub.logs import log_bind_message
from hub.models import Message
from hub.timefmt import iso_z

log = logging.getLogger(__name__)

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-csrftoken"}


def redacted_headers(request: HttpRequest) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        headers[name] = "[redacted]" if name.lower() in SECRET_HEADERS else value
    return headers


# JSON may carry text no database column can hold: NUL (\u0000) and unpaired
# surrogates. The walk runs only when the raw body has an escape or byte that
# could produce one.
_SUSPECT = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\x00")


def _first_unstorable(value, path: str = "") -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), k, v) for k, v in value.items())
        for sub, key, item in items:
            found = _first_unstorable(key, sub) if isinstance(key, str) else None
            found = found or _first_unstorable(item, sub)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_unstorable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def refuse_unstorable_text(body: bytes, payload) -> None:
    if not _SUSPECT.search(body):
        return
    path = _first_unstorable(payload)
    if path is not None:
        where = json.dumps(path)[1:-1] or "body"
        raise Rejection(400, "malformed_json", {where: ["Text with NUL (\\u0000) or an unpaired surrogate."]})


def user_system(user) -> str:
    """The partner system a user acts for: the name of its DERMS or DACS group."""
    names = {g.name for g in user.groups.all()} & {"DERMS", "DACS"}
    return names.pop() if len(names) == 1 else ""


def acknowledgement(message: Message, key: str, extra: dict | None = None) -> dict:
    return {
        "trackingId": str(message.tracking_id),
        "messageId": key,
        "flow": message.flow,
        "status": "ACCEPTED",
        "duplicate": False,
        "receivedAt": iso_z(message.received_at),
        **(extra or {}),
    }


def _reject(message: Message, rejection: Rejection) -> Response:
    body = {
        "trackingId": str(message.tracking_id),
        "error": rejection.error,
        "message": rejection.message,
        "details": rejection.details,
    }
    message.status = Message.Status.REJECTED
    message.http_status = rejection.status
    message.errors = body
    message.save(update_fields=["status", "http_status", "errors", "message_key"])
    activity_record(message=message, kind="rejected", text=f"{rejection.status} {rejection.message}")
    log_bind_message(message)
    log.info("rejected %s %s", rejection.status, rejection.error)
    return Response(body, status=rejection.status)


def _overloaded(message: Message) -> Response:
    response = _reject(
        message,
        Rejection(429, "overloaded", {"": [f"Over {settings.BACKLOG_LIMIT} messages are waiting; send again later."]}),
    )
    response["Retry-After"] = str(settings.BACKLOG_RETRY_AFTER_S)
    return response


def _duplicate(message: Message, first: Message) -> Response:
    message.status = Message.Status.DUPLICATE
    message.duplicate_of = first
    message.http_status = 200
    message.ack = {**first.ack, "duplicate": True}
    message.save(update_fields=["status", "duplicate_of", "http_status", "ack", "message_key"])
    activity_record(message=message, kind="duplicate", text=f"Duplicate of {first.tracking_id}")
    log_bind_message(message)
    log.info("duplicate of %s", first.tracking_id)
    return Response(message.ack, status=200)


def receive(request, flow: Flow) -> Response:
    """Store, judge and answer one inbound request for `flow`."""
    django_request: HttpRequest = request._request
    message = Message(
        flow=flow.name,
        sender=user_system(request.user),
        sender_user=request.user,
        method=request.method,
        path=django_request.path[:300],
        content_type=django_request.META.get("CONTENT_TYPE", "")[:200],
        headers=redacted_headers(django_request),
        remote_addr=django_request.META.get("REMOTE_ADDR") or None,
    )
    limit = int(settings.MAX_BODY_MB * 1024 * 1024)
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        # Refused from its Content-Length: the body is never read.
        message.body_size = length
        message.save()
        return _reject(
            message,
            Rejection(413, "too_large", {"body": [f"The body is {length} bytes; the limit is {limit} bytes."]}),
        )
    body = django_request.body
    message.raw_body = body
    message.body_size = len(body)
    message.save()
    log_bind_message(message)
    if backlog_full():
        return _overloaded(message)

    try:
        if message.sender != flow.sender:
            raise Rejection(403, "forbidden", {"": [f"This endpoint accepts messages from {flow.sender} only."]})
        media_type = message.content_type.split(";")[0].strip().lower()
        if media_type not in flow.content_types:
            raise Rejection(
                415,
                "unsupported_media_type",
                {"Content-Type": [f"Expected {' or '.join(flow.content_types)}, got '{media_type or 'none'}'."]},
            )
        payload = flow.parse(django_request, body)
        refuse_unstorable_text(body, payload)
        message.message_key = (flow.key_of(payload) or "")[:200]
        first = _accepted_copy(flow, message.message_key)
        if first is not None:
            return _duplicate(message, first)
        accepted = flow.validate(message, payload)
    except Rejection as rejection:
        return _reject(message, rejection)
    return _accept(message, flow, accepted)


def _accepted_copy(flow: Flow, key: str) -> Message | None:
    if not key:
        return None
    return Message.objects.filter(flow=flow.name, accepted_key=key).first()


def _accept(message: Message, flow: Flow, accepted) -> Response:
    from hub.processing import message_enqueue

    message.ack = acknowledgement(message, accepted.key, accepted.ack_extra)
    message.accepted_key = accepted.key
    message.status = Message.Status.QUEUED
    message.http_status = 202
    try:
        with transaction.atomic():
            message.save(update_fields=["ack", "accepted_key", "status", "http_status", "message_key"])
            for write in accepted.on_accept:
                write()
            for item in accepted.items:
                item.message = message
            items_insert(items=accepted.items)
            activity_record(message=message, kind="accepted", text=f"{len(accepted.items)} item(s)")
            transaction.on_commit(lambda: message_enqueue(message_id=message.id))
    except IntegrityError:
        # Another copy with the same key was accepted a moment ago.
        first = _accepted_copy(flow, accepted.key)
        if first is None:
            raise
        message.accepted_key = None
        return _duplicate(message, first)
    except Rejection as rejection:
        # A rule checked under the lock the flow's writes take (an event cancelled a moment ago).
        message.accepted_key = None
        return _reject(message, rejection)
    log_bind_message(message)
    log.info("accepted %s %s tracking=%s", flow.name, accepted.key, message.tracking_id)
    return Response(message.ack, status=202)
