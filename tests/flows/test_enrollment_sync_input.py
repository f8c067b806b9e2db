"""Bad input on the two endpoints of flow 3: the right 4xx naming the field, and the message stored."""

import json

import pytest

from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import sync_ack, sync_request
from hub.models import Message
from tests.flows.test_device_status_input import changed, post, stored, without

pytestmark = pytest.mark.django_db
SYNCS = "/api/v1/dacs/enrollment-syncs"
ACKS = "/api/v1/derms/enrollment-sync-acks"

SYNC_CASES = [
    (without(sync_request("S-1"), "syncRequestId"), "syncRequestId"),
    (without(sync_request("S-1"), "action"), "action"),
    (changed(sync_request("S-1"), "action", "SUSPEND"), "action"),
    (without(sync_request("S-1"), "contactInfo.cisPersonId"), "contactInfo.cisPersonId"),
    (without(sync_request("S-1"), "subscriptionInfo.subscriptionId"), "subscriptionInfo.subscriptionId"),
    (without(sync_request("S-1"), "subscriptionInfo.programCode"), "subscriptionInfo.programCode"),
    (without(sync_request("S-1"), "locationInfo.cisServicePointId"), "locationInfo.cisServicePointId"),
    (
        changed(sync_request("S-1"), "subscriptionInfo.startDateTime", "2026-12-01T00:00:00"),
        "subscriptionInfo.startDateTime",
    ),
    (
        changed(sync_request("S-1"), "locationInfo.controllableDevices", [{"nicId": ["x"]}]),
        "locationInfo.controllableDevices[0].nicId",
    ),
    (changed(sync_request("S-1"), "contactInfo", "P100"), "contactInfo"),
]


@pytest.mark.parametrize(("body", "field"), SYNC_CASES)
def test_a_bad_sync_is_400_naming_the_field_and_stored(dacs_client, body, field):
    resp = post(dacs_client, SYNCS, body)
    assert resp.status_code == 400
    assert resp.json()["error"] == "validation_failed" and field in resp.json()["details"], resp.json()
    assert resp.json()["message"].startswith(f"{field}:")
    message = stored(resp)
    assert message.status == Message.Status.REJECTED and json.loads(message.stored_body()) == body
    assert not EnrollmentSync.objects.exists()


ACK_CASES = [
    (without(sync_ack("S-1"), "dacsMessageId"), "dacsMessageId"),
    (without(sync_ack("S-1"), "ackType"), "ackType"),
    (changed(sync_ack("S-1"), "ackType", "FAILURE"), "ackType"),
    (changed(sync_ack("S-1"), "message", {"text": "no"}), "message"),
]


@pytest.mark.parametrize(("body", "field"), ACK_CASES)
def test_a_bad_acknowledgement_is_400_naming_the_field_and_stored(dacs_client, derms_client, body, field):
    assert post(dacs_client, SYNCS, sync_request("S-1")).status_code == 202
    resp = post(derms_client, ACKS, body)
    assert resp.status_code == 400 and field in resp.json()["details"], resp.json()
    assert stored(resp).status == Message.Status.REJECTED


def test_a_rejected_sync_does_not_hold_its_key(dacs_client):
    assert post(dacs_client, SYNCS, without(sync_request("S-1"), "action")).status_code == 400
    assert post(dacs_client, SYNCS, sync_request("S-1")).status_code == 202
    assert post(dacs_client, SYNCS, sync_request("S-1")).status_code == 200


@pytest.mark.parametrize(("url", "body"), [(SYNCS, sync_request("S-1")), (ACKS, sync_ack("S-1"))])
def test_malformed_json_and_wrong_content_type_are_refused_and_stored(dacs_client, derms_client, url, body):
    client = dacs_client if url == SYNCS else derms_client
    resp = post(client, url, b"\xff\xfe not json")
    assert resp.status_code == 400 and resp.json()["error"] == "malformed_json"
    resp = post(client, url, json.dumps(body), content_type="application/xml")
    assert resp.status_code == 415
    assert Message.objects.filter(status=Message.Status.REJECTED).count() == 2


def test_each_endpoint_refuses_the_other_system(dacs_client, derms_client):
    assert post(derms_client, SYNCS, sync_request("S-1")).status_code == 403
    assert post(dacs_client, ACKS, sync_ack("S-1")).status_code == 403
    assert Message.objects.filter(http_status=403).count() == 2
