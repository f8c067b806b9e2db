from django.db import models


class SimKnobs(models.Model):
    """Behaviour of a built-in partner stand-in, shared by every web process."""

    partner = models.CharField(max_length=10, primary_key=True)
    knobs = models.JSONField(default=dict)

    class Meta:
        verbose_name = "simulator knobs"
        verbose_name_plural = "simulator knobs"

    def __str__(self) -> str:
        return f"{self.partner} stand-in"


class SimRecord(models.Model):
    """What a stand-in received, and what it answered."""

    partner = models.CharField(max_length=10, db_index=True)
    endpoint = models.CharField(max_length=100, db_index=True)
    key = models.CharField(max_length=200, blank=True, db_index=True)
    body = models.JSONField(null=True)
    status = models.PositiveSmallIntegerField()
    answer = models.JSONField(null=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.partner} {self.endpoint} {self.key} → {self.status}"
