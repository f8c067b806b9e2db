"""What the console shows beside a device and an event from flows 7–11's own rows.

A device's page: its latest head-end registration (flow 9), its
unavailability periods (flow 11) and its opt-outs (flow 10). An event's page
(flow 5's ProgramEvent): its status history (flow 8), its devices counted by
reservation state beside their outcomes (flow 7), and its opt-outs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from flows.customer_unavailability.models import UnavailabilityPeriod
from flows.device_reservations.models import EventDevice, ProgramEvent
from flows.event_opt_outs.models import EventOptOut
from flows.event_status.models import EventState, StatusUpdate
from flows.headend_registrations.models import DeviceRegistration
from records.models import Device, DeviceEvent

SHOWN = 200  # rows of a list on a record's page


def event_outcome_counts(event_ids: list[str]) -> dict[str, dict[str, int]]:
    """Devices by outcome (flow 7) for each event id: {eventId: {outcome: count}}.

    The hook flow 7 fills: it reads DeviceEvent.outcome, which flow 7's projection writes; until
    that flow exists no device has an outcome and this is {}.
    """
    rows = (
        DeviceEvent.objects.filter(event_id__in=event_ids)
        .exclude(outcome="")
        .values("event_id", "outcome")
        .annotate(n=Count("id"))
        .order_by("event_id", "outcome")
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["event_id"], {})[row["outcome"]] = row["n"]
    return counts


@dataclass
class CountRow:
    label: str
    reserved: int | None = None  # devices in this reservation state (flow 5), None on an outcome-only row
    outcome: str = ""
    outcomes: int | None = None


@dataclass
class EventPanels:
    state: EventState | None = None
    updates: list[StatusUpdate] = field(default_factory=list)
    counts: list[CountRow] = field(default_factory=list)
    devices: int = 0
    outcomes: int = 0
    opt_outs: list[tuple[EventOptOut, int | None]] = field(default_factory=list)  # with the device's record id


def device_ids(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The records' ids of the devices named, for links to their pages."""
    rows = Device.objects.filter(nic_id__in={nic for nic, _ in pairs}).values_list("nic_id", "head_end_system", "id")
    return {(nic, head_end): device_id for nic, head_end, device_id in rows if (nic, head_end) in pairs}


def event_panels(event: ProgramEvent) -> dict[str, Any]:
    """The context an event's page adds: `event_panels`, read in a handful of queries."""
    panels = EventPanels()
    panels.state = EventState.objects.filter(event_id=event.event_id).first()
    if panels.state is not None:
        updates = StatusUpdate.objects.filter(event=panels.state).select_related("message")
        updates = updates.defer("message__raw_body", "message__headers").order_by("id")
        panels.updates = list(updates[:SHOWN])
    by_state = dict(EventDevice.objects.filter(event=event).order_by().values_list("state").annotate(n=Count("id")))
    outcomes = sorted(event_outcome_counts([event.event_id]).get(event.event_id, {}).items())
    states = [state for state, _ in EventDevice.State.choices]
    height = max(len(states), len(outcomes))
    for n in range(height):
        row = CountRow(label=states[n].replace("_", " ").lower() if n < len(states) else "")
        if n < len(states):
            row.reserved = by_state.get(states[n], 0)
        if n < len(outcomes):
            row.outcome, row.outcomes = outcomes[n][0].replace("_", " ").lower(), outcomes[n][1]
        panels.counts.append(row)
    panels.devices = sum(by_state.values())
    panels.outcomes = sum(n for _, n in outcomes)
    opt_outs = EventOptOut.objects.filter(event_id=event.event_id).select_related("message")
    rows = list(opt_outs.defer("message__raw_body", "message__headers").order_by("-id")[:SHOWN])
    ids = device_ids({(o.nic_id, o.head_end_system) for o in rows})
    panels.opt_outs = [(o, ids.get((o.nic_id, o.head_end_system))) for o in rows]
    return {"event_panels": panels}


def device_panels(device: Device) -> dict[str, Any]:
    """The context a device's page adds: its registration, unavailability periods and opt-outs."""
    where = {"nic_id": device.nic_id, "head_end_system": device.head_end_system}
    registration = DeviceRegistration.objects.filter(**where).select_related("report")
    periods = UnavailabilityPeriod.objects.filter(**where).select_related("last_message")
    opt_outs = EventOptOut.objects.filter(**where).select_related("message")
    heavy = ("raw_body", "headers")
    return {
        "registration": registration.defer(*[f"report__{f}" for f in heavy]).first(),
        "periods": list(periods.defer(*[f"last_message__{f}" for f in heavy]).order_by("start", "id")[:SHOWN]),
        "opt_outs": list(opt_outs.defer(*[f"message__{f}" for f in heavy]).order_by("-id")[:SHOWN]),
    }
