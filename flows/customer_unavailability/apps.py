from hub.registry import FlowApp


class CustomerUnavailabilityConfig(FlowApp):
    name = "flows.customer_unavailability"
    label = "customer_unavailability"
    verbose_name = "Customer unavailability"
    flows = ("flows.customer_unavailability.flow.CustomerUnavailability",)
