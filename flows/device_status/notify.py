"""The technical email about status checks DERMS left unanswered."""

from django.conf import settings

from flows.device_status.models import StatusCheck
from hub.notify import email_send
from hub.timefmt import duration_text

LISTED = 200


def notify_timeouts(*, check_ids: list[int]) -> None:
    """One email per sweeper pass for the checks it timed out, not one per check."""
    checks = list(StatusCheck.objects.filter(id__in=check_ids).order_by("id")[:LISTED])
    email_send(
        kind="status_timeout",
        subject=f"{len(check_ids)} device status check(s) timed out",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={
            "checks": checks,
            "count": len(check_ids),
            "timeout": duration_text(settings.STATUS_CHECK_TIMEOUT_S),
        },
    )
