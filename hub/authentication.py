"""HTTP Basic for partners, at the cost of a token.

Django stores passwords with PBKDF2, which is slow on purpose: hashing the
password on every request held a partner posting with Basic to a twenty-fifth
of a token's rate. A successful verification is therefore remembered for
`BASIC_AUTH_CACHE_S` seconds (0: never), and the next request with the same
credentials skips the hash:

- the entry's key is an HMAC (SECRET_KEY) of `username:password`, so the
  password is never kept, not even as a fast unsalted hash;
- the entry holds the user's id and the password hash it was checked against.
  A hit still reads the user row (one query, as a token does) and counts only
  while the user is active, keeps that username and still has that exact
  hash: a changed, unusable or removed password, a deactivated or deleted
  user take effect on the next request. Group membership is checked on every
  request by the inbound pipeline (hub.inbound.user_system), cached or not;
- only successes are remembered: a wrong password always pays the full hash;
- one verification per credentials at a time in a process: the threads of a
  partner that opens many connections at once wait for the first one's hash
  instead of each hashing the same password (16 at once took 8 s of both
  cores before any was answered). Wrong passwords queue the same way, so a
  burst of them costs their hashes one after another, never all at once.

The store is a LocMemCache of the process's own, not `caches["default"]`: it
needs no service, is bounded (the least recently used entries are culled) and
thread-safe, and keeps password hashes out of any shared cache a deployment
may configure. Each web process remembers on its own; a partner's first
request to each process pays the hash once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache.backends.locmem import LocMemCache
from django.utils.crypto import salted_hmac
from drf_spectacular.authentication import BasicScheme
from rest_framework import authentication

MAX_ENTRIES = 1000

verified = LocMemCache("hub-basic-auth", {"OPTIONS": {"MAX_ENTRIES": MAX_ENTRIES}})


_verifying: dict[str, tuple[threading.Lock, int]] = {}  # key -> (its lock, threads holding or waiting)
_verifying_guard = threading.Lock()


@contextmanager
def one_at_a_time(key: str) -> Iterator[None]:
    """Hold the verification of these credentials; the entry goes once no thread needs it (never grows)."""
    with _verifying_guard:
        lock, users = _verifying.get(key, (threading.Lock(), 0))
        _verifying[key] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _verifying_guard:
            lock, users = _verifying[key]
            if users == 1:
                del _verifying[key]
            else:
                _verifying[key] = (lock, users - 1)


def credentials_key(*, username: str, password: str) -> str:
    return salted_hmac("hub.authentication.basic", f"{username}:{password}", algorithm="sha256").hexdigest()


class CachedBasicAuthentication(authentication.BasicAuthentication):
    """DRF's Basic (same challenge, same errors), remembering successes for BASIC_AUTH_CACHE_S."""

    def authenticate_credentials(self, userid, password, request=None):
        ttl = settings.BASIC_AUTH_CACHE_S
        if ttl <= 0:
            return super().authenticate_credentials(userid, password, request)
        key = credentials_key(username=userid, password=password)
        user = self._remembered(key, userid)
        if user is not None:
            return (user, None)
        with one_at_a_time(key):
            user = self._remembered(key, userid)  # verified by the thread this one waited for
            if user is not None:
                return (user, None)
            user, auth = super().authenticate_credentials(userid, password, request)
            verified.set(key, (user.pk, user.password), timeout=ttl)
        return (user, auth)

    @staticmethod
    def _remembered(key: str, userid: str):
        """The user these credentials were verified for, if that still holds; the entry is dropped otherwise."""
        entry = verified.get(key)
        if entry is None:
            return None
        user_id, password_hash = entry
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        if user is not None and user.is_active and user.get_username() == userid and user.password == password_hash:
            return user
        verified.delete(key)
        return None


class CachedBasicScheme(BasicScheme):
    """The API schema describes it as the HTTP Basic it is (drf-spectacular matches exact classes)."""

    target_class = "hub.authentication.CachedBasicAuthentication"
