"""Is DACS up? `GET healthCheck` before sending, with backoff while it is down, within a set window."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from hub import partners
from hub.activity import activity_record
from hub.models import Item, Message
from hub.retry import backoff_s

# Tracking id → monotonic time until which its last successful check stands (per process).
_healthy_until: dict[object, float] = {}
_lock = threading.Lock()


class DacsWatched(Protocol):
    """A message's record of its sending, on which the availability check keeps count."""

    pk: Any
    dacs_down_since: datetime | None
    health_checks: int


def dacs_hold(*, reservation: DacsWatched, message: Message) -> datetime | None:
    """None when DACS is up (or the window has passed and the devices were failed); else when to check again.

    `reservation`: the message's own record of its sending (a Reservation, or the record of another
    device-list message such as an event outcome) with `dacs_down_since` and `health_checks`.
    """
    with _lock:
        if _healthy_until.get(message.tracking_id, 0.0) > time.monotonic():
            return None
    result = partners.call(partners.DACS_HEALTH, message=message)
    now = timezone.now()
    rows = cast("type[Model]", type(reservation))._default_manager.filter(pk=reservation.pk)
    if result.status == 200:
        with _lock:
            if len(_healthy_until) > 1000:
                _healthy_until.clear()
            _healthy_until[message.tracking_id] = time.monotonic() + settings.DACS_HEALTH_RECHECK_S
        if reservation.dacs_down_since:
            rows.update(dacs_down_since=None, health_checks=0)
            activity_record(message=message, kind="dacs_available", text="DACS is available again")
        return None
    window = settings.DACS_AVAILABILITY_WINDOW_S
    down_since = reservation.dacs_down_since or now
    if (now - down_since).total_seconds() >= window:
        text = f"DACS unavailable for {window:.0f} s (health check: {result.error or result.status})"
        message.items.filter(status__in=Item.OPEN).update(
            status=Item.Status.FAILURE, last_error=text[:1000], next_attempt_at=None
        )
        rows.update(dacs_down_since=None, health_checks=0)
        activity_record(message=message, kind="dacs_unavailable", text=text)
        return None
    checks = reservation.health_checks + 1
    rows.update(dacs_down_since=down_since, health_checks=checks)
    if checks == 1:
        activity_record(message=message, kind="dacs_down", text=f"DACS unavailable; nothing sent: {result.error}")
    return min(now + timedelta(seconds=backoff_s(checks)), down_since + timedelta(seconds=window))


def dacs_suspect(*, message: Message) -> None:
    """A call failed technically: check DACS health again before the next round of collections."""
    with _lock:
        _healthy_until.pop(message.tracking_id, None)
