"""Code translations (value maps editable in the admin), cached briefly per process."""

import threading
import time

from hub.models import Lookup

CACHE_S = 10.0
_lock = threading.Lock()
_cache: tuple[float, dict[tuple[str, str], str]] = (0.0, {})


class MissingTranslation(Exception):
    def __init__(self, kind: str, value: str):
        super().__init__(f"No {kind.replace('_', ' ')} translation for '{value}'")


def _table() -> dict[tuple[str, str], str]:
    global _cache
    with _lock:
        loaded_at, table = _cache
        if time.monotonic() - loaded_at > CACHE_S:
            table = {(row.kind, row.source): row.target for row in Lookup.objects.all()}
            _cache = (time.monotonic(), table)
        return table


def lookup_clear() -> None:
    global _cache
    with _lock:
        _cache = (0.0, {})


def translate(kind: str, value: str | None) -> str | None:
    """The other system's code for `value`; None stays None; MissingTranslation when unmapped."""
    if value is None or value == "":
        return None
    try:
        return _table()[(kind, value)]
    except KeyError:
        raise MissingTranslation(kind, value) from None
