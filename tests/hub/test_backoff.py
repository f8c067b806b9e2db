"""Retry times and the bound on retries: doubling with jitter under RETRY_MAX_S, and the time window."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.flow import Outcome, OutcomeStatus
from hub.models import Item
from hub.outcomes import item_apply_outcomes
from hub.retry import backoff_s, retries_exhausted


@pytest.fixture
def retries(settings):
    settings.RETRY_FIRST_S = 5
    settings.RETRY_MAX_S = 300
    settings.RETRY_ATTEMPTS = 8
    settings.RETRY_WINDOW_S = 3600
    return settings


def test_it_never_waits_past_retry_max_s(retries):
    delays = [backoff_s(attempts) for attempts in range(1, 20) for _ in range(500)]
    assert max(delays) <= 300
    assert max(delays) == 300, "the cap is reached"


def test_it_never_overflows_however_many_attempts(retries):
    retries.RETRY_MAX_S = 1
    for attempts in (0, 1, 1023, 1024, 1025, 5000, 10_000):
        assert 0 < backoff_s(attempts) <= 1


def test_the_first_retry_comes_after_retry_first_s_give_or_take_a_fifth(retries):
    delays = [backoff_s(1) for _ in range(2000)]
    assert min(delays) >= 5 * 0.8 and max(delays) <= 5 * 1.2
    assert min(delays) < 5 < max(delays), "the delay is jittered"


def test_the_delay_doubles_with_each_attempt(retries):
    assert 2 * 5 * 0.8 <= backoff_s(2) <= 2 * 5 * 1.2
    assert 8 * 5 * 0.8 <= backoff_s(4) <= 8 * 5 * 1.2


def test_retries_end_after_retry_attempts_or_retry_window_s(retries):
    now = timezone.now()
    assert not retries_exhausted(attempts=7, first_failed_at=now - timedelta(seconds=3599), now=now)
    assert retries_exhausted(attempts=8, first_failed_at=now, now=now)
    assert retries_exhausted(attempts=2, first_failed_at=now - timedelta(seconds=3600), now=now)
    assert not retries_exhausted(attempts=2, first_failed_at=None, now=now)


def test_it_fails_an_item_whose_first_failure_is_older_than_the_window_with_attempts_left(retries):
    first = timezone.now() - timedelta(seconds=3601)
    item = Item(id=1, seq=1, attempts=2, first_failed_at=first, status=Item.Status.RETRY)
    item_apply_outcomes(items=[item], outcomes={1: Outcome(status=OutcomeStatus.TECHNICAL, error="HTTP 503")})
    assert (item.status, item.attempts, item.next_attempt_at) == (Item.Status.FAILURE, 3, None)
    assert item.first_failed_at == first and item.last_error == "HTTP 503"


def test_it_retries_an_item_inside_the_window(retries):
    first = timezone.now() - timedelta(seconds=60)
    item = Item(id=1, seq=1, attempts=2, first_failed_at=first, status=Item.Status.RETRY)
    item_apply_outcomes(items=[item], outcomes={1: Outcome(status=OutcomeStatus.TECHNICAL, error="HTTP 503")})
    assert item.status == Item.Status.RETRY
    assert item.next_attempt_at is not None and item.next_attempt_at - timezone.now() <= timedelta(seconds=300)
