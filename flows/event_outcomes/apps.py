from hub.registry import FlowApp, Records


class EventOutcomesConfig(FlowApp):
    name = "flows.event_outcomes"
    label = "event_outcomes"
    verbose_name = "Event outcomes"
    flows = ("flows.event_outcomes.flow.EventOutcomes",)
    records = (Records("Event device outcomes", "event_outcomes.DeviceOutcome", "state", "updated_at"),)
