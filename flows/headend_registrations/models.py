"""Each device's latest head-end registration, as DERMS last reported it."""

from django.db import models

from hub.models import Message


class DeviceRegistration(models.Model):
    class Registration(models.TextChoices):
        REGISTERED = "REGISTERED"
        DEREGISTERED = "DEREGISTERED"
        NOT_REGISTERED = "NOT_REGISTERED"

    nic_id = models.CharField("nicId", max_length=200)
    head_end_system = models.CharField("headEndSystem", max_length=100)
    device_id = models.CharField("deviceId", max_length=12, blank=True)
    registration = models.CharField(max_length=15, choices=Registration.choices)
    text = models.TextField("message", blank=True)
    sync_request_id = models.CharField("syncRequestId", max_length=200, blank=True, db_index=True)
    reported_at = models.DateTimeField(help_text="When the hub received DERMS's report.")
    report = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="device_registrations"
    )

    class Meta:
        ordering = ["nic_id", "head_end_system"]
        constraints = [
            models.UniqueConstraint(fields=["nic_id", "head_end_system"], name="one_registration_per_device")
        ]

    def __str__(self) -> str:
        return f"{self.nic_id}/{self.head_end_system}: {self.registration}"
