"""The one inbound pipeline: authenticate → store raw → validate → accept/reject.

Every flow's view hands its request to `receive`. Nothing a partner sent is
lost: the message row is written before the payload is judged. What accepting,
rejecting or answering as a duplicate does to the message is hub/messages.py's;
this module turns it into the HTTP answer.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest
from rest_framework.response import Response

from hub.flow import Accepted, Flow
from hub.health import backlog_full
from hub.logs import log_bind_message
from hub.messages import message_accept, message_duplicate, message_reject
from hub.models import Message
from hub.payload import Rejection

log = logging.getLogger(__name__)

SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-csrftoken"}


def redacted_headers(request: HttpRequest) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        headers[name] = "[redacted]" if name.lower() in SECRET_HEADERS else value
    return headers


def user_system(user) -> str:
    """The partner system a user acts for: the name of its DERMS or DACS group."""
    names = {g.name for g in user.groups.all()} & {"DERMS", "DACS"}
    return names.pop() if len(names) == 1 else ""


def _overloaded(message: Message) -> Response:
    response = _reject(
        message,
        Rejection(429, "overloaded", {"": [f"Over {settings.BACKLOG_LIMIT} messages are waiting; send again later."]}),
    )
    response["Retry-After"] = str(settings.BACKLOG_RETRY_AFTER_S)
    return response


_CHUNK = 64 * 1024


def _body_read(django_request: HttpRequest, limit: int) -> tuple[bytes | None, int]:
    """(body, size); body None when it passes `limit`. Django reads a body by its Content-Length;
    one sent chunked (no Content-Length) is read here from the server's input, which gunicorn ends
    (wsgi.input_terminated), in pieces, and given up on as soon as it passes the limit."""
    meta = django_request.META
    if meta.get("CONTENT_LENGTH") or not meta.get("wsgi.input_terminated"):
        return django_request.body, len(django_request.body)
    stream, body = meta["wsgi.input"], bytearray()
    while chunk := stream.read(_CHUNK):
        body += chunk
        if len(body) > limit:
            return None, len(body)
    return bytes(body), len(body)


def receive(request, flow: Flow) -> Response:
    """Store, judge and answer one inbound request for `flow` (any method: only POST is accepted)."""
    django_request: HttpRequest = request._request
    message = Message(
        flow=flow.name,
        sender=user_system(request.user),
        sender_user=request.user,
        method=request.method[:10],
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
    body, size = (None, length) if length > limit else _body_read(django_request, limit)
    if body is None:
        # Refused from its Content-Length (never read), or once a chunked body passed the limit.
        message.body_size = size
        message.save()
        shown = f"{size} bytes" if length else f"over {limit} bytes (sent chunked)"
        return _reject(
            message, Rejection(413, "too_large", {"body": [f"The body is {shown}; the limit is {limit} bytes."]})
        )
    message.raw_body = body
    message.body_size = size
    message.save()
    log_bind_message(message)
    try:
        return _judge(message, flow, django_request, body)
    except Exception:
        # The request is stored; it must not stay RECEIVED as if it were still being judged.
        log.exception("failed to judge %s", message.tracking_id)
        if not Message.objects.filter(id=message.id, status=Message.Status.RECEIVED).exists():
            raise  # it was accepted after all (a failure after the commit): its status stands
        return _reject(
            message,
            Rejection(500, "internal_error", message="The hub failed to judge this message; it is stored."),
        )


def _judge(message: Message, flow: Flow, django_request: HttpRequest, body: bytes) -> Response:
    if message.method != "POST":
        return _reject(message, Rejection(405, "method_not_allowed", {"": [f"Use POST, not {message.method}."]}))
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
        message.message_key = (flow.key_of(payload) or "")[:200]
        first = _accepted_copy(flow, message.message_key)
        if first is not None:
            return _duplicate(message, first)
        accepted = flow.validate(message, payload)
    except Rejection as rejection:
        return _reject(message, rejection)
    return _accept(message, flow, accepted)


def _accepted_copy(flow: Flow, key: str) -> Message | None:
    """The accepted copy of this key, with what answering a duplicate of it reads (asked of every request)."""
    if not key:
        return None
    return Message.objects.filter(flow=flow.name, accepted_key=key).only("id", "tracking_id", "ack").first()


def _reject(message: Message, rejection: Rejection) -> Response:
    return Response(message_reject(message=message, rejection=rejection), status=rejection.status)


def _duplicate(message: Message, first: Message) -> Response:
    return Response(message_duplicate(message=message, first=first), status=200)


def _accept(message: Message, flow: Flow, accepted: Accepted) -> Response:
    try:
        return Response(message_accept(message=message, flow=flow, accepted=accepted), status=202)
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
