"""The outcome list of a message, as JSON or as a CSV file, checked one row at a time.

Built on flow 5's device checks (flows/device_reservations/devices.py): the same
multipart and CSV readers, rows named by line or index, duplicates refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flows.device_reservations.devices import DeviceCheck, csv_rows, utc

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

    def row(self, where: str, record_id, nic_id, hes, outcome, start, end, error_message) -> None:  # type: ignore[override]
        self.count += 1
        self.device(where, record_id, nic_id, hes)
        if outcome is None or outcome == "":
            self._error(where, "outcome", "This field is required.")
        elif outcome not in OUTCOMES:
            self._error(where, "outcome", f"Expected one of {', '.join(OUTCOMES)}.")
        times: list[datetime | None] = []
        for field, value in (("participationStartDateTime", start), ("participationEndDateTime", end)):
            if value is None or value == "":
                if outcome in TIMED:
                    self._error(where, field, f"This field is required for the outcome {outcome}.")
                times.append(None)
                continue
            parsed = self._time(value)
            if isinstance(parsed, str):
                self._error(where, field, parsed)
                times.append(None)
            else:
                times.append(parsed)
        if times[0] is not None and times[1] is not None and not times[0] < times[1]:
            self._error(where, "participationEndDateTime", "The participation must end after it starts.")
        if error_message is not None and error_message != "":
            if not isinstance(error_message, str):
                self._error(where, "errorMessage", "Not a valid string.")
            elif len(error_message) > ERROR_MESSAGE_MAX:
                self._error(
                    where, "errorMessage", f"Ensure this field has no more than {ERROR_MESSAGE_MAX} characters."
                )
        self.unique(where, nic_id, hes)


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
