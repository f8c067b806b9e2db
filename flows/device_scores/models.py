"""The audit trail of score-file transfers: one row per run, one per file taken."""

import uuid

from django.db import models
from django.utils import timezone


class ScoreRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "RUNNING"
        COMPLETED = "COMPLETED"
        COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
        FAILED = "FAILED"

    class Trigger(models.TextChoices):
        SCHEDULE = "SCHEDULE"
        COMMAND = "COMMAND"
        ADMIN = "ADMIN"
        FOLLOW_UP = "FOLLOW_UP", "Follow-up"  # started by a run that stopped at its task budget

    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=25, choices=Status.choices, default=Status.RUNNING, db_index=True)
    source = models.CharField(max_length=500)
    destination = models.CharField(max_length=500)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    passes = models.PositiveIntegerField(default=0)
    files_found = models.PositiveIntegerField(default=0)
    files_sent = models.PositiveIntegerField(default=0)
    files_failed = models.PositiveIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    # Why a run ended before its source was empty, when that is no error (the task budget).
    note = models.TextField(blank=True)
    # Touched while the run works; a RUNNING run silent for SCORE_CLAIM_STALE_S lost its worker.
    heartbeat_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The owner of the run lock (a lease) it holds, so that whoever ends a dead run releases that one.
    lock_owner = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"score run {self.id} ({self.status})"


class ScoreFile(models.Model):
    """One file taken by a run. While CLAIMED, `claim_key` holds it against every other run."""

    class Status(models.TextChoices):
        CLAIMED = "CLAIMED"
        SENT = "SENT"
        ERROR = "ERROR"
        INTERRUPTED = "INTERRUPTED"
        SKIPPED = "SKIPPED"
        ABANDONED = "ABANDONED"

    FAILED = (Status.ERROR, Status.INTERRUPTED)

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="files")
    correlation_id = models.UUIDField(default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=500)
    name = models.CharField(max_length=255, db_index=True)
    claim_key = models.CharField(max_length=800, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CLAIMED, db_index=True)
    size = models.BigIntegerField(default=0)
    mtime = models.FloatField(default=0)
    rows = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    bytes_sent = models.BigIntegerField(default=0)
    destination_status = models.PositiveSmallIntegerField(null=True, blank=True)
    destination_response = models.TextField(blank=True)
    outbound_call = models.ForeignKey(
        "hub.OutboundCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    renamed_to = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["source", "name", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
