from hub.registry import FlowApp


class EventCancellationsConfig(FlowApp):
    name = "flows.event_cancellations"
    label = "event_cancellations"
    verbose_name = "Event cancellations"
    flows = ("flows.event_cancellations.flow.EventCancellations",)
