"""The outcome list of a message, as JSON or as a CSV file, checked one row at a time.

Built on flow 5's device checks (flows/device_reservations/devices.py): the same
multipart and CSV readers, rows named by line or index, duplicates refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flows.device_reservations.devices import RECORD_ID_MAX, RECORD_ID_MIN, DeviceCheck, csv_rows, utc

OUTCOMES = ("PARTICIPATED", "CANCELLED", "ERROR", "OVERRIDDEN", "NON_RESPONSIVE")
# Outcomes that say when the device took part.
TIMED = ("PARTICIPATED", "OVERRIDDEN")
HEADER = [
    "recordId",
    "nicId",
    "headEndSystemId",
    "outcome",
    "participationStartDateTime",
    "participationEndDateTime",
    "errorMessage",
]
ERROR_MESSAGE_MAX = 100


@dataclass(frozen=True)
class DeviceOutcomeRow:
    record_id: int
    nic_id: str
    head_end_system: str
    outcome: str
    start: str | None  # UTC, `Z`
    end: str | None
    error_message: str | None


class OutcomeCheck(DeviceCheck):
    list_field = "outcomeList"
    header = HEADER
    nic_id_max, head_end_max = 100, 50

    def __init__(self, *, csv_file: bool):
        super().__init__(None, None, csv_file=csv_file)
        # (outcome, start, end) → the errors they make: files repeat the same few combinations.
        self._judged: dict[tuple, list[tuple[str, str]]] = {}

    def row(self, where: str, record_id, nic_id, hes, outcome, start, end, error_message) -> None:  # type: ignore[override]
        self.count += 1
        if not self._plain_device(record_id, nic_id, hes):
            self.device(where, record_id, nic_id, hes)
        try:
            key = (outcome, start, end)
            errors = self._judged.get(key)
        except TypeError:  # a JSON list or object where a value belongs
            key, errors = None, None
        if errors is None:
            errors = self._outcome_errors(outcome, start, end)
            if key is not None and len(self._judged) < 10_000:
                self._judged[key] = errors
        for field, text in errors:
            self._error(where, field, text)
        if error_message is not None and error_message != "":
            if not isinstance(error_message, str):
                self._error(where, "errorMessage", "Not a valid string.")
            elif len(error_message) > ERROR_MESSAGE_MAX:
                text = f"Ensure this field has no more than {ERROR_MESSAGE_MAX} characters."
                self._error(where, "errorMessage", text)
        self.unique(where, nic_id, hes)

    def _plain_device(self, record_id, nic_id, hes) -> bool:
        """The common row, checked quickly: a small integer recordId and strings within their limits."""
        if type(record_id) is str:
            if not (record_id.isdecimal() and len(record_id) < 19):
                return False
        elif type(record_id) is not int or not RECORD_ID_MIN <= record_id <= RECORD_ID_MAX:
            return False
        return (
            type(nic_id) is str
            and 0 < len(nic_id) <= self.nic_id_max
            and type(hes) is str
            and 0 < len(hes) <= self.head_end_max
        )

    def _outcome_errors(self, outcome, start, end) -> list[tuple[str, str]]:
        errors = []
        if outcome is None or outcome == "":
            errors.append(("outcome", "This field is required."))
        elif outcome not in OUTCOMES:
            errors.append(("outcome", f"Expected one of {', '.join(OUTCOMES)}."))
        times: list[datetime | None] = []
        for field, value in (("participationStartDateTime", start), ("participationEndDateTime", end)):
            if value is None or value == "":
                if outcome in TIMED:
                    errors.append((field, f"This field is required for the outcome {outcome}."))
                times.append(None)
                continue
            parsed = self._time(value)
            if isinstance(parsed, str):
                errors.append((field, parsed))
                times.append(None)
            else:
                times.append(parsed)
        if times[0] is not None and times[1] is not None and not times[0] < times[1]:
            errors.append(("participationEndDateTime", "The participation must end after it starts."))
        return errors


def outcomes_of(payload: dict, body: bytes) -> Iterator[DeviceOutcomeRow]:
    """The outcomes of an accepted message, read again from what was stored."""
    cache: dict[str, str] = {}
    if "file" in payload:
        start, end = payload["file"]
        for _line, (record_id, nic_id, hes, outcome, ps, pe, text) in csv_rows(body, start, end, HEADER):
            yield DeviceOutcomeRow(int(record_id), nic_id, hes, outcome, utc(ps, cache), utc(pe, cache), text or None)
        return
    for d in payload["outcomeList"]:
        yield DeviceOutcomeRow(
            int(d["recordId"]),
            d["nicId"],
            d["headEndSystemId"],
            d["outcome"],
            utc(d.get("participationStartDateTime"), cache),
            utc(d.get("participationEndDateTime"), cache),
            d.get("errorMessage") or None,
        )
