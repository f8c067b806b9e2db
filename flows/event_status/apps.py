from hub.registry import FlowApp, Records


class EventStatusConfig(FlowApp):
    name = "flows.event_status"
    label = "event_status"
    verbose_name = "Program event status"
    flows = ("flows.event_status.flow.EventStatusUpdates",)
    records = (Records("Program event status", "event_status.EventState", "status", "updated_at"),)
