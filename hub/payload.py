"""Reading what a partner sent: JSON parsed into what the hub can keep, and refusals that name the field."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from itertools import chain, compress
from typing import Any


class Rejection(Exception):
    """Input refused: `status` is the HTTP status, `details` maps field paths to messages.

    `then` runs once the refusal is stored, outside any transaction the refusal rolled back: a flow
    that refuses under a lock in the accepting transaction records its own row of the refusal there.
    """

    def __init__(
        self,
        status: int,
        error: str,
        details: dict[str, list[str]] | None = None,
        message: str = "",
        then: Callable[[], object] | None = None,
    ):
        self.status = status
        self.error = error
        self.details = details or {}
        self.then = then
        if not message and self.details:
            path, problems = next(iter(self.details.items()))
            message = f"{path}: {problems[0]}" if path else problems[0]
        self.message = message
        super().__init__(message)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"enrollmentRequests[3].locationInfo.cisPremiseId": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key in ("non_field_errors", "__all__"):
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, path))
    elif isinstance(detail, list):
        if all(isinstance(v, str) for v in detail):
            if detail:
                out.setdefault(prefix or "body", []).extend(str(v) for v in detail)
        else:
            for index, value in enumerate(detail):
                if value:
                    out.update(flatten_errors(value, f"{prefix}[{index}]"))
    else:
        out.setdefault(prefix or "body", []).append(str(detail))
    return out


def validated(serializer_class, payload: Any) -> Any:
    """Run a DRF serializer; a Rejection (400 validation_failed) naming every field path otherwise."""
    serializer = serializer_class(data=payload)
    if not serializer.is_valid():
        raise Rejection(400, "validation_failed", flatten_errors(serializer.errors))
    return serializer.validated_data


# Contract bodies nest a few levels; deeper JSON is refused before anything walks it, so no
# later step (a serializer, a JSON column) runs out of stack on it.
MAX_JSON_DEPTH = 64
# JSON may carry text no database column can hold: NUL (\u0000) and unpaired surrogates.
# Text is looked at only when the raw body has an escape or byte that could produce one.
_SUSPECT_TEXT = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\x00")
UNSTORABLE_TEXT = "Text with NUL (\\u0000) or an unpaired surrogate."


class _Unstorable:
    """Stands, in a parsed payload, where a number no column can hold was read (NaN, 1e999, …)."""

    __slots__ = ("problem",)

    def __init__(self, problem: str):
        self.problem = problem


def _number_hooks(marked: list) -> dict:
    """json.loads hooks that put an _Unstorable where a number cannot be kept, and note it in `marked`."""

    def mark(problem: str) -> _Unstorable:
        marked.append(problem)
        return _Unstorable(problem)

    def constant(text: str) -> _Unstorable:  # NaN, Infinity, -Infinity
        return mark(f"{text} is not a number JSON allows.")

    def real(text: str) -> float | _Unstorable:
        value = float(text)
        return value if math.isfinite(value) else mark(f"The number {text[:40]} is out of range.")

    def integer(text: str) -> int | _Unstorable:
        try:
            return int(text)
        except ValueError:  # more digits than Python reads (sys.get_int_max_str_digits)
            return mark(f"An integer of {len(text.lstrip('-'))} digits is out of range.")

    return {"parse_constant": constant, "parse_float": real, "parse_int": integer}


def _unstorable_text(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_CONTAINERS = frozenset((dict, list))
_is_container, _is_dict, _is_list = (
    _CONTAINERS.__contains__,
    frozenset((dict,)).__contains__,
    frozenset((list,)).__contains__,
)


def _too_deep(payload: Any) -> bool:
    """Whether containers nest past MAX_JSON_DEPTH. Level by level, each level's values gathered and
    sorted by C-level iteration: a walk in Python would cost more than the parse of a large body."""
    level = [payload] if _is_container(type(payload)) else []
    for _ in range(MAX_JSON_DEPTH):
        if not level:
            return False
        kinds = list(map(type, level))
        values = list(
            chain(
                chain.from_iterable(map(dict.values, compress(level, map(_is_dict, kinds)))),
                chain.from_iterable(compress(level, map(_is_list, kinds))),
            )
        )
        level = list(compress(values, map(_is_container, map(type, values))))
    return bool(level)


def _path_text(where: tuple | None) -> str:
    parts = []
    while where is not None:
        where, key = where
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".")


def _first_problem(payload: Any, *, text: bool) -> tuple[str, str] | None:
    """(path, problem) of a value the hub cannot keep: nested too deep, a number no column can hold,
    or (when `text`) text no column can hold. Iterative: the payload may be as deep as the parser allows."""
    if isinstance(payload, _Unstorable):
        return "", payload.problem
    if text and isinstance(payload, str) and _unstorable_text(payload):
        return "", UNSTORABLE_TEXT
    stack: list[tuple[dict | list, int, tuple | None]] = (
        [(payload, 1, None)] if isinstance(payload, (dict, list)) else []
    )
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _path_text(where), f"Nested deeper than {MAX_JSON_DEPTH} levels."
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            at = (where, key)
            if text and isinstance(key, str) and _unstorable_text(key):
                return _path_text(at), UNSTORABLE_TEXT
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1, at))
            elif isinstance(child, _Unstorable):
                return _path_text(at), child.problem
            elif text and isinstance(child, str) and _unstorable_text(child):
                return _path_text(at), UNSTORABLE_TEXT
    return None


def _loads(body: bytes, part: str, hooks: dict) -> Any:
    try:
        return json.loads(body, **hooks)
    except UnicodeDecodeError:
        raise Rejection(400, "malformed_json", {part: ["The body is not UTF-8."]}) from None
    except json.JSONDecodeError as exc:
        raise Rejection(
            400, "malformed_json", {part: [f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."]}
        ) from None
    except RecursionError:
        raise Rejection(400, "malformed_json", {part: [f"Nested deeper than {MAX_JSON_DEPTH} levels."]}) from None


def parse_json(body: bytes, *, part: str = "body") -> Any:
    """The JSON payload of `body`, or a 400 `malformed_json` naming where it goes wrong.

    Refused as well: what the hub could not keep or work on (nesting past MAX_JSON_DEPTH, NaN,
    Infinity, numbers out of range, NUL or unpaired surrogates), named by field path under `part`.
    """
    marked: list[str] = []
    hooks = _number_hooks(marked)
    try:
        # Integers are read by json's own fast path; only one too long for it is read again, marked.
        payload = _loads(body, part, {**hooks, "parse_int": None})
    except ValueError:
        payload = _loads(body, part, hooks)
    text = bool(_SUSPECT_TEXT.search(body))
    found = _first_problem(payload, text=text) if marked or text or _too_deep(payload) else None
    if found is not None:
        path, problem = found
        where = json.dumps(path)[1:-1]
        where = f"{part}.{where}" if where and part != "body" else where or part
        raise Rejection(400, "malformed_json", {where: [problem]})
    return payload
