"""FLOWS: flow name → flow instance. Each flow package registers itself here."""

from flows.base import Flow
from flows.device_status.flow import DeviceStatusChecks
from flows.device_status.responses.flow import DeviceStatusResponses
from flows.enrollment_requests.flow import EnrollmentRequests

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        EnrollmentRequests(),
        DeviceStatusChecks(),
        DeviceStatusResponses(),
    )
}


def flow_for(name: str) -> Flow:
    return FLOWS[name]
