"""Each device's unavailability periods, as DERMS last accepted them."""

from django.db import models

from hub.models import Message


class UnavailabilityPeriod(models.Model):
    unavailability_id = models.CharField("unavailabilityId", max_length=30, unique=True)
    nic_id = models.CharField("nicId", max_length=200, db_index=True)
    head_end_system = models.CharField("headEndSystem", max_length=100)
    cis_person_id = models.CharField("cisPersonId", max_length=100, blank=True, db_index=True)
    # Null only for a period DERMS accepted a CANCEL of before the hub saw it added.
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=254, blank=True)
    cancelled = models.BooleanField(default=False)
    last_action = models.CharField(max_length=10)
    last_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="unavailability_periods"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["nic_id", "start"]
        indexes = [models.Index(fields=["nic_id", "head_end_system"], name="unavailability_device")]

    def __str__(self) -> str:
        return f"{self.unavailability_id}: {self.nic_id}{' (cancelled)' if self.cancelled else ''}"
