from hub.registry import FlowApp


class HeadendRegistrationsConfig(FlowApp):
    name = "flows.headend_registrations"
    label = "headend_registrations"
    verbose_name = "Head-end registrations"
    flows = ("flows.headend_registrations.flow.HeadendRegistrations",)
