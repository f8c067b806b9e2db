"""What the hub keeps of event outcomes: each accepted outcome message, and each device's outcome in its event.

A device's outcome is keyed by the event's eventId (a string: an event the hub
has not seen is forwarded all the same) with its nicId and head-end system, the
same three values that name the device's reservation in flow 5
(`EventDevice.objects.filter(event__event_id=…, nic_id=…, head_end_system=…)`).
A later outcome message for the same device replaces its outcome.
"""

from django.db import models

from hub.models import Message


class OutcomeReport(models.Model):
    """One accepted outcome message and what its processing needs to remember."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="outcome_report")
    event_id = models.CharField("eventId", max_length=120, db_index=True)
    device_count = models.PositiveIntegerField()
    # Fixed at acceptance so a resent collection holds the same devices even if the setting changes.
    collection_size = models.PositiveIntegerField()
    prepared = models.BooleanField(default=False)
    dacs_down_since = models.DateTimeField(null=True, blank=True)
    health_checks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.device_count} outcome(s)"


class DeviceOutcome(models.Model):
    class State(models.TextChoices):
        PENDING = "PENDING"
        POSTED = "POSTED"
        ERROR = "ERROR"
        FAILED = "FAILED"

    event_id = models.CharField("eventId", max_length=120)
    nic_id = models.CharField("nicId", max_length=100, db_index=True)
    head_end_system = models.CharField(max_length=50)
    record_id = models.BigIntegerField()
    # DERMS's outcome code (PARTICIPATED, CANCELLED, ERROR, OVERRIDDEN, NON_RESPONSIVE).
    outcome = models.CharField(max_length=20)
    participation_start = models.DateTimeField(null=True, blank=True)
    participation_end = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField("errorMessage", max_length=100, blank=True)
    # Where posting it to DACS stands, and DACS's refusal or the technical failure.
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    # The latest outcome message that named the device, and its item there.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "nic_id", "head_end_system"], name="one_outcome_per_event_device"
            )
        ]
        indexes = [models.Index(fields=["message", "seq"]), models.Index(fields=["event_id", "state"])]

    def __str__(self) -> str:
        return f"{self.event_id} {self.nic_id}/{self.head_end_system}: {self.outcome} ({self.state})"
