"""Program events and the reservation state of each of their devices.

An event outlives the messages about it: several reservation messages may
add devices to it, and a cancellation ends it. Item rows (hub.models) carry
the sending of one message; EventDevice rows carry where each device stands.
"""

from django.db import models

from hub.models import Message


class ProgramEvent(models.Model):
    class Status(models.TextChoices):
        RESERVING = "RESERVING"
        RESERVED = "RESERVED"
        PARTIALLY_RESERVED = "PARTIALLY_RESERVED"
        FAILED = "FAILED"
        CANCELLING = "CANCELLING"
        CANCELLED = "CANCELLED"
        CANCEL_FAILED = "CANCEL_FAILED"

    # A reservation already sent out keeps going only while the event is in one of these.
    SENDABLE = (Status.RESERVING, Status.RESERVED, Status.PARTIALLY_RESERVED, Status.FAILED, Status.CANCEL_FAILED)
    STOPPED = (Status.CANCELLING, Status.CANCELLED)

    event_id = models.CharField("eventId", max_length=120, unique=True)
    event_type = models.CharField(max_length=20)
    program_code = models.CharField(max_length=100, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RESERVING, db_index=True)
    cancel_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.status})"


class Reservation(models.Model):
    """One accepted reservation message and what its processing needs to remember."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="reservation")
    event = models.ForeignKey(ProgramEvent, on_delete=models.CASCADE, related_name="reservations")
    device_count = models.PositiveIntegerField()
    # Fixed at acceptance so a resent collection holds the same devices even if the setting changes.
    collection_size = models.PositiveIntegerField()
    prepared = models.BooleanField(default=False)
    dacs_down_since = models.DateTimeField(null=True, blank=True)
    health_checks = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.event.event_id}: {self.device_count} device(s)"


class EventDevice(models.Model):
    class State(models.TextChoices):
        PENDING = "PENDING"
        RESERVED = "RESERVED"
        ERROR = "ERROR"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        OPTED_OUT = "OPTED_OUT"

    event = models.ForeignKey(ProgramEvent, on_delete=models.CASCADE, related_name="devices")
    nic_id = models.CharField("nicId", max_length=200, db_index=True)
    head_end_system = models.CharField(max_length=100)
    record_id = models.BigIntegerField()
    # The device's own window; null means the event's.
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    # The latest reservation message that named the device, and its item there.
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "nic_id", "head_end_system"], name="one_row_per_event_device")
        ]
        indexes = [models.Index(fields=["message", "seq"]), models.Index(fields=["event", "state"])]

    def __str__(self) -> str:
        return f"{self.nic_id}/{self.head_end_system} ({self.state})"
