"""The life of one device status check, in one row support staff can read."""

from django.db import models

from hub.models import Message


class StatusCheck(models.Model):
    class State(models.TextChoices):
        RECEIVED = "RECEIVED", "asked by DACS"
        FORWARDED = "FORWARDED", "forwarded to DERMS"
        ANSWERED = "ANSWERED", "answered by DERMS"
        TIMED_OUT = "TIMED_OUT", "timed out"
        FAILED = "FAILED", "not taken by DERMS"

    OPEN = (State.RECEIVED, State.FORWARDED)

    check_message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="status_check")
    communication_id = models.CharField("communicationId", max_length=200, db_index=True)
    nic_id = models.CharField("nicId", max_length=200, db_index=True)
    head_end_system = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED)
    asked_at = models.DateTimeField(help_text="When DACS's request reached the hub.")
    forwarded_at = models.DateTimeField(null=True, blank=True, help_text="When DERMS acknowledged the forward.")
    answered_at = models.DateTimeField(null=True, blank=True, help_text="When DERMS's response reached the hub.")
    timed_out_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="When the forward to DERMS failed for good.")
    late = models.BooleanField(default=False, help_text="DERMS answered after the check had timed out.")
    response_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="answered_status_checks"
    )
    response_code = models.CharField(max_length=10, blank=True)
    response_text = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True, help_text="DERMS's responseTimeISO.")
    dacs_result = models.CharField(max_length=10, blank=True, help_text="The status DACS was last told.")
    dacs_message = models.TextField(blank=True, help_text="The message DACS was last told.")
    dacs_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "asked_at"], name="status_check_open"),
            models.Index(
                fields=["state"], condition=models.Q(dacs_updated_at__isnull=True), name="status_check_dacs_owed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.communication_id} ({self.state})"
