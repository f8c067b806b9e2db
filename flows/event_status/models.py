"""Where each program event stands as DERMS's status updates say, and every update received.

EventState is one row per DERMS event: the status the hub judges new updates
against (the latest accepted, moved forward only) and the one DACS last
confirmed. StatusUpdate is the event's history: one row per update, refused
ones included.
"""

from django.db import models

from hub.models import Message


class EventStatus(models.TextChoices):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class EventState(models.Model):
    event_id = models.CharField("eventId", max_length=120, unique=True)
    # The latest accepted update: what the next one is judged against ("" before any).
    status = models.CharField(max_length=20, choices=EventStatus.choices, blank=True)
    status_at = models.DateTimeField("statusDateTime", null=True, blank=True)
    # What DACS last confirmed.
    applied_status = models.CharField(max_length=20, choices=EventStatus.choices, blank=True)
    applied_at = models.DateTimeField("applied statusDateTime", null=True, blank=True)
    # From the latest SCHEDULED update.
    stage_id = models.CharField("stageId", max_length=120, blank=True)
    program_code = models.CharField(max_length=120, blank=True)
    event_type = models.CharField(max_length=20, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    # Updates accepted so far; each accepted update takes the next number.
    accepted_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "event status"
        verbose_name_plural = "event statuses"

    def __str__(self) -> str:
        return f"{self.event_id} ({self.status or 'no status'})"


class StatusUpdate(models.Model):
    class State(models.TextChoices):
        PENDING = "PENDING", "accepted, not sent yet"
        APPLIED = "APPLIED", "applied by DACS"
        UNCHANGED = "UNCHANGED", "already cancelled: nothing sent"
        ERROR = "ERROR", "refused by DACS"
        FAILED = "FAILED", "not delivered"
        REFUSED = "REFUSED", "refused by the hub"

    event = models.ForeignKey(EventState, on_delete=models.CASCADE, related_name="updates")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="event_status_update")
    # The order the hub accepted the event's updates in (1, 2, …); null for a refused one.
    seq = models.PositiveIntegerField(null=True, blank=True)
    stage_id = models.CharField("stageId", max_length=120, db_index=True)
    status = models.CharField(max_length=20, choices=EventStatus.choices)
    status_at = models.DateTimeField("statusDateTime")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Why it was refused (by the hub: the 409's error code and text; by DACS: its message).
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_id", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "seq"], name="one_update_per_event_seq")]

    def __str__(self) -> str:
        return f"{self.event.event_id} {self.status} ({self.state})"
