"""Device lists of a reservation, as JSON or as a CSV file, checked one row at a time.

A 200,000-row file is never copied whole: the CSV is read line by line out of
the request body it arrived in, and only what duplicate detection needs is
kept. The same readers feed the worker that turns the rows into items.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.models import Message
from hub.payload import Rejection, flatten_errors, parse_json
from hub.timefmt import iso_z, parse_offset_datetime

RECORD_ID_MIN, RECORD_ID_MAX = -(2**63), 2**63 - 1  # stored as a bigint
HEADER = ["recordId", "nicId", "headEndSystemId", "reservationStartDateTime", "reservationEndDateTime"]
MAX_DEVICES = 200_000
MAX_LISTED = 100  # error entries listed in a 400; the rest are counted
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_PART_NAME = re.compile(rb'name="([^"]*)"', re.I)


@dataclass(frozen=True)
class Device:
    record_id: int
    nic_id: str
    head_end_system: str
    start: str | None  # UTC, `Z`; None: the event's
    end: str | None


# --- multipart ----------------------------------------------------------------
def multipart_parts(body: bytes, content_type: str) -> dict[str, tuple[int, int]]:
    """Each part's name → (start, end) offsets of its content in `body` (nothing is copied)."""
    match = _BOUNDARY.search(content_type)
    if not match:
        raise Rejection(400, "validation_failed", {"Content-Type": ["The multipart boundary is missing."]})
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts: dict[str, tuple[int, int]] = {}
    pos = body.find(delimiter)
    while pos >= 0:
        pos += len(delimiter)
        if body.startswith(b"--", pos):
            return parts
        head_end = body.find(b"\r\n\r\n", pos)
        if head_end < 0:
            break
        name = _PART_NAME.search(body, pos, head_end)
        content_start = head_end + 4
        nxt = body.find(b"\r\n" + delimiter, content_start)
        if nxt < 0:
            break
        if name:
            parts.setdefault(name.group(1).decode("utf-8", "replace"), (content_start, nxt))
        pos = nxt + 2
    raise Rejection(400, "validation_failed", {"body": ["The multipart body is malformed or truncated."]})


def csv_lines(body: bytes, start: int, end: int) -> Iterator[str]:
    """The lines of body[start:end], decoded one at a time (a BOM at the start is dropped).

    Lines end with LF or CRLF. A NUL is refused here, by its line: no database text column holds one.
    """
    if body.startswith(b"\xef\xbb\xbf", start):
        start += 3
    nul = body.find(b"\x00", start, end)
    if nul >= 0:
        line = body.count(b"\n", start, nul) + 1
        raise Rejection(400, "validation_failed", {f"file line {line}": ["The line holds a NUL character."]})
    line = 0
    pos = start
    while pos < end:
        line += 1
        nl = body.find(b"\n", pos, end)
        stop = end if nl < 0 else nl + 1
        try:
            yield body[pos:stop].decode("utf-8")
        except UnicodeDecodeError:
            raise Rejection(400, "validation_failed", {f"file line {line}": ["The line is not UTF-8."]}) from None
        pos = stop


# --- checks ---------------------------------------------------------------------
class DeviceCheck:
    """Checks rows one by one; collects errors by field path (JSON) or by file line (CSV).

    A message of another device list (event outcomes) subclasses it with its own `list_field`, `header`
    (the CSV header, also the keys of a JSON row, in order), length limits and `row`.
    """

    list_field = "deviceList"
    header = HEADER
    nic_id_max, head_end_max = 200, 100

    def __init__(self, event_start: datetime | None, event_end: datetime | None, *, csv_file: bool):
        self.event_start, self.event_end = event_start, event_end
        self.csv_file = csv_file
        self.errors: dict[str, list[str]] = {}
        self.unlisted = 0
        self.count = 0
        self._seen: dict[tuple[str, str], str] = {}
        self._times: dict[str, datetime | str] = {}

    def _error(self, where: str, field: str, text: str) -> None:
        key, text = (where, f"{field}: {text}") if self.csv_file else (f"{where}.{field}", text)
        if key in self.errors or len(self.errors) < MAX_LISTED:
            self.errors.setdefault(key, []).append(text)
        else:
            self.unlisted += 1

    def _time(self, value) -> datetime | str:
        """A parsed timestamp, or the reason it is not one (cached: files repeat the same times)."""
        if not isinstance(value, str):
            return "Expected an ISO 8601 timestamp string."
        cached = self._times.get(value)
        if cached is None:
            try:
                cached = parse_offset_datetime(value)
            except ValueError as exc:
                cached = str(exc)
            if len(self._times) < 10_000:
                self._times[value] = cached
        return cached

    def row(self, where: str, record_id, nic_id, hes, start, end) -> None:
        self.count += 1
        self.device(where, record_id, nic_id, hes)
        self.window(where, start, end)
        self.unique(where, nic_id, hes)

    def device(self, where: str, record_id, nic_id, hes) -> None:
        """recordId, nicId and headEndSystemId of one row."""
        if record_id is None or record_id == "":
            self._error(where, "recordId", "This field is required.")
        elif isinstance(record_id, bool) or not isinstance(record_id, int) and not _is_int(record_id):
            self._error(where, "recordId", "A valid integer is required.")
        elif not RECORD_ID_MIN <= int(record_id) <= RECORD_ID_MAX:
            self._error(where, "recordId", f"Ensure this value is between {RECORD_ID_MIN} and {RECORD_ID_MAX}.")
        for field, value, limit in (("nicId", nic_id, self.nic_id_max), ("headEndSystemId", hes, self.head_end_max)):
            if value is None or value == "":
                self._error(where, field, "This field is required.")
            elif not isinstance(value, str):
                self._error(where, field, "Not a valid string.")
            elif len(value) > limit:
                self._error(where, field, f"Ensure this field has no more than {limit} characters.")

    def unique(self, where: str, nic_id, hes) -> None:
        """A device named twice in one message is refused (at its second line or index)."""
        if isinstance(nic_id, str) and isinstance(hes, str) and nic_id and hes:
            first = self._seen.setdefault((nic_id, hes), where)
            if first is not where:
                self._error(where, "nicId", f"Duplicate device {nic_id}/{hes} (also at {first}).")

    def window(self, where: str, start, end) -> None:
        """The device's own reservation window, if any, inside the event's."""
        window: list[datetime | None] = []
        for field, value, default in (
            ("reservationStartDateTime", start, self.event_start),
            ("reservationEndDateTime", end, self.event_end),
        ):
            if value is None or value == "":
                window.append(default)
                continue
            parsed = self._time(value)
            if isinstance(parsed, str):
                self._error(where, field, parsed)
                window.append(None)
            else:
                window.append(parsed)
        begins, ends = window
        if begins is not None and ends is not None and self.event_start is not None and self.event_end is not None:
            if not begins < ends:
                self._error(where, "reservationEndDateTime", "The reservation must end after it starts.")
            elif begins < self.event_start or ends > self.event_end:
                self._error(where, "reservationStartDateTime", "The reservation window must lie inside the event's.")

    def rejection(self) -> Rejection | None:
        if self.count == 0:
            key = "file" if self.csv_file else self.list_field
            self.errors.setdefault(key, []).append("At least one device is required.")
        elif self.count > MAX_DEVICES:
            key = "file" if self.csv_file else self.list_field
            self.errors.setdefault(key, []).append(f"At most {MAX_DEVICES} devices are allowed; got {self.count}.")
        if not self.errors:
            return None
        if self.unlisted:
            self.errors.setdefault("more", []).append(f"{self.unlisted} more error(s) not listed.")
        return Rejection(400, "validation_failed", self.errors)


def _is_int(value) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.isdecimal() or (text[:1] in "+-" and text[1:].isdecimal())  # what int() reads


# --- readers ----------------------------------------------------------------------
def check_json(check: DeviceCheck, devices) -> None:
    if not isinstance(devices, list):
        check.errors.setdefault(check.list_field, []).append("Expected a list of devices.")
        check.count = -1
        return
    for index, device in enumerate(devices):
        where = f"{check.list_field}[{index}]"
        if not isinstance(device, dict):
            check.count += 1
            check.errors.setdefault(where, []).append("Expected an object.")
            continue
        check.row(where, *(device.get(name) for name in check.header))


def csv_rows(body: bytes, start: int, end: int, header: list[str] = HEADER) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every data row; the header is checked here."""
    reader = csv.reader(csv_lines(body, start, end))
    first = _next_row(reader)
    if first is None:
        return
    if [cell.strip() for cell in first] != header:
        raise Rejection(400, "validation_failed", {"file line 1": [f"Expected the header {','.join(header)}."]})
    while (cells := _next_row(reader)) is not None:
        if not cells or cells == [""]:
            continue  # blank lines (e.g. a trailing newline) are not devices
        yield reader.line_num, cells


def _next_row(reader) -> list[str] | None:
    """The reader's next row; what the csv module cannot read is a 400 naming the line."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        if "new-line" in str(exc):
            problem = "A carriage return (CR) outside quotes: lines end with LF or CRLF."
        elif "field limit" in str(exc):
            problem = f"A cell longer than {csv.field_size_limit()} characters."
        else:
            problem = f"Not a CSV line: {exc}."
        raise Rejection(400, "validation_failed", {f"file line {reader.line_num}": [problem]}) from None


def check_csv(check: DeviceCheck, body: bytes, start: int, end: int) -> None:
    for line, cells in csv_rows(body, start, end, check.header):
        where = f"file line {line}"
        if len(cells) != len(check.header):
            check.count += 1
            check._error(where, "row", f"Expected {len(check.header)} cells, got {len(cells)}.")
            continue
        check.row(where, *cells)


def utc(value: str | None, cache: dict) -> str | None:
    if not value:
        return None
    out = cache.get(value)
    if out is None:
        out = cache[value] = iso_z(parse_offset_datetime(value))
    return out


def devices_of(payload: dict, body: bytes) -> Iterator[Device]:
    """The devices of an accepted message, read again from what was stored."""
    cache: dict[str, str] = {}
    if "file" in payload:
        start, end = payload["file"]
        for _line, (record_id, nic_id, hes, rs, re_) in csv_rows(body, start, end):
            yield Device(int(record_id), nic_id, hes, utc(rs, cache), utc(re_, cache))
        return
    for d in payload["deviceList"]:
        yield Device(
            int(d["recordId"]),
            d["nicId"],
            d["headEndSystemId"],
            utc(d.get("reservationStartDateTime"), cache),
            utc(d.get("reservationEndDateTime"), cache),
        )


# --- a message that carries a list of devices (flows 5 and 7) ----------------------------------
def device_list_parse(content_type: str, body: bytes, *, list_field: str) -> Any:
    """The payload of a device-list message: its JSON, or from a multipart form its `message` part (any
    `list_field` in it left out) with the offsets of its `file` part (the CSV is read later, in place)."""
    if not content_type.lower().startswith("multipart/"):
        return parse_json(body)
    parts = multipart_parts(body, content_type)
    if "message" not in parts:
        raise Rejection(400, "validation_failed", {"message": ["The part 'message' is required."]})
    start, end = parts["message"]
    header = parse_json(body[start:end], part="message")
    if not isinstance(header, dict):
        raise Rejection(400, "validation_failed", {"message": ["Expected a JSON object."]})
    header.pop(list_field, None)
    return {**header, "file": parts.get("file")}


def device_list_validate(
    message: Message,
    payload: Any,
    *,
    header_serializer: Any,
    list_field: str,
    check_for: Callable[[dict | None, bool], DeviceCheck],
) -> tuple[dict, DeviceCheck]:
    """The valid header and the checked devices (the JSON list, or the CSV file line by line), or one
    400 naming every field of the header and every device's index or line at fault.

    `check_for(header, csv_file)` makes the check; `header` is None when the header itself is invalid.
    """
    if not isinstance(payload, dict):
        raise Rejection(400, "validation_failed", {"body": ["Expected a JSON object."]})
    serializer = header_serializer(data=payload)
    header = serializer.validated_data if serializer.is_valid() else None
    errors = {} if header else flatten_errors(serializer.errors)
    csv_file = "file" in payload
    check = check_for(header, csv_file)
    if csv_file and payload["file"] is None:
        errors["file"] = ["The part 'file' is required."]
    elif csv_file:
        check_csv(check, message.stored_body(), *payload["file"])
    elif list_field not in payload:
        errors[list_field] = ["This field is required."]
    else:
        check_json(check, payload[list_field])
    rejection = None if "file" in errors or list_field in errors else check.rejection()
    if rejection:
        errors.update(rejection.details)
    if errors or header is None:
        raise Rejection(400, "validation_failed", errors)
    return header, check
