"""Records written as messages finish: the one hook, and the bulk writes every flow's projection uses.

Each flow package may hold a `records.py` with `project(message)`; the hook
finds it by module name, so a flow adds its projection without touching
the hub. A projection reads the flow's own rows and items once, in bulk,
and writes records with bulk upserts (a reservation has up to 200,000
devices). It never makes a message fail: an error is logged, and
`manage.py records_backfill` can run it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from itertools import islice
from types import ModuleType

from django.db import connection, transaction
from django.db.models import Q

from hub.models import Message
from hub.registry import FLOWS
from records.models import BusinessKey, Device, DeviceEvent, Enrollment, TimelineEntry

log = logging.getLogger(__name__)

CHUNK = 2000
_modules: dict[str, ModuleType | None] = {}


def projection_for(flow_name: str) -> ModuleType | None:
    """The `records` module of the flow's package, or None when the flow keeps no records."""
    if flow_name not in _modules:
        flow = FLOWS.get(flow_name)
        module = None
        if flow is not None:
            package = type(flow).__module__.rsplit(".", 1)[0]
            try:
                module = import_module(f"{package}.records")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.records":
                    raise
        _modules[flow_name] = module
    return _modules[flow_name]


def records_update(message: Message) -> bool:
    """Bring the records a finished message touched up to date; False (and a log line) if that failed."""
    try:
        with transaction.atomic():
            message = Message.objects.defer("raw_body", "headers").get(id=message.id)
            if message.message_key:
                keys_add([(BusinessKey.Target.MESSAGE, message.id, "messageId", message.message_key)])
            module = projection_for(message.flow)
            if module is not None:
                module.project(message)
        return True
    except Exception:
        log.exception("records of message %s (%s) not updated", message.id, message.flow)
        return False


def chunks(iterable: Iterable, size: int = CHUNK) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- keys and timeline ----------------------------------------------------------
def rows_insert(model, columns: list[str], rows: Iterable[tuple], on_conflict: str) -> None:
    """Insert plain tuples, CHUNK rows a statement, with `on_conflict` ("ON CONFLICT … DO …").

    The records' own writes of many small rows (keys, timeline lines) skip building a model
    instance per row: for a 10,000-request message that is most of the time spent.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for chunk in chunks(rows, CHUNK // 2):
            values = ", ".join([one] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values} {on_conflict}", [v for row in chunk for v in row]
            )


def keys_add(keys: Iterable[tuple[str, int, str, str]]) -> None:
    """(target, target id, kind, value) rows; blank values are skipped, existing ones kept."""
    rows = (
        (kind, value[:200], value.lower()[:200], target, target_id) for target, target_id, kind, value in keys if value
    )
    rows_insert(
        BusinessKey,
        ["kind", "value", "value_lower", "target", "target_id"],
        rows,
        "ON CONFLICT (target, target_id, kind, value_lower) DO NOTHING",
    )


@dataclass
class Entry:
    """A timeline line: on an enrollment, a device or an event (exactly one)."""

    message: Message
    kind: str
    text: str
    at: datetime
    enrollment_id: int | None = None
    device_id: int | None = None
    event_id: str = ""

    def row(self) -> tuple:
        if self.enrollment_id:
            record = f"enrollment:{self.enrollment_id}"
        elif self.device_id:
            record = f"device:{self.device_id}"
        else:
            record = f"event:{self.event_id}"
        at = connection.ops.adapt_datetimefield_value(self.at)
        return (
            record,
            self.enrollment_id,
            self.device_id,
            self.message.flow,
            self.message.id,
            self.kind,
            self.text[:2000],
            at,
        )


def timeline_add(entries: Iterable[Entry]) -> None:
    """Add entries; one written before for the same record, message and kind is rewritten."""
    rows_insert(
        TimelineEntry,
        ["record", "enrollment_id", "device_id", "flow", "message_id", "kind", "text", "at"],
        (entry.row() for entry in entries),
        "ON CONFLICT (record, message_id, kind) DO UPDATE SET text = excluded.text, at = excluded.at, "
        "flow = excluded.flow",
    )


# --- devices ----------------------------------------------------------------------
DEVICE_FIELDS = ("device_type", "specification")


def devices_upsert(devices: dict[tuple[str, str], dict]) -> dict[tuple[str, str], int]:
    """Make sure every (nicId, head-end) exists, with its type and specification when given; their ids.

    Three queries per CHUNK devices, whatever the number already known.
    """
    ids: dict[tuple[str, str], int] = {}
    for chunk in chunks(devices.items()):
        wanted = dict(chunk)
        known = _devices_known(wanted)
        changed = []
        for pair, (device_id, *current) in known.items():
            fields = {k: v for k, v in wanted[pair].items() if v and k in DEVICE_FIELDS}
            if fields and any(current[DEVICE_FIELDS.index(k)] != v for k, v in fields.items()):
                changed.append(Device(id=device_id, **{**dict(zip(DEVICE_FIELDS, current, strict=True)), **fields}))
            ids[pair] = device_id
        if changed:
            Device.objects.bulk_update(changed, DEVICE_FIELDS)
        missing = [pair for pair in wanted if pair not in known]
        if missing:
            Device.objects.bulk_create(
                [
                    Device(
                        nic_id=nic,
                        head_end_system=head_end,
                        **{k: (wanted[(nic, head_end)].get(k) or "")[:100] for k in DEVICE_FIELDS},
                    )
                    for nic, head_end in missing
                ],
                ignore_conflicts=True,  # another worker may have made the same device meanwhile
            )
            made = _devices_known(dict.fromkeys(missing))
            ids.update((pair, row[0]) for pair, row in made.items())
            keys_add((BusinessKey.Target.DEVICE, row[0], "nicId", pair[0]) for pair, row in made.items())
    return ids


def _devices_known(pairs: dict[tuple[str, str], object]) -> dict[tuple[str, str], tuple]:
    nics = {nic for nic, _ in pairs}
    rows = Device.objects.filter(nic_id__in=nics).values_list("nic_id", "head_end_system", "id", *DEVICE_FIELDS)
    return {(nic, head_end): (device_id, *rest) for nic, head_end, device_id, *rest in rows if (nic, head_end) in pairs}


def device_events_upsert(rows: list[DeviceEvent], fields: list[str]) -> None:
    for chunk in chunks(rows):
        DeviceEvent.objects.bulk_create(
            chunk, update_conflicts=True, unique_fields=["device", "event_id"], update_fields=fields
        )


# --- enrollments ------------------------------------------------------------------
@dataclass
class EnrollmentChange:
    """What one message says about one enrollment.

    `stage` is "request" (flow 1) or "sync" (flow 3): a stage's fields are
    written only when this message is not older than the one that last
    wrote them, and the status follows the later stage.
    """

    person: str
    service_point: str
    program: str
    stage: str
    at: datetime
    fields: dict
    entry_kind: str
    entry_text: str
    devices: dict[tuple[str, str], dict] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)
    entry_at: datetime | None = None  # when the timeline line happened, if not at `at`

    @property
    def natural_key(self) -> tuple[str, str, str]:
        return (self.person, self.service_point, self.program)


STAGE_TIME = {"request": "requested_at", "sync": "synced_at"}
ENROLLMENT_FIELDS = [
    f.name
    for f in Enrollment._meta.concrete_fields
    if f.name not in ("id", "cis_person_id", "cis_service_point_id", "program_code", "created_at")
]


def enrollment_status(enrollment: Enrollment) -> str:
    """The status from the latest stage: DERMS's side once DACS synced it after the request, DACS's before."""
    status = Enrollment.Status
    requested, synced = enrollment.requested_at, enrollment.synced_at
    if enrollment.sync_state and (requested is None or synced is None or synced >= requested):
        if enrollment.sync_state == "ACKNOWLEDGED":
            if enrollment.derms_ack_type == "ERROR":
                return status.DERMS_REFUSED
            return status.UNENROLLED if enrollment.sync_action == "UNENROLL" else status.ACKNOWLEDGED
        return status.SYNC_FAILED if enrollment.sync_state == "FAILED" else status.SYNCING
    return {
        "SUCCESS": status.DACS_ENROLLED,
        "ERROR": status.DACS_REFUSED,
        "FAILURE": status.DACS_FAILED,
    }.get(enrollment.dacs_result, status.REQUESTED)


def enrollments_apply(changes: list[EnrollmentChange], message: Message) -> None:
    """Upsert the enrollments, link their devices, add their keys and timeline entries; in bulk."""
    for chunk in chunks(changes):
        # Locked until the projection commits: a message of the other stage merging into the same
        # enrollment meanwhile waits, and then reads what this one wrote.
        known = _enrollments_known({change.natural_key for change in chunk}, lock=True)
        merged: dict[tuple, Enrollment] = {}
        for change in chunk:
            enrollment = merged.get(change.natural_key) or known.get(change.natural_key)
            if enrollment is None:
                enrollment = Enrollment(
                    cis_person_id=change.person, cis_service_point_id=change.service_point, program_code=change.program
                )
            stage_time = getattr(enrollment, STAGE_TIME[change.stage])
            if stage_time is None or change.at >= stage_time:
                for name, value in change.fields.items():
                    if value is not None:
                        setattr(enrollment, name, value)
                setattr(enrollment, STAGE_TIME[change.stage], change.at)
            enrollment.status = enrollment_status(enrollment)
            enrollment.pk = None  # upserted by its natural key; the id is read back below
            merged[change.natural_key] = enrollment
        Enrollment.objects.bulk_create(
            list(merged.values()),
            update_conflicts=True,
            unique_fields=["cis_person_id", "cis_service_point_id", "program_code"],
            update_fields=ENROLLMENT_FIELDS,
        )
        ids = {key: e.id for key, e in _enrollments_known(set(merged)).items()}
        devices = devices_upsert({pair: fields for change in chunk for pair, fields in change.devices.items()})
        links = {
            (devices[pair], ids[change.natural_key]) for change in chunk for pair in change.devices if pair in devices
        }
        Device.enrollments.through.objects.bulk_create(
            [Device.enrollments.through(device_id=d, enrollment_id=e) for d, e in links], ignore_conflicts=True
        )
        keys_add(
            (BusinessKey.Target.ENROLLMENT, ids[change.natural_key], kind, value)
            for change in chunk
            for kind, value in [
                ("cisPersonId", change.person),
                ("cisServicePointId", change.service_point),
                *change.keys,
            ]
        )
        # A program is one key for all its enrollments; searching it opens the list of them.
        keys_add((BusinessKey.Target.PROGRAM, 0, "programCode", program) for program in {c.program for c in chunk})
        entries = []
        for change in chunk:
            enrollment_id = ids[change.natural_key]
            at = change.entry_at or change.at
            entries.append(Entry(message, change.entry_kind, change.entry_text, at, enrollment_id=enrollment_id))
            entries += [
                Entry(message, change.entry_kind, change.entry_text, at, device_id=devices[pair])
                for pair in change.devices
                if pair in devices
            ]
        timeline_add(entries)


def _enrollments_known(
    natural_keys: set[tuple[str, str, str]], *, lock: bool = False
) -> dict[tuple[str, str, str], Enrollment]:
    if not natural_keys:
        return {}
    rows = Enrollment.objects.filter(cis_person_id__in={key[0] for key in natural_keys})
    rows = rows.filter(cis_service_point_id__in={key[1] for key in natural_keys})
    if lock:
        rows = rows.select_for_update().order_by("id")
    found = {(e.cis_person_id, e.cis_service_point_id, e.program_code): e for e in rows}
    return {key: e for key, e in found.items() if key in natural_keys}


# --- a device's latest status check ---------------------------------------------------
def device_check_apply(*, nic_id: str, head_end: str, device_fields: dict, at: datetime, check: dict) -> int:
    """Record a status check on its device unless a later check is recorded already; the device's id."""
    device_id = devices_upsert({(nic_id, head_end): device_fields})[(nic_id, head_end)]
    Device.objects.filter(id=device_id).filter(Q(checked_at__isnull=True) | Q(checked_at__lte=at)).update(
        checked_at=at, **check
    )
    keys_add([(BusinessKey.Target.DEVICE, device_id, "communicationId", check.get("check_communication_id", ""))])
    return device_id
