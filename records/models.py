"""The business records people look at: enrollments, devices, their events, and one timeline across flows.

The flows keep their own working rows (a status check, a sync, an event's
devices); these records are projections of them, written as messages
finish (records/projection.py), so the console can show "this customer's
thermostat in the summer program" without reading messages.
"""

from __future__ import annotations

from django.db import models

from hub.models import Message


class Enrollment(models.Model):
    """One customer's enrollment of a location in a program, from DERMS's request to DERMS's acknowledgement."""

    class Status(models.TextChoices):
        REQUESTED = "REQUESTED", "requested"
        DACS_ENROLLED = "DACS_ENROLLED", "enrolled in DACS"
        DACS_REFUSED = "DACS_REFUSED", "refused by DACS"
        DACS_FAILED = "DACS_FAILED", "DACS unreachable"
        SYNCING = "SYNCING", "synced, awaiting DERMS"
        ACKNOWLEDGED = "ACKNOWLEDGED", "acknowledged by DERMS"
        DERMS_REFUSED = "DERMS_REFUSED", "refused by DERMS"
        SYNC_FAILED = "SYNC_FAILED", "DERMS unreachable"
        UNENROLLED = "UNENROLLED", "unenrolled"

    cis_person_id = models.CharField("customer (cisPersonId)", max_length=100)
    cis_account_id = models.CharField("account (cisAccountId)", max_length=100, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    cis_premise_id = models.CharField("premise (cisPremiseId)", max_length=100, blank=True)
    cis_service_point_id = models.CharField("service point (cisServicePointId)", max_length=100)
    program_code = models.CharField("program (programCode)", max_length=100)
    service_agreement_id = models.CharField("service agreement (cisServiceAgreementId)", max_length=100, blank=True)
    start_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    # Flow 1: DERMS's request and DACS's answer.
    request_id = models.CharField("request (requestId)", max_length=20, blank=True)
    request_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(null=True, blank=True)
    dacs_result = models.CharField("DACS result", max_length=10, blank=True)
    dacs_error = models.TextField("DACS error", blank=True)
    dacs_enrollment_id = models.CharField("DACS enrollment id", max_length=100, blank=True)
    dacs_result_at = models.DateTimeField(null=True, blank=True)
    # Flow 3: DACS's synchronisation, DERMS's acknowledgement, and what DACS was told.
    subscription_id = models.CharField("subscription (subscriptionId)", max_length=100, blank=True)
    sync_request_id = models.CharField("syncRequestId", max_length=200, blank=True)
    sync_action = models.CharField(max_length=10, blank=True)
    sync_state = models.CharField(max_length=12, blank=True)
    sync_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    synced_at = models.DateTimeField(null=True, blank=True)
    derms_ack_type = models.CharField("DERMS ackType", max_length=10, blank=True)
    derms_message = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    dacs_ack_status = models.CharField("status acknowledged to DACS", max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cis_person_id", "cis_service_point_id", "program_code"], name="one_enrollment_per_program"
            )
        ]
        # The list, newest first, whole or by status or program: its first page read from an index.
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="enrollment_recent"),
            models.Index(fields=["status", "-updated_at", "-id"], name="enrollment_status_recent"),
            models.Index(fields=["program_code", "-updated_at", "-id"], name="enrollment_program_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.cis_person_id} in {self.program_code} at {self.cis_service_point_id}"


class Device(models.Model):
    """A controllable device, known by its nicId within its head-end system."""

    nic_id = models.CharField("device (nicId)", max_length=200)
    head_end_system = models.CharField("head-end system", max_length=100)
    device_type = models.CharField(max_length=50, blank=True)
    specification = models.CharField(max_length=100, blank=True)
    enrollments = models.ManyToManyField(Enrollment, blank=True, related_name="devices")
    # The latest status check (flow 2).
    check_communication_id = models.CharField("communicationId", max_length=200, blank=True)
    check_state = models.CharField("status check", max_length=10, blank=True, db_index=True)
    check_result = models.CharField("status check result", max_length=10, blank=True)
    check_text = models.TextField("status check message", blank=True)
    checked_at = models.DateTimeField("status checked at", null=True, blank=True)
    check_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Head-end registration (flow 9), once that flow lands.
    registration_state = models.CharField(max_length=20, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    registration_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["nic_id", "head_end_system"], name="one_device_per_head_end")]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="device_recent"),
            models.Index(fields=["head_end_system", "-updated_at", "-id"], name="device_head_end_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.nic_id} ({self.head_end_system})"


class DeviceEvent(models.Model):
    """A device's part in one program event: its reservation (flow 5), cancellation (6) and outcome (7)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField("eventId", max_length=120, db_index=True)
    event_type = models.CharField(max_length=20, blank=True)
    program_code = models.CharField(max_length=100, blank=True)
    event_start = models.DateTimeField(null=True, blank=True)
    event_end = models.DateTimeField(null=True, blank=True)
    event_status = models.CharField(max_length=20, blank=True)
    reservation_state = models.CharField(max_length=10, blank=True)
    reservation_error = models.TextField(blank=True)
    reservation_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Flow 7, once it lands: how the device took part.
    outcome = models.CharField(max_length=20, blank=True)
    outcome_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-event_start", "-id"]
        constraints = [models.UniqueConstraint(fields=["device", "event_id"], name="one_row_per_device_event")]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.reservation_state or '—'}"


class TimelineEntry(models.Model):
    """What a flow did to a record, linked to the message that did it.

    `record` names the record ("enrollment:12", "device:7", "event:EVT-1"):
    a projection run twice for one message rewrites its entries instead of
    adding copies. A device's reservations are its DeviceEvent rows, not
    entries, so a reservation of 200,000 devices writes one entry (on the event).
    """

    record = models.CharField(max_length=140)
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="timeline")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.CASCADE, related_name="timeline")
    flow = models.CharField(max_length=50)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=40)
    text = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.UniqueConstraint(fields=["record", "message", "kind"], name="one_entry_per_record_message_kind")
        ]
        indexes = [models.Index(fields=["record", "at"], name="timeline_of_record")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.record} {self.kind}"

    @property
    def flow_name(self) -> str:
        return self.flow.replace("_", " ")


class BusinessKey(models.Model):
    """A key people search by (cisPersonId, nicId, eventId, messageId…), lower-cased, pointing at its record.

    Searched by exact value or by prefix through one index (varchar_pattern_ops
    on PostgreSQL, so `LIKE 'abc%'` uses it whatever the database's collation).
    """

    class Target(models.TextChoices):
        ENROLLMENT = "enrollment"
        DEVICE = "device"
        EVENT = "event"
        MESSAGE = "message"
        PROGRAM = "program"  # target_id 0: the key names the program itself

    kind = models.CharField(max_length=30)
    value = models.CharField(max_length=200)
    value_lower = models.CharField(max_length=200)
    target = models.CharField(max_length=10, choices=Target.choices)
    target_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "target_id", "kind", "value_lower"], name="one_key_per_record")
        ]
        indexes = [models.Index(fields=["value_lower"], name="business_key_value", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} → {self.target} {self.target_id}"
