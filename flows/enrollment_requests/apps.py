from hub.registry import FlowApp


class EnrollmentRequestsConfig(FlowApp):
    name = "flows.enrollment_requests"
    label = "enrollment_requests"
    verbose_name = "Enrollment requests"
    flows = ("flows.enrollment_requests.flow.EnrollmentRequests",)
