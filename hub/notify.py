"""Emails kept like messages: technical-error notices and business digests, each a Notification.

An email is rendered and recorded (QUEUED) before anything is sent. A task
claims it, sends it and records SENT; an SMTP failure is recorded with a retry
time on the partners' backoff, and after RETRY_ATTEMPTS the email is FAILED.
The sweeper's `emails_send_due` enqueues due retries and takes back sends
whose worker stopped, so an SMTP outage delays emails and loses none.
Templates live under templates/emails/<name>.txt and .html.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.tasks import async_task

from hub.models import Item, Message, Notification
from hub.retry import backoff_s

log = logging.getLogger(__name__)

SEND_BATCH = 1000  # emails the sweeper enqueues or takes back per pass
STOPPED = "The worker stopped while sending; sent again (it may arrive twice)."


def email_send(
    *, kind: str, subject: str, recipients: list[str], context: dict, message: Message | None = None
) -> Notification | None:
    """Render the templates emails/<kind>.txt and .html (the flow package's own templates/ folder, or the
    hub's for the emails every flow sends), record the email with NOTIFY_SUBJECT_PREFIX before `subject`,
    and send it by a task once committed."""
    if not recipients:
        return None
    template = kind
    subject = f"{settings.NOTIFY_SUBJECT_PREFIX} {subject}".strip()
    context = {**context, "subject": subject, "admin_base": settings.HUB_BASE_URL}
    now = timezone.now()
    email = Notification.objects.create(
        message=message,
        kind=kind,
        subject=subject[:300],
        recipients=recipients,
        body_text=render_to_string(f"emails/{template}.txt", context),
        body_html=render_to_string(f"emails/{template}.html", context),
        next_attempt_at=now,
        enqueued_at=now,
    )
    transaction.on_commit(lambda: email_enqueue(email_id=email.id))
    return email


def email_enqueue(*, email_id: int) -> None:
    # save=False: the email's own row is its record; django-q2 keeps only the tasks that failed.
    async_task("hub.notify.email_deliver", email_id, task_name=f"email-{email_id}", save=False)


def email_deliver(email_id: int) -> bool:
    """The task: claim the email, send it, record the outcome. A task delivered twice finds it taken and stops."""
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = Notification.objects.filter(
        id=email_id, status__in=Notification.WAITING, next_attempt_at__lte=now
    ).update(status=Notification.Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    email = Notification.objects.get(id=email_id)
    mail = EmailMultiAlternatives(email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, email.recipients)
    if email.body_html:
        mail.attach_alternative(email.body_html, "text/html")
    mine = Notification.objects.filter(id=email_id, status=Notification.Status.SENDING, claim_token=token)
    try:
        mail.send()
    except Exception as exc:  # refused, timed out, rejected: every SMTP failure is retried
        error = f"{type(exc).__name__}: {exc}"
        retry_at = timezone.now() + timedelta(seconds=backoff_s(email.attempts))
        if mine.update(error=error, claim_token="", **_after_failure(attempts=email.attempts, retry_at=retry_at)):
            _log_failure(email=email, error=error)
        return False
    if not mine.update(status=Notification.Status.SENT, sent_at=timezone.now(), claim_token="", next_attempt_at=None):
        log.warning("email %s was sent after its claim was taken back: it may arrive twice", email_id)
    return True


def emails_send_due() -> int:
    """A sweeper pass: take back sends whose worker stopped, enqueue the emails due; returns how many were enqueued."""
    now = timezone.now()
    stale = Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=now - timedelta(seconds=settings.STALE_AFTER_S)
    )
    for email in list(stale.only("id", "subject", "recipients", "attempts")[:SEND_BATCH]):
        # The attempt is counted, so an email that stops its worker every time still ends FAILED; the retry
        # is due at once, as the claim has already waited STALE_AFTER_S.
        taken = stale.filter(id=email.id, attempts=email.attempts).update(
            error=STOPPED, claim_token="", **_after_failure(attempts=email.attempts, retry_at=now)
        )
        if taken:
            _log_failure(email=email, error=STOPPED)
    # An email enqueued longer ago than the broker's own redelivery was lost by the broker: enqueue it again.
    requeue_before = now - timedelta(seconds=settings.Q_CLUSTER["retry"])
    due = Notification.objects.filter(status__in=Notification.WAITING, next_attempt_at__lte=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before)
    )
    enqueued = 0
    for email_id in list(due.values_list("id", flat=True)[:SEND_BATCH]):
        if due.filter(id=email_id).update(enqueued_at=now):
            email_enqueue(email_id=email_id)
            enqueued += 1
    return enqueued


def emails_send_again(*, ids: list[int]) -> int:
    """Queue failed (or sent, for a copy) emails to be sent again with a full set of attempts; returns how many."""
    now = timezone.now()
    again = list(
        Notification.objects.filter(
            id__in=ids, status__in=(Notification.Status.FAILED, Notification.Status.SENT)
        ).values_list("id", flat=True)
    )
    queued = Notification.objects.filter(
        id__in=again, status__in=(Notification.Status.FAILED, Notification.Status.SENT)
    ).update(status=Notification.Status.QUEUED, attempts=0, next_attempt_at=now, enqueued_at=now, claim_token="")
    for email_id in again:
        transaction.on_commit(partial(email_enqueue, email_id=email_id))
    return queued


def _after_failure(*, attempts: int, retry_at: datetime) -> dict:
    """The fields of an email whose attempt number `attempts` failed: a retry at `retry_at`, or FAILED."""
    if attempts >= settings.RETRY_ATTEMPTS:
        return {"status": Notification.Status.FAILED, "next_attempt_at": None}
    return {"status": Notification.Status.RETRY, "next_attempt_at": retry_at, "enqueued_at": None}


def _log_failure(*, email: Notification, error: str) -> None:
    if email.attempts >= settings.RETRY_ATTEMPTS:
        log.error(
            "email %s %r to %s FAILED after %s attempts: %s",
            email.id,
            email.subject,
            email.recipients,
            email.attempts,
            error,
        )
    else:
        log.warning(
            "email %s %r to %s: attempt %s failed, retried: %s",
            email.id,
            email.subject,
            email.recipients,
            email.attempts,
            error,
        )


def notify_technical_failure(*, message: Message) -> Notification | None:
    """One email per message whose records a technical failure left unprocessed."""
    failed = list(
        message.items.filter(status=Item.Status.FAILURE).order_by("seq").values("key", "nic_id", "last_error")[:200]
    )
    return email_send(
        kind="technical_error",
        subject=f"Technical failure: {message.flow} {message.message_key}",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={
            "message": message,
            "failed": failed,
            "failed_count": message.items.filter(status=Item.Status.FAILURE).count(),
            "reply_failed": message.reply_status == Message.Reply.FAILED,
        },
        message=message,
    )
