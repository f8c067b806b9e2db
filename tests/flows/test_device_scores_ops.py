"""Flow 4 as people see it: the emails (locmem, and once through a real SMTP
server), the console's "send again", and the DERMS stand-in."""

import hashlib
import socket

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import reverse

from flows.device_scores.demo import score_csv
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.transfer import transfer_run
from hub.models import Notification
from hub.simulators.models import SimRecord
from tests.flows import score_fixtures
from tests.flows.score_fixtures import BAD_HEADER, drop

pytestmark = pytest.mark.django_db
derms, inbox = score_fixtures.derms, score_fixtures.inbox


def run():
    # The run's emails are sent by a task enqueued once they are committed.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return transfer_run(trigger=ScoreRun.Trigger.SCHEDULE)


def test_the_digest_goes_to_business_and_the_error_email_to_support(inbox, mailoutbox):
    drop(inbox, "SDCSE_1.csv", score_csv(4), age_s=90)
    drop(inbox, "SDCSE_2.csv", BAD_HEADER, age_s=60)
    result = run()
    digest, error = mailoutbox
    assert digest.to == ["programs@utility.example"]
    assert digest.subject == f"[DERMS-DACS hub] Score files: 1 sent, 1 failed (run {result.id})"
    sha = hashlib.sha256(score_csv(4)).hexdigest()
    assert f"- SDCSE_1.csv: SENT, {len(score_csv(4))} bytes, 4 rows, SHA-256 {sha}" in digest.body
    assert "- SDCSE_2.csv: ERROR" in digest.body
    assert f"<td>SDCSE_1.csv</td><td>SENT</td><td>{len(score_csv(4))}</td><td>4</td>" in digest.alternatives[0][0]
    assert error.to == ["ops@utility.example"]
    assert error.subject == f"[DERMS-DACS hub] Score file transfer error: 1 file(s) failed (run {result.id})"
    assert "- SDCSE_2.csv (ERROR, renamed Error-SDCSE_2.csv): line 1: header is" in error.body
    assert "SDCSE_1.csv" not in error.body
    assert set(Notification.objects.values_list("kind", flat=True)) == {"score_complete", "score_error"}


def test_a_clean_run_sends_no_error_email(inbox, mailoutbox):
    drop(inbox, "SDCSE_1.csv", score_csv(1))
    run()
    assert [m.to for m in mailoutbox] == [["programs@utility.example"]]


def test_no_file_found_is_silent_unless_enabled(inbox, mailoutbox, settings):
    run()
    assert mailoutbox == []
    settings.SCORE_NO_FILE_EMAIL = True
    result = run()
    (mail,) = mailoutbox
    assert mail.to == ["programs@utility.example"]
    assert mail.subject == f"[DERMS-DACS hub] No score file found (run {result.id})"
    assert f"file://{inbox}" in mail.body


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def test_the_digest_goes_through_a_real_smtp_server(inbox, settings):
    handler = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        drop(inbox, "SDCSE_1.csv", score_csv(2))
        result = run()
    finally:
        controller.stop()
    (envelope,) = handler.messages
    assert envelope.rcpt_tos == ["programs@utility.example"]
    text = envelope.content.decode()
    assert f"Subject: [DERMS-DACS hub] Score files: 1 sent, 0 failed (run {result.id})" in text
    assert "SDCSE_1.csv: SENT" in text
    assert Notification.objects.filter(status="SENT", error="").count() == 1


def test_send_again_renames_an_error_file_back_and_sends_it(inbox, derms, client, django_capture_on_commit_callbacks):
    derms.answer = lambda received: 500
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    run()
    failed = ScoreFile.objects.get(status="ERROR")
    assert sorted(p.name for p in inbox.iterdir()) == ["Error-SDCSE_1.csv"]

    derms.answer = lambda received: 202
    client.force_login(User.objects.create_superuser("support", password="pw-123456789"))
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            reverse("admin:device_scores_scorefile_changelist"),
            {"action": "send_again", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert resp.status_code == 200
    assert "1 file(s) renamed back" in resp.content.decode()
    assert sorted(p.name for p in inbox.iterdir()) == ["Sent-SDCSE_1.csv"]
    assert derms.names() == ["SDCSE_1.csv", "SDCSE_1.csv"]
    failed.refresh_from_db()
    assert "to be sent again by support" in failed.error
    latest = ScoreRun.objects.first()
    assert latest is not None and latest.trigger == ScoreRun.Trigger.ADMIN


def test_send_again_refuses_a_file_that_was_sent(inbox, derms, client):
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    run()
    client.force_login(User.objects.create_superuser("support", password="pw-123456789"))
    resp = client.post(
        reverse("admin:device_scores_scorefile_changelist"),
        {"action": "send_again", "_selected_action": [ScoreFile.objects.get().pk]},
        follow=True,
    )
    assert "SDCSE_1.csv: not a file renamed Error-" in resp.content.decode()
    assert sorted(p.name for p in inbox.iterdir()) == ["Sent-SDCSE_1.csv"]


def test_the_console_shows_runs_and_files_read_only(inbox, client):
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    result = run()
    client.force_login(User.objects.create_superuser("support", password="pw-123456789"))
    page = client.get(reverse("admin:device_scores_scorerun_change", args=[result.id])).content.decode()
    assert "SDCSE_1.csv" in page and "Save" not in page
    assert client.get(reverse("admin:device_scores_scorefile_changelist")).status_code == 200
    schedules = client.get(reverse("admin:django_q_schedule_changelist")).content.decode()
    assert "device score files transfer" in schedules


def test_the_stand_in_checks_the_size_and_checksum_it_received(client, settings):
    if not settings.SIMULATORS_ENABLED:
        pytest.skip("the stand-ins are off in this environment")
    data = score_csv(3)
    good = hashlib.sha256(data).hexdigest()
    ok = client.post(
        "/sim/derms/device_score",
        data,
        content_type="text/csv",
        headers={"X-File-Name": "SDCSE_1.csv", "X-Content-SHA256": good},
    )
    bad = client.post(
        "/sim/derms/device_score",
        data,
        content_type="text/csv",
        headers={"X-File-Name": "SDCSE_2.csv", "X-Content-SHA256": "0" * 64},
    )
    assert ok.status_code == 202 and bad.status_code == 400
    assert bad.json()["message"] == f"checksum mismatch: received {good}"
    record = SimRecord.objects.get(key="SDCSE_1.csv")
    assert record.body == {"fileName": "SDCSE_1.csv", "size": len(data), "rows": 3, "sha256": good}
