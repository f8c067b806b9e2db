"""The life of one enrollment synchronisation, in one row support staff can read."""

from django.db import models

from hub.models import Message


class EnrollmentSync(models.Model):
    class State(models.TextChoices):
        RECEIVED = "RECEIVED", "received from DACS"
        FORWARDED = "FORWARDED", "awaiting DERMS's acknowledgement"
        ACKNOWLEDGED = "ACKNOWLEDGED", "acknowledged by DERMS"
        FAILED = "FAILED", "DERMS unreachable"

    OPEN = (State.RECEIVED, State.FORWARDED)

    class AckMode(models.TextChoices):
        IMMEDIATE = "IMMEDIATE", "in DERMS's answer"
        LATER = "LATER", "posted later by DERMS"

    sync_message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="enrollment_sync")
    sync_request_id = models.CharField("syncRequestId", max_length=200, db_index=True)
    action = models.CharField(max_length=10)
    cis_person_id = models.CharField("cisPersonId", max_length=100, db_index=True)
    subscription_id = models.CharField("subscriptionId", max_length=100, db_index=True)
    program_code = models.CharField(max_length=100)
    service_point_id = models.CharField("cisServicePointId", max_length=100, db_index=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    received_at = models.DateTimeField()
    forwarded_at = models.DateTimeField(null=True, blank=True, help_text="When DERMS answered the forward.")
    ack_mode = models.CharField(max_length=10, choices=AckMode.choices, blank=True)
    derms_ack_type = models.CharField("DERMS ackType", max_length=10, blank=True)
    derms_message = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="When DERMS's acknowledgement came.")
    ack_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="acknowledged_syncs"
    )
    failed_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweeper flagged DERMS's acknowledgement as overdue."
    )
    dacs_status = models.CharField(max_length=10, blank=True, help_text="The status acknowledged to DACS.")
    dacs_acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "received_at"], name="sync_open"),
            models.Index(fields=["state"], condition=models.Q(dacs_acked_at__isnull=True), name="sync_ack_owed"),
        ]

    def __str__(self) -> str:
        return f"{self.sync_request_id} ({self.state})"
