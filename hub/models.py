"""The audit trail: every message a partner sent, its records, every call the
hub made to a partner, every email, and every action taken on a message."""

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from hub.why import Why


class System(models.TextChoices):
    DERMS = "DERMS"
    DACS = "DACS"


class Message(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "RECEIVED"
        REJECTED = "REJECTED"
        DUPLICATE = "DUPLICATE"
        QUEUED = "QUEUED"
        PROCESSING = "PROCESSING"
        COMPLETED = "COMPLETED"
        COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
        FAILED = "FAILED"
        DISCARDED = "DISCARDED"

    UNFINISHED = (Status.RECEIVED, Status.QUEUED, Status.PROCESSING)

    class Reply(models.TextChoices):
        NONE = "NONE", "not due"
        PENDING = "PENDING"
        RETRY = "RETRY"
        SENT = "SENT"
        FAILED = "FAILED"

    tracking_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    flow = models.CharField(max_length=50, db_index=True)
    sender = models.CharField(max_length=10, choices=System.choices, blank=True)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_key = models.CharField("sender's key", max_length=200, blank=True, db_index=True)
    # Set only once the message is accepted: a rejected copy does not hold the key.
    accepted_key = models.CharField(max_length=200, null=True, blank=True, editable=False)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Raw request as received.
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    body_size = models.BigIntegerField(default=0)
    raw_body = models.BinaryField(null=True, blank=True)
    # Judgement and answer.
    errors = models.JSONField(null=True, blank=True)
    ack = models.JSONField(null=True, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    related = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="related_messages"
    )
    # Outcome: the acknowledgement the hub owes the partner, if any.
    ack_type = models.CharField(max_length=10, blank=True)
    reply_status = models.CharField(max_length=10, choices=Reply.choices, default=Reply.NONE)
    reply_body = models.JSONField(null=True, blank=True)
    reply_attempts = models.PositiveIntegerField(default=0)
    # Processing bookkeeping. `claim` is the token of the worker that owns the message now ("" for
    # none); every write of that worker checks it (hub/claims.py).
    claim = models.CharField(max_length=32, blank=True, default="", editable=False)
    # Task runs that ended in an unexpected error or whose worker stopped answering; bounded by RETRY_ATTEMPTS.
    crashes = models.PositiveIntegerField(default=0)
    # Why the message did not end normally: the last unexpected error, or the discard reason.
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Set by the console on the messages a page lists (hub.why.messages_why), not stored.
    why: "Why"

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "accepted_key"],
                condition=models.Q(accepted_key__isnull=False),
                name="one_accepted_message_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # The console's list filtered by flow or status, newest first, and the dashboard's counts.
            models.Index(fields=["flow", "-id"], name="message_flow_newest"),
            models.Index(fields=["status", "-id"], name="message_status_newest"),
            models.Index(fields=["received_at", "flow", "status"], name="message_recent_counts"),
            # Unfinished messages are few: the oldest per flow and the overdue ones, read at once.
            models.Index(
                fields=["flow", "received_at"],
                condition=models.Q(status__in=["RECEIVED", "QUEUED", "PROCESSING"]),
                name="message_unfinished",
            ),
        ]
        permissions = [
            ("resubmit_message", "Can resubmit a message or retry its failed items"),
            ("discard_message", "Can discard a message"),
            ("test_connection", "Can test the connection to a partner"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} {self.message_key or self.tracking_id}"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.UNFINISHED

    def stored_body(self) -> bytes:
        """The raw body as received, as bytes whichever database read it; ValueError once retention cleared it."""
        if self.raw_body is None:
            raise ValueError(f"message {self.tracking_id} has no stored body any more (RETENTION_DAYS)")
        return bytes(self.raw_body)


class Item(models.Model):
    """One record of a message: an enrollment request, a reserved device…"""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        RETRY = "RETRY"
        SUCCESS = "SUCCESS"
        ERROR = "ERROR"
        FAILURE = "FAILURE"
        CANCELLED = "CANCELLED"

    OPEN = (Status.PENDING, Status.RETRY)

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveIntegerField()
    key = models.CharField(max_length=200, db_index=True)
    nic_id = models.CharField(max_length=200, blank=True, db_index=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_failed_at = models.DateTimeField(null=True, blank=True)
    message_number = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Set by hub.why on the items it reads: the HTTP status of the item's last call, not stored.
    http_status: int | None

    class Meta:
        ordering = ["message_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["message", "seq"], name="one_item_per_seq")]
        indexes = [
            models.Index(fields=["message", "status"]),
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="RETRY"), name="item_retrying"),
            # The error hospital groups the failed and refused items, few among millions.
            models.Index(
                fields=["updated_at"], condition=models.Q(status__in=["ERROR", "FAILURE"]), name="item_failed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class OutboundCall(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "SUCCESS"
        BUSINESS = "BUSINESS", "business error"
        TECHNICAL = "TECHNICAL", "technical error"

    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="calls")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    partner = models.CharField(max_length=10, choices=System.choices)
    operation = models.CharField(max_length=60)
    method = models.CharField(max_length=10)
    url = models.CharField(max_length=500)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)

    # Set by the message page on the calls it shows: the bodies indented for reading, not stored.
    request_pretty: str
    response_pretty: str

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.partner} {self.operation} {self.response_status or self.error[:40]}"


class Lookup(models.Model):
    """A value map: the code one system uses, translated to the other's."""

    kind = models.CharField(max_length=50)
    source = models.CharField(max_length=200)
    target = models.CharField(max_length=200)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "source"]
        constraints = [models.UniqueConstraint(fields=["kind", "source"], name="one_translation_per_code")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.source} → {self.target}"


class Activity(models.Model):
    """The timeline of a message: what the hub did and what people did to it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="activities")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"


class Notification(models.Model):
    """An email, kept like a message: recorded with its content before it is sent, then sent and retried by tasks."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED"
        SENDING = "SENDING"
        RETRY = "RETRY"
        SENT = "SENT"
        FAILED = "FAILED"

    WAITING = (Status.QUEUED, Status.RETRY)

    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=300)
    recipients = models.JSONField(default=list)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a send task was last enqueued: the sweeper enqueues again only if the broker lost it.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField("last error", blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="hub_notif_status_due")]
        permissions = [("resend_notification", "Can send an email again")]

    def __str__(self) -> str:
        return self.subject


class Lease(models.Model):
    """A named, expiring lock shared by every process through the database."""

    name = models.CharField(max_length=100, primary_key=True)
    owner = models.CharField(max_length=100)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner} until {self.expires_at:%H:%M:%S}"
