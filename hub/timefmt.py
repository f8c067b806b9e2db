"""Timestamps on the wire: ISO 8601 with an offset in, UTC with `Z` out."""

from datetime import UTC, datetime, timedelta

from rest_framework import serializers


def iso_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# The offsets in use on Earth run from -12:00 to +14:00; Python parses up to ±23:59, which
# PostgreSQL refuses to store (it stops at ±15:59).
OFFSET_MIN, OFFSET_MAX = timedelta(hours=-12), timedelta(hours=14)


def parse_offset_datetime(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that must carry a real offset and be a time in UTC's
    years 1–9999; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("Expected an ISO 8601 timestamp string.")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Not an ISO 8601 timestamp.") from None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("The timestamp has no offset (use Z or ±HH:MM).")
    if not OFFSET_MIN <= offset <= OFFSET_MAX:
        sign, size = ("-", -offset) if offset < timedelta(0) else ("+", offset)
        shown = f"{sign}{size.seconds // 3600:02d}:{size.seconds // 60 % 60:02d}"
        raise ValueError(f"The offset {shown} is not one in use (from -12:00 to +14:00).")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("The timestamp is outside the years 1 to 9999 in UTC.") from None
    return value


class OffsetDateTimeField(serializers.Field):
    """A timestamp with an offset, kept as written (`.isoformat()` on output)."""

    default_error_messages = {"invalid": "{reason}"}

    def to_internal_value(self, data):
        try:
            return parse_offset_datetime(data)
        except ValueError as exc:
            self.fail("invalid", reason=str(exc))

    def to_representation(self, value):
        return value.isoformat()


def duration_text(seconds: float) -> str:
    """7200 → "2 hours", 90 → "90 seconds": the set time as DACS reads it."""
    seconds = int(seconds)
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
