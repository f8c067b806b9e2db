from hub.registry import FlowApp, Records


class EnrollmentSyncConfig(FlowApp):
    name = "flows.enrollment_sync"
    label = "enrollment_sync"
    verbose_name = "Enrollment synchronisation"
    records = (Records("Enrollment synchronisations", "enrollment_sync.EnrollmentSync", "state", "received_at"),)
    flows = (
        "flows.enrollment_sync.flow.EnrollmentSyncs",
        "flows.enrollment_sync.acks.flow.EnrollmentSyncAcks",
    )
