"""When a failed attempt is tried again, and when retrying stops (the contract's common rules)."""

from __future__ import annotations

import random
from datetime import datetime

from django.conf import settings


def backoff_s(attempts: int) -> float:
    """Delay before attempt `attempts + 1`: doubling from RETRY_FIRST_S with ±20 % jitter, never past RETRY_MAX_S.

    The exponent stops growing once the cap is reached, so any number of attempts is fine.
    """
    doublings = min(max(attempts - 1, 0), 64)
    return min(settings.RETRY_FIRST_S * 2.0**doublings * random.uniform(0.8, 1.2), settings.RETRY_MAX_S)


def retries_exhausted(*, attempts: int, first_failed_at: datetime | None, now: datetime) -> bool:
    """The contract's bound on retries: RETRY_ATTEMPTS attempts, or RETRY_WINDOW_S since the first failure."""
    if attempts >= settings.RETRY_ATTEMPTS:
        return True
    return first_failed_at is not None and (now - first_failed_at).total_seconds() >= settings.RETRY_WINDOW_S
