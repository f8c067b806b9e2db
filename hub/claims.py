"""A claim on a message: one owner at a time, named by a token that every write checks.

Whoever claims a message writes a fresh token into `Message.claim`. Every
heartbeat, every call to a partner and every outcome write is conditional on
that token still being there; a discard, a sweep that takes a stale message
back, or a finish clears it. A worker that lost its claim (frozen past the
stale time, its message discarded) finds out before its next call and stops.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone

from hub.models import Message

log = logging.getLogger(__name__)

T = TypeVar("T")


class Abandoned(Exception):
    """The message was taken from this owner (discarded, swept as stale, or out of budget)."""


def db_patiently(func: Callable[[], T], *, give_up_after: float | None = None) -> T:
    """Run `func`, waiting out a database that is restarting or unreachable.

    A lost connection is closed and opened again on the next try; after
    `give_up_after` seconds (STALE_AFTER_S by default: by then the claim
    would be taken back anyway) the error is raised.
    """
    limit = settings.STALE_AFTER_S if give_up_after is None else give_up_after
    deadline = time.monotonic() + limit
    pause = 0.2
    while True:
        try:
            return func()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database unavailable (%s); trying again in %.1f s", exc, pause)
            for conn in connections.all(initialized_only=True):
                try:
                    conn.close()
                except Exception:  # a broken connection may fail to close; it is dropped either way
                    conn.connection = None
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


class MessageClaim:
    """One owner's hold on a message. Shared by the threads that send its items."""

    def __init__(self, message_id: int, token: str, on_beat: Callable[[], bool] | None = None):
        self.message_id = message_id
        self.token = token
        self.on_beat = on_beat  # renews what else the owner holds (a flow's lease); False: lost
        self.lost = False
        self._lock = threading.Lock()
        self._last_beat = time.monotonic()  # the claim itself set the heartbeat

    def mine(self):
        """The message, as long as this owner holds it: every write goes through this queryset."""
        return Message.objects.filter(id=self.message_id, claim=self.token)

    def check(self) -> None:
        """Raise Abandoned unless this owner still holds the message; renews the heartbeat when due."""
        if self.lost:
            raise Abandoned
        with self._lock:
            beat = time.monotonic() - self._last_beat >= settings.HEARTBEAT_S
            if beat:
                self._last_beat = time.monotonic()
        if beat:
            held = bool(db_patiently(lambda: self.mine().update(heartbeat_at=timezone.now())))
            held = held and (self.on_beat is None or self.on_beat())
        else:
            held = db_patiently(lambda: self.mine().exists())
        if not held:
            self.lost = True
            raise Abandoned

    def beat(self) -> None:
        """Renew the heartbeat now (after a wait), raising Abandoned if the claim is gone."""
        with self._lock:
            self._last_beat = 0.0
        self.check()


class HeldClaim(Protocol):
    """What the outbound chokepoint asks of the claim its calls are made under (a MessageClaim)."""

    def check(self) -> None:
        """Raise Abandoned once the claim is lost."""
        ...


# The claim under which this thread's partner calls are made (copied into the sending threads).
_current: contextvars.ContextVar[HeldClaim | None] = contextvars.ContextVar("message_claim", default=None)


@contextmanager
def claim_in_force(claim: HeldClaim) -> Iterator[None]:
    """Partner calls made inside the block check `claim` before they start (see partners.call)."""
    token = _current.set(claim)
    try:
        yield
    finally:
        _current.reset(token)


def claim_check() -> None:
    """Called by the outbound chokepoint before each call and while waiting for a slot."""
    claim = _current.get()
    if claim is not None:
        claim.check()
