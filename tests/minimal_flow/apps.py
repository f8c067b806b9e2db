from hub.registry import FlowApp


class MinimalFlowConfig(FlowApp):
    name = "tests.minimal_flow"
    label = "minimal_flow"
    verbose_name = "Pings (test flow)"
    flows = ("tests.minimal_flow.flow.Pings",)
