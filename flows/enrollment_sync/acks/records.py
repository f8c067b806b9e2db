"""Enrollments as DERMS's later acknowledgement of a sync leaves them."""

from __future__ import annotations

from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.records import sync_change
from hub.models import Message
from records.projection import enrollments_apply


def project(message: Message) -> None:
    sync = EnrollmentSync.objects.select_related("sync_message").filter(sync_message_id=message.related_id).first()
    if sync is None:
        return
    item = message.items.only("data", "status", "last_error").first()
    data = item.data if item is not None and isinstance(item.data, dict) else {}
    text = f"DERMS acknowledged {sync.sync_request_id}: {data.get('ackType', '?')}"
    if data.get("message"):
        text += f" ({data['message']})"
    if item is not None and item.last_error:
        text += f". {item.last_error}"
    change = sync_change(sync, message, kind="enrollment_sync_ack", text=text)
    change.entry_at = message.received_at
    enrollments_apply([change], message)
