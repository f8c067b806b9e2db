from hub.registry import FlowApp


class DeviceStatusConfig(FlowApp):
    name = "flows.device_status"
    label = "device_status"
    verbose_name = "Device status checks"
    flows = (
        "flows.device_status.flow.DeviceStatusChecks",
        "flows.device_status.responses.flow.DeviceStatusResponses",
    )
