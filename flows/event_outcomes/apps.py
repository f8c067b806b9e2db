from hub.registry import FlowApp


class EventOutcomesConfig(FlowApp):
    name = "flows.event_outcomes"
    label = "event_outcomes"
    verbose_name = "Event outcomes"
    flows = ("flows.event_outcomes.flow.EventOutcomes",)
