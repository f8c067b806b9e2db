"""Timestamps on the wire: an offset is required, and it must be one in use."""

from datetime import UTC, datetime

import pytest

from hub.timefmt import parse_offset_datetime


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-01T22:00:00Z", datetime(2026, 12, 1, 22, tzinfo=UTC)),
        ("2026-12-02T12:00:00+14:00", datetime(2026, 12, 1, 22, tzinfo=UTC)),
        ("2026-12-01T10:00:00-12:00", datetime(2026, 12, 1, 22, tzinfo=UTC)),
        ("2026-12-01T16:00:00.5-06:00", datetime(2026, 12, 1, 22, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_timestamps_with_an_offset_in_use_are_read(text, utc):
    assert parse_offset_datetime(text) == utc


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2026-12-01T22:00:00", "The timestamp has no offset (use Z or ±HH:MM)."),
        ("tomorrow", "Not an ISO 8601 timestamp."),
        (20261201, "Expected an ISO 8601 timestamp string."),
        ("2848-04-06T23:04:37.200473-21:20", "The offset -21:20 is not one in use (from -12:00 to +14:00)."),
        ("2026-12-01T22:00:00+14:30", "The offset +14:30 is not one in use (from -12:00 to +14:00)."),
        ("2026-12-01T22:00:00-12:01", "The offset -12:01 is not one in use (from -12:00 to +14:00)."),
        ("9999-12-31T23:00:00-05:00", "The timestamp is outside the years 1 to 9999 in UTC."),
        ("0001-01-01T00:00:00+01:00", "The timestamp is outside the years 1 to 9999 in UTC."),
    ],
)
def test_other_timestamps_are_refused_with_the_reason(text, error):
    with pytest.raises(ValueError) as refused:
        parse_offset_datetime(text)
    assert str(refused.value) == error
