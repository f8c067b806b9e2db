"""The technical email about syncs whose DERMS acknowledgement is overdue."""

from django.conf import settings

from flows.enrollment_sync.models import EnrollmentSync
from hub.notify import email_send
from hub.timefmt import duration_text

LISTED = 200


def notify_overdue(*, sync_ids: list[int]) -> None:
    """One email per sweeper pass for the syncs it flagged, not one per sync."""
    syncs = list(EnrollmentSync.objects.filter(id__in=sync_ids).order_by("id")[:LISTED])
    email_send(
        kind="sync_overdue",
        subject=f"{len(sync_ids)} enrollment sync(s) without a DERMS acknowledgement",
        recipients=settings.NOTIFY_TECHNICAL_EMAILS,
        context={"syncs": syncs, "count": len(sync_ids), "overdue": duration_text(settings.SYNC_ACK_OVERDUE_S)},
    )
