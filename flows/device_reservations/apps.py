from hub.registry import FlowApp, Records


class DeviceReservationsConfig(FlowApp):
    name = "flows.device_reservations"
    label = "device_reservations"
    verbose_name = "Program events"
    records = (Records("Program events", "device_reservations.ProgramEvent", "status", "created_at"),)
    flows = ("flows.device_reservations.flow.DeviceReservations",)
