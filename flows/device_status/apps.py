from hub.registry import FlowApp, Records


class DeviceStatusConfig(FlowApp):
    name = "flows.device_status"
    label = "device_status"
    verbose_name = "Device status checks"
    records = (Records("Device status checks", "device_status.StatusCheck", "state", "asked_at"),)
    flows = (
        "flows.device_status.flow.DeviceStatusChecks",
        "flows.device_status.responses.flow.DeviceStatusResponses",
    )
