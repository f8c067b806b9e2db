"""Rows and accounts the console tests share (no tests here)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Activity, Item, Message, Notification, OutboundCall
from tests.factories import UserFactory


def console_user(role: str) -> User:
    """'super', 'Support' or 'Business users': a staff account of that role."""
    if role == "super":
        return User.objects.create_superuser("root", password="secret-pass-123")
    return UserFactory.create(username=role.split()[0].lower(), is_staff=True, groups=[role])


def failed_enrollment(
    message_id: str = "DRMS-ENR-FAIL-1", *, nic_ids: tuple[str, ...] = ("ECB-900001", "ECB-900002")
) -> Message:
    """A finished enrollment message: request 1 succeeded, request 2 failed after its retries."""
    body = enrollment_message(message_id, len(nic_ids))
    for request, nic in zip(body["enrollmentRequests"], nic_ids, strict=True):
        request["assetInfo"]["assetList"][0]["nicId"] = nic
    raw = json.dumps(body).encode()
    now = timezone.now()
    message = Message.objects.create(
        flow="enrollment_requests",
        sender="DERMS",
        message_key=message_id,
        accepted_key=message_id,
        status=Message.Status.FAILED,
        http_status=202,
        method="POST",
        path="/api/v1/derms/enrollment-requests",
        content_type="application/json",
        headers={"Content-Type": "application/json", "Authorization": "[redacted]"},
        raw_body=raw,
        body_size=len(raw),
        ack={"trackingId": "x", "status": "ACCEPTED"},
        ack_type="FAILURE",
        reply_status=Message.Reply.SENT,
        reply_body={"messageId": message_id, "ackType": "FAILURE"},
        finished_at=now,
    )
    ok = Item.objects.create(
        message=message,
        seq=0,
        key="1",
        nic_id=nic_ids[0],
        external_id=f"E-{nic_ids[0]}",
        status=Item.Status.SUCCESS,
        attempts=1,
        data=body["enrollmentRequests"][0],
        response={"enrollmentId": f"E-{nic_ids[0]}"},
    )
    items = [ok]
    for seq, nic in enumerate(nic_ids[1:], start=1):
        items.append(
            Item.objects.create(
                message=message,
                seq=seq,
                key=str(seq + 1),
                nic_id=nic,
                status=Item.Status.FAILURE,
                attempts=8,
                data=body["enrollmentRequests"][seq],
                last_error="HTTP 503: down",
                first_failed_at=now,
            )
        )
    OutboundCall.objects.create(
        message=message,
        item=ok,
        partner="DACS",
        operation="enroll",
        method="POST",
        url="http://dacs/enroll",
        request_body=json.dumps({"transactionId": f"{message_id}:1"}),
        response_status=200,
        response_body=json.dumps({"enrollmentId": "E-1001", "status": "PENDING"}),
        outcome="SUCCESS",
        started_at=now - timedelta(seconds=5),
        duration_ms=12,
    )
    OutboundCall.objects.create(
        message=message,
        item=items[-1],
        partner="DACS",
        operation="enroll",
        method="POST",
        url="http://dacs/enroll",
        request_body="{}",
        response_status=503,
        response_body="down",
        outcome="TECHNICAL",
        error="HTTP 503: down",
        started_at=now - timedelta(seconds=4),
        duration_ms=30,
    )
    Activity.objects.create(message=message, kind="accepted", text=f"{len(nic_ids)} item(s)")
    Activity.objects.create(message=message, kind="finished", text="FAILED")
    Notification.objects.create(
        message=message,
        kind="technical_error",
        subject="Technical failure",
        recipients=["ops@utility.example"],
        body_text="Technical failure",
        status=Notification.Status.SENT,
        attempts=1,
        sent_at=now,
    )
    return message
