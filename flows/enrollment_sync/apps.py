from hub.registry import FlowApp


class EnrollmentSyncConfig(FlowApp):
    name = "flows.enrollment_sync"
    label = "enrollment_sync"
    verbose_name = "Enrollment synchronisation"
    flows = (
        "flows.enrollment_sync.flow.EnrollmentSyncs",
        "flows.enrollment_sync.acks.flow.EnrollmentSyncAcks",
    )
