"""Each customer opt-out DACS passed on, whether or not the hub reserved the device for the event."""

from django.db import models

from hub.models import Message


class EventOptOut(models.Model):
    class State(models.TextChoices):
        RECEIVED = "RECEIVED", "received from DACS"
        OPTED_OUT = "OPTED_OUT", "opted out (DERMS accepted)"
        REFUSED = "REFUSED", "refused by DERMS"
        FAILED = "FAILED", "DERMS unreachable"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="event_opt_out")
    opt_out_id = models.CharField("optOutId", max_length=30, db_index=True)
    event_id = models.CharField("eventId", max_length=120, db_index=True)
    nic_id = models.CharField("nicId", max_length=200, db_index=True)
    head_end_system = models.CharField("headEndSystem", max_length=100)
    cis_person_id = models.CharField("cisPersonId", max_length=100, blank=True, db_index=True)
    opted_out_at = models.DateTimeField("optOutDateTime")
    reason = models.CharField(max_length=254, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECEIVED, db_index=True)
    derms_message = models.TextField(blank=True, help_text="What DERMS answered, or why it was not reached.")
    received_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["event_id", "nic_id"], name="opt_out_event_device")]

    def __str__(self) -> str:
        return f"{self.opt_out_id}: {self.nic_id} in {self.event_id} ({self.state})"
