"""Migration 0006 keeps the emails recorded before it readable: sent ones SENT, those with an error FAILED."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("hub", "0005_message_unfinished_index")]
AFTER = [("hub", "0006_email_outbox")]


@pytest.mark.django_db(transaction=True)
def test_it_marks_old_emails_sent_or_failed_by_their_error():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("hub", "Notification")
    sent = old.objects.create(kind="technical_error", subject="ok", recipients=["ops@utility.example"])
    failed = old.objects.create(kind="score_complete", subject="ko", recipients=["a@b.example"], error="SMTP down")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("hub", "Notification")
    rows = {row.id: row for row in new.objects.all()}
    assert (rows[sent.id].status, rows[sent.id].attempts, rows[sent.id].sent_at) == ("SENT", 1, sent.sent_at)
    assert (rows[failed.id].status, rows[failed.id].attempts, rows[failed.id].sent_at) == ("FAILED", 1, None)
    assert rows[failed.id].created_at == failed.sent_at and rows[failed.id].error == "SMTP down"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
