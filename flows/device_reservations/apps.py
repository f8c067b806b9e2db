from hub.registry import FlowApp


class DeviceReservationsConfig(FlowApp):
    name = "flows.device_reservations"
    label = "device_reservations"
    verbose_name = "Program events"
    flows = ("flows.device_reservations.flow.DeviceReservations",)
