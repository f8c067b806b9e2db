"""Emails become an outbox: status, attempts, retry time, claim and stored content.

Rows written before were sent inline once: those without an error are SENT,
the others FAILED (they were never retried), each after one attempt.
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def statuses_from_errors(apps, schema_editor) -> None:
    Notification = apps.get_model("hub", "Notification")  # noqa: N806
    Notification.objects.filter(error="").update(status="SENT", attempts=1, created_at=F("sent_at"))
    Notification.objects.exclude(status="SENT").update(
        status="FAILED", attempts=1, created_at=F("sent_at"), sent_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0005_message_unfinished_index"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="notification",
            options={
                "ordering": ["-id"],
                "permissions": [("resend_notification", "Can send an email again")],
            },
        ),
        migrations.AddField(
            model_name="notification",
            name="body_text",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="body_html",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[
                    ("QUEUED", "Queued"),
                    ("SENDING", "Sending"),
                    ("RETRY", "Retry"),
                    ("SENT", "Sent"),
                    ("FAILED", "Failed"),
                ],
                default="QUEUED",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="attempts",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="notification",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="enqueued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="claim_token",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name="notification",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="error",
            field=models.TextField(blank=True, verbose_name="last error"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["status", "next_attempt_at"], name="hub_notif_status_due"),
        ),
        migrations.RunPython(statuses_from_errors, migrations.RunPython.noop),
    ]
