"""Log lines as JSON, one per event, each naming the message it is about.

The message a request or a task is working on is bound to a context variable
(`log_bind_message`); `ContextFilter` copies it onto every record, so a line
logged anywhere below the inbound pipeline or a processing task carries its
`tracking_id`, `flow` and `message_id` without passing them around. Log calls
pass ids and counts, never payloads or credentials.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("tracking_id", "flow", "message_id")
_context: ContextVar[dict[str, str] | None] = ContextVar("hub_log_context", default=None)


def log_bind(**fields: Any) -> None:
    _context.set({**(_context.get() or {}), **{k: str(v) for k, v in fields.items() if v not in (None, "")}})


def log_clear() -> None:
    _context.set({})


def log_bind_message(message) -> None:
    log_bind(tracking_id=message.tracking_id, flow=message.flow, message_id=message.message_key)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_context.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class LogContextMiddleware:
    """Each request starts and ends with an empty log context (threads are reused)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        log_clear()
        try:
            return self.get_response(request)
        finally:
            log_clear()


def task_started(sender, **kwargs) -> None:
    """django-q2 `pre_execute`: a task starts with an empty context (message_process binds its message)."""
    log_clear()


def task_finished(sender, task: dict | None = None, **kwargs) -> None:
    log_clear()
