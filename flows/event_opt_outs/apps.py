from hub.registry import FlowApp, Records


class EventOptOutsConfig(FlowApp):
    name = "flows.event_opt_outs"
    label = "event_opt_outs"
    verbose_name = "Customer event opt-outs"
    flows = ("flows.event_opt_outs.flow.EventOptOuts",)
    records = (Records("Event opt-outs", "event_opt_outs.EventOptOut", "state", "received_at"),)
