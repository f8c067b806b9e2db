"""Emails: technical-error notices and business digests, each recorded as a Notification.

Templates live under templates/emails/<name>.txt and .html.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from hub.models import Item, Message, Notification

log = logging.getLogger(__name__)


def email_send(
    *, kind: str, template: str, subject: str, recipients: list[str], context: dict, message: Message | None = None
) -> Notification | None:
    """Render templates/emails/<template>.txt/.html and send; the outcome is recorded either way."""
    if not recipients:
        return None
    context = {**context, "subject": subject, "admin_base": settings.HUB_BASE_URL}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    mail = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    mail.attach_alternative(html, "text/html")
    error = ""
    try:
        mail.send()
    except Exception as exc:  # an SMTP outage must not stop the flow; it is recorded and logged
        error = f"{type(exc).__name__}: {exc}"
        log.error("email %r to %s failed: %s", subject, recipients, error)
    return Notification.objects.create(
        message=message, kind=kind, subject=subject[:300], recipients=recipients, error=error
    )


def notify_technical_failure(*, message: Message) -> Notification | None:
    """One email per message whose records a technical failure left unprocessed."""
    failed = list(
        message.items.filter(status=Item.Status.FAILURE).order_by("seq").values("key", "nic_id", "last_error")[:200]
    )
    return email_send(
        kind="technical_error",
        template="technical_error",
        subject=f"[DERMS-DACS hub] Technical failure: {message.flow} {message.message_key}",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={
            "message": message,
            "failed": failed,
            "failed_count": message.items.filter(status=Item.Status.FAILURE).count(),
            "reply_failed": message.reply_status == Message.Reply.FAILED,
        },
        message=message,
    )
