from hub.registry import FlowApp, Records


class HeadendRegistrationsConfig(FlowApp):
    name = "flows.headend_registrations"
    label = "headend_registrations"
    verbose_name = "Head-end registrations"
    flows = ("flows.headend_registrations.flow.HeadendRegistrations",)
    records = (
        Records("Head-end registrations", "headend_registrations.DeviceRegistration", "registration", "reported_at"),
    )
