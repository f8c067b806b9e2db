"""Enrollments as flow 3 leaves them: DACS's synchronisation, DERMS's acknowledgement, DACS told."""

from __future__ import annotations

from flows.enrollment_sync.models import EnrollmentSync
from hub.models import Message
from records.projection import EnrollmentChange, enrollments_apply


def sync_change(sync: EnrollmentSync, message: Message, *, kind: str, text: str) -> EnrollmentChange:
    """The change a sync makes, as its own message (or DERMS's later acknowledgement) sees it."""
    item = sync.sync_message.items.order_by("seq").only("data").first()
    body = item.data if item is not None and isinstance(item.data, dict) else {}
    contact = body.get("contactInfo") or {}
    subscription = body.get("subscriptionInfo") or {}
    location = body.get("locationInfo") or {}
    devices = location.get("controllableDevices") or []
    return EnrollmentChange(
        person=sync.cis_person_id,
        service_point=sync.service_point_id,
        program=sync.program_code,
        stage="sync",
        at=sync.received_at,
        fields={
            "cis_account_id": subscription.get("cisAccountId") or None,
            "customer_name": (contact.get("name") or None) and str(contact["name"])[:200],
            "cis_premise_id": location.get("cisPremiseId") or None,
            "subscription_id": sync.subscription_id,
            "sync_request_id": sync.sync_request_id,
            "sync_action": sync.action,
            "sync_state": sync.state,
            "sync_message": sync.sync_message,
            "derms_ack_type": sync.derms_ack_type,
            "derms_message": sync.derms_message,
            "acknowledged_at": sync.acknowledged_at,
            "dacs_ack_status": sync.dacs_status,
        },
        entry_kind=kind,
        entry_text=text,
        devices={
            (str(d["nicId"]), str(d["headEndSystem"])): {
                "device_type": d.get("deviceType") or "",
                "specification": d.get("specification") or "",
            }
            for d in devices
            if isinstance(d, dict) and d.get("nicId") and d.get("headEndSystem")
        },
        keys=[
            ("subscriptionId", sync.subscription_id),
            ("syncRequestId", sync.sync_request_id),
            ("cisAccountId", str(subscription.get("cisAccountId") or "")),
            ("cisPremiseId", str(location.get("cisPremiseId") or "")),
        ],
    )


def sync_text(sync: EnrollmentSync) -> str:
    text = f"{sync.action} {sync.sync_request_id} from DACS: {sync.get_state_display()}"
    if sync.derms_ack_type:
        text += f", DERMS {sync.derms_ack_type}"
        if sync.derms_message:
            text += f" ({sync.derms_message})"
    if sync.dacs_status:
        text += f"; DACS told {sync.dacs_status}"
    return text


def project(message: Message) -> None:
    sync = EnrollmentSync.objects.select_related("sync_message").filter(sync_message=message).first()
    if sync is not None:
        enrollments_apply([sync_change(sync, message, kind="enrollment_sync", text=sync_text(sync))], message)
