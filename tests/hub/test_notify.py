"""Emails kept like messages: recorded before they are sent, sent by a task, retried, given up, sent again."""

from __future__ import annotations

import logging
import smtplib
import socket
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.mail.backends import locmem
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from hub.models import Notification
from hub.notify import STOPPED, email_deliver, emails_send_due, notify_technical_failure
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
LIST = reverse("admin:hub_notification_changelist")


class FlakyBackend(locmem.EmailBackend):
    """The outbox of locmem, behind an SMTP server that drops the next `failures` sends."""

    failures = 0

    def send_messages(self, email_messages):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(email_messages)


@pytest.fixture
def smtp_down(settings):
    """Call with the number of sends the SMTP server fails (-1: every one)."""
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"

    def down(failures: int) -> None:
        FlakyBackend.failures = failures

    yield down
    FlakyBackend.failures = 0


def alert(capture, message_id: str = "DRMS-ENR-FAIL-1") -> Notification:
    """A technical alert for a failed message, sent by its task once committed."""
    with capture(execute=True):
        email = notify_technical_failure(message=failed_enrollment(message_id))
        assert email is not None
    email.refresh_from_db()
    return email


def make_due(email: Notification) -> None:
    """The retry time has come (without waiting for it)."""
    Notification.objects.filter(id=email.id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def due_sent(capture) -> int:
    with capture(execute=True):
        return emails_send_due()


# --- recorded, then sent ---------------------------------------------------------
def test_it_records_the_email_before_sending_it_and_sends_it_once_committed(django_capture_on_commit_callbacks):
    message = failed_enrollment()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = notify_technical_failure(message=message)
        assert email is not None
    assert mail.outbox == [], "nothing is sent before the record is committed"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at) == ("QUEUED", 0, None)
    assert email.recipients == ["ops@utility.example"] and "DRMS-ENR-FAIL-1" in email.subject
    assert "ECB-900002" in email.body_text and "<" in email.body_html
    assert email.created_at is not None and email.message == message

    (enqueue,) = callbacks
    enqueue()
    (sent,) = mail.outbox
    assert isinstance(sent, mail.EmailMultiAlternatives)
    assert (sent.subject, sent.body, sent.alternatives[0][0]) == (email.subject, email.body_text, email.body_html)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.error) == ("SENT", 1, "")
    assert email.sent_at is not None and email.sent_at >= email.created_at and email.next_attempt_at is None


def test_no_recipients_records_nothing(settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_TECHNICAL_EMAILS = []
    message = failed_enrollment()
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_technical_failure(message=message) is None
    assert not Notification.objects.filter(kind="technical_error", status="QUEUED").exists() and mail.outbox == []


# --- retries -----------------------------------------------------------------------
def test_an_smtp_failure_is_retried_with_the_partner_backoff(
    smtp_down, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("hub.notify.backoff_s", lambda attempts: 100.0 * attempts)
    smtp_down(2)
    before = timezone.now()
    email = alert(django_capture_on_commit_callbacks)
    assert (email.status, email.attempts, mail.outbox) == ("RETRY", 1, [])
    assert email.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert email.next_attempt_at is not None
    assert before + timedelta(seconds=100) <= email.next_attempt_at <= timezone.now() + timedelta(seconds=100)
    assert due_sent(django_capture_on_commit_callbacks) == 0, "not before its retry time"

    make_due(email)
    before = timezone.now()
    assert due_sent(django_capture_on_commit_callbacks) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("RETRY", 2)
    assert email.next_attempt_at is not None
    assert before + timedelta(seconds=200) <= email.next_attempt_at <= timezone.now() + timedelta(seconds=200)

    make_due(email)
    assert due_sent(django_capture_on_commit_callbacks) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == ("SENT", 3, None)
    assert email.error.startswith("SMTPServerDisconnected"), "the last error stays readable"
    (sent,) = mail.outbox
    assert sent.body == email.body_text


def test_it_gives_up_after_retry_attempts_and_logs_an_error(
    smtp_down, settings, caplog, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    smtp_down(-1)
    email = alert(django_capture_on_commit_callbacks)
    for _ in range(2):
        make_due(email)
        assert due_sent(django_capture_on_commit_callbacks) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == ("FAILED", 3, None)
    assert email.error.startswith("SMTPServerDisconnected") and mail.outbox == []
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "hub.notify"]
    assert "FAILED after 3 attempts" in record.getMessage() and email.subject in record.getMessage()
    make_due(email)
    assert due_sent(django_capture_on_commit_callbacks) == 0, "a failed email waits for support staff"


# --- one owner per send -------------------------------------------------------------
def test_a_task_delivered_twice_sends_once(django_capture_on_commit_callbacks):
    email = alert(django_capture_on_commit_callbacks)
    assert email_deliver(email.id) is False
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("SENT", 1)


def test_a_second_task_while_the_first_sends_finds_the_email_claimed(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.ReenteringBackend"
    ReenteringBackend.seen = []
    email = alert(django_capture_on_commit_callbacks)
    assert ReenteringBackend.seen == [False], "the copy delivered during the send did not send"
    assert len(mail.outbox) == 1 and email.status == "SENT"


class ReenteringBackend(locmem.EmailBackend):
    """Runs a second delivery of the task while the first one is sending."""

    seen: list = []

    def send_messages(self, email_messages):
        (email,) = Notification.objects.filter(status="SENDING")
        ReenteringBackend.seen.append(email_deliver(email.id))
        return super().send_messages(email_messages)


def test_a_stale_claim_is_taken_back_and_sent(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        email = notify_technical_failure(message=failed_enrollment())
        assert email is not None
    # A worker claimed it and was killed mid-send.
    claimed_at = timezone.now() - timedelta(seconds=settings.STALE_AFTER_S + 1)
    Notification.objects.filter(id=email.id).update(
        status="SENDING", attempts=1, claimed_at=claimed_at, claim_token="dead-worker"
    )
    assert due_sent(django_capture_on_commit_callbacks) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.error) == ("SENT", 2, STOPPED)
    assert len(mail.outbox) == 1
    assert not Notification.objects.filter(claim_token="dead-worker").exists(), "the old owner writes nothing"


def test_a_live_claim_is_left_to_its_worker(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        email = notify_technical_failure(message=failed_enrollment())
        assert email is not None
    Notification.objects.filter(id=email.id).update(status="SENDING", attempts=1, claimed_at=timezone.now())
    assert due_sent(django_capture_on_commit_callbacks) == 0
    assert Notification.objects.get(id=email.id).status == "SENDING" and mail.outbox == []


def test_a_send_that_stops_its_worker_every_time_ends_failed(settings, django_capture_on_commit_callbacks):
    settings.RETRY_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=False):
        email = notify_technical_failure(message=failed_enrollment())
        assert email is not None
    stale = timezone.now() - timedelta(seconds=settings.STALE_AFTER_S + 1)
    Notification.objects.filter(id=email.id).update(status="SENDING", attempts=2, claimed_at=stale)
    assert due_sent(django_capture_on_commit_callbacks) == 0
    email.refresh_from_db()
    assert (email.status, email.error, mail.outbox) == ("FAILED", STOPPED, [])


def test_an_email_whose_task_the_broker_lost_is_enqueued_again(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        email = notify_technical_failure(message=failed_enrollment())
        assert email is not None
    assert due_sent(django_capture_on_commit_callbacks) == 0, "its task is still in the broker"
    lost = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + 1)
    Notification.objects.filter(id=email.id).update(enqueued_at=lost)
    assert due_sent(django_capture_on_commit_callbacks) == 1
    assert len(mail.outbox) == 1 and Notification.objects.get(id=email.id).status == "SENT"


# --- the console --------------------------------------------------------------------
def test_the_console_lists_status_attempts_last_error_and_next_attempt(
    smtp_down, client, django_capture_on_commit_callbacks
):
    smtp_down(1)
    email = alert(django_capture_on_commit_callbacks)
    client.force_login(console_user("Business users"))
    page = client.get(LIST).content.decode()
    assert "Retrying (1 of 8 attempts failed)" in page
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in page
    assert "next attempt" in page.lower() and "last error" in page.lower()
    assert client.get(f"{LIST}?status=RETRY").context["cl"].result_list[0] == email


def test_send_again_is_offered_to_support_and_not_to_business_users():
    model_admin = admin.site._registry[Notification]
    request = RequestFactory().get(LIST)
    request.user = console_user("Support")
    assert "send_again" in model_admin.get_actions(request)
    request.user = console_user("Business users")
    assert "send_again" not in model_admin.get_actions(request)


def test_support_sends_a_failed_email_again(smtp_down, settings, client, django_capture_on_commit_callbacks):
    settings.RETRY_ATTEMPTS = 1
    smtp_down(1)
    failed = alert(django_capture_on_commit_callbacks)
    pending = alert(django_capture_on_commit_callbacks, "DRMS-ENR-FAIL-2")
    assert (failed.status, pending.status) == ("FAILED", "SENT")
    Notification.objects.filter(id=pending.id).update(status="RETRY")
    client.force_login(console_user("Support"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            LIST, {"action": "send_again", ACTION_CHECKBOX_NAME: [failed.pk, pending.pk]}, follow=True
        )
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "1 email(s) queued to be sent again.",
        "1 email(s) not queued: only failed or sent emails are sent again.",
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("SENT", 1)
    assert [m.subject for m in mail.outbox] == [pending.subject, failed.subject]
    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get(object_id=str(failed.pk))
    assert entry.user.username == "support" and entry.get_change_message() == "Queued to be sent again"


def test_business_users_cannot_send_again(smtp_down, settings, client, django_capture_on_commit_callbacks):
    settings.RETRY_ATTEMPTS = 1
    smtp_down(1)
    failed = alert(django_capture_on_commit_callbacks)
    client.force_login(console_user("Business users"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(LIST, {"action": "send_again", ACTION_CHECKBOX_NAME: [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "FAILED" and mail.outbox == []


# --- a real SMTP server, down and then up -----------------------------------------
class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def test_an_alert_due_during_an_smtp_outage_arrives_once_the_server_is_back(
    settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.RETRY_FIRST_S, settings.RETRY_MAX_S = 0.001, 0.001

    email = alert(django_capture_on_commit_callbacks)
    for _ in range(2):
        time.sleep(0.01)  # past the retry time
        due_sent(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("RETRY", 3)
    assert email.error.startswith("ConnectionRefusedError")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time.sleep(0.01)
        assert due_sent(django_capture_on_commit_callbacks) == 1
    finally:
        controller.stop()
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["ops@utility.example"]
    received = message_from_bytes(envelope.content, policy=policy.default)
    assert received["Subject"] == email.subject
    plain = received.get_body(("plain",))
    assert plain is not None and "ECB-900002" in plain.get_content()
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("SENT", 4)
