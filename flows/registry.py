"""FLOWS: flow name → flow instance. Each flow package registers itself here."""

from flows.base import Flow
from flows.device_reservations.flow import DeviceReservations
from flows.device_status.flow import DeviceStatusChecks
from flows.device_status.responses.flow import DeviceStatusResponses
from flows.enrollment_requests.flow import EnrollmentRequests
from flows.enrollment_sync.acks.flow import EnrollmentSyncAcks
from flows.enrollment_sync.flow import EnrollmentSyncs
from flows.event_cancellations.flow import EventCancellations

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        EnrollmentRequests(),
        DeviceStatusChecks(),
        DeviceStatusResponses(),
        EnrollmentSyncs(),
        EnrollmentSyncAcks(),
        DeviceReservations(),
        EventCancellations(),
    )
}


# Flow packages with no inbound endpoint (scheduled jobs), listed so that their
# stand-ins and demos are found like the others'.
SCHEDULED_PACKAGES = ("flows.device_scores",)


def flow_packages() -> list[str]:
    """Every flow package, for the parts found by module name (simulator.py, demo.py)."""
    names = [type(flow).__module__.rsplit(".", 1)[0] for flow in FLOWS.values()]
    return list(dict.fromkeys([*names, *SCHEDULED_PACKAGES]))


def flow_for(name: str) -> Flow:
    return FLOWS[name]
