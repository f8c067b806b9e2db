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


def flow_for(name: str) -> Flow:
    return FLOWS[name]
