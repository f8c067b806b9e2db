"""Bad input on the two endpoints of flow 2: the right 4xx naming the field, and the message stored."""

import json

import pytest

from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_check, status_response
from hub.models import Message

pytestmark = pytest.mark.django_db
CHECKS = "/api/v1/dacs/device-status-checks"
RESPONSES = "/api/v1/derms/device-status-responses"


def post(client, url, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type)


def stored(resp) -> Message:
    return Message.objects.get(tracking_id=resp.json()["trackingId"])


def without(body: dict, path: str) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    del target[last]
    return body


def changed(body: dict, path: str, value) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    target[last] = value
    return body


CHECK_CASES = [
    (without(status_check("CD-1"), "sendDetails.communicationId"), "sendDetails.communicationId"),
    (without(status_check("CD-1"), "sendDetails"), "sendDetails"),
    (without(status_check("CD-1"), "deviceInfo.nicId"), "deviceInfo.nicId"),
    (without(status_check("CD-1"), "deviceInfo.headEndSystem"), "deviceInfo.headEndSystem"),
    (changed(status_check("CD-1"), "reason", "CURIOSITY"), "reason"),
    (changed(status_check("CD-1"), "deviceInfo.nicId", ""), "deviceInfo.nicId"),
    (changed(status_check("CD-1"), "sendDetails.communicationId", "C" * 201), "sendDetails.communicationId"),
]


@pytest.mark.parametrize(("body", "field"), CHECK_CASES)
def test_a_bad_check_is_400_naming_the_field_and_stored(dacs_client, body, field):
    resp = post(dacs_client, CHECKS, body)
    assert resp.status_code == 400
    assert resp.json()["error"] == "validation_failed" and field in resp.json()["details"]
    assert resp.json()["message"].startswith(f"{field}:")
    message = stored(resp)
    assert message.status == Message.Status.REJECTED and json.loads(message.stored_body()) == body
    assert not StatusCheck.objects.exists() and message.items.count() == 0


def test_the_reason_defaults_to_troubleshooting(dacs_client):
    assert post(dacs_client, CHECKS, without(status_check("CD-1"), "reason")).status_code == 202
    assert StatusCheck.objects.get().reason == "TROUBLESHOOTING"


RESPONSE_CASES = [
    (without(status_response("CD-1"), "dacsMessageId"), "dacsMessageId"),
    (without(status_response("CD-1"), "responseCode"), "responseCode"),
    (changed(status_response("CD-1"), "responseCode", "MAYBE"), "responseCode"),
    (changed(status_response("CD-1"), "responseTimeISO", "2026-11-26T10:02:11"), "responseTimeISO"),
    (changed(status_response("CD-1"), "responseTimeISO", "yesterday"), "responseTimeISO"),
    (changed(status_response("CD-1"), "dacsMessageId", ["CD-1"]), "dacsMessageId"),
]


@pytest.mark.parametrize(("body", "field"), RESPONSE_CASES)
def test_a_bad_response_is_400_naming_the_field_and_stored(dacs_client, derms_client, body, field):
    assert post(dacs_client, CHECKS, status_check("CD-1")).status_code == 202
    resp = post(derms_client, RESPONSES, body)
    assert resp.status_code == 400 and field in resp.json()["details"], resp.json()
    assert stored(resp).status == Message.Status.REJECTED


def test_a_response_to_an_unknown_check_is_404_and_stored(derms_client):
    resp = post(derms_client, RESPONSES, status_response("NOPE"))
    assert resp.status_code == 404
    assert resp.json()["error"] == "unknown_correlation" and "dacsMessageId" in resp.json()["details"]
    message = stored(resp)
    assert message.status == Message.Status.REJECTED and message.message_key == "NOPE"


def test_a_response_to_a_rejected_check_is_unknown(dacs_client, derms_client):
    post(dacs_client, CHECKS, without(status_check("CD-1"), "deviceInfo.nicId"))
    assert post(derms_client, RESPONSES, status_response("CD-1")).status_code == 404


@pytest.mark.parametrize(("url", "body"), [(CHECKS, status_check("CD-1")), (RESPONSES, status_response("CD-1"))])
def test_malformed_json_and_wrong_content_type_are_refused_and_stored(dacs_client, derms_client, url, body):
    client = dacs_client if url == CHECKS else derms_client
    resp = post(client, url, '{"sendDetails": ')
    assert resp.status_code == 400 and resp.json()["error"] == "malformed_json" and "body" in resp.json()["details"]
    resp = post(client, url, json.dumps(body), content_type="text/plain")
    assert resp.status_code == 415 and "Content-Type" in resp.json()["details"]
    assert Message.objects.filter(status=Message.Status.REJECTED).count() == 2


def test_each_endpoint_refuses_the_other_system(dacs_client, derms_client):
    assert post(derms_client, CHECKS, status_check("CD-1")).status_code == 403
    assert post(dacs_client, RESPONSES, status_response("CD-1")).status_code == 403
    assert Message.objects.filter(http_status=403).count() == 2
