from hub.registry import FlowApp


class EventStatusConfig(FlowApp):
    name = "flows.event_status"
    label = "event_status"
    verbose_name = "Program event status"
    flows = ("flows.event_status.flow.EventStatusUpdates",)
