"""The inbound pipeline, through the enrollment-requests endpoint."""

import json

import pytest
from rest_framework.test import APIClient

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Message
from tests.conftest import basic

URL = "/api/v1/derms/enrollment-requests"
pytestmark = pytest.mark.django_db


def post(client, body, content_type="application/json", **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, **extra)


def test_it_refuses_anonymous_callers_with_401(db):
    resp = post(APIClient(), enrollment_message("M-1", 1))
    assert resp.status_code == 401
    assert "Basic" in resp["WWW-Authenticate"]


def test_it_refuses_wrong_credentials_with_401(derms_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic("derms", "wrong"))
    assert post(client, enrollment_message("M-1", 1)).status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert post(client, enrollment_message("M-1", 1)).status_code == 401


def test_it_refuses_the_other_system_with_403_and_stores_it(dacs_client):
    resp = post(dacs_client, enrollment_message("M-1", 1))
    assert resp.status_code == 403
    assert resp.json()["error"] == "forbidden"
    message = Message.objects.get()
    assert message.status == Message.Status.REJECTED
    assert message.http_status == 403
    assert json.loads(message.stored_body())["messageId"] == "M-1"


def test_it_accepts_basic_and_token(derms_client, derms_user, token_client):
    assert post(derms_client, enrollment_message("M-1", 1)).status_code == 202
    assert post(token_client(derms_user), enrollment_message("M-2", 1)).status_code == 202


def test_it_stores_the_message_with_redacted_headers(derms_client):
    resp = post(derms_client, enrollment_message("M-1", 2), HTTP_X_REQUEST_ID="abc")
    assert resp.status_code == 202
    ack = resp.json()
    assert ack["messageId"] == "M-1" and ack["status"] == "ACCEPTED" and ack["duplicate"] is False
    assert ack["flow"] == "enrollment_requests" and ack["receivedAt"].endswith("Z")
    message = Message.objects.get(tracking_id=ack["trackingId"])
    assert message.headers["Authorization"] == "[redacted]"
    assert message.headers["X-Request-Id"] == "abc"
    assert message.remote_addr == "127.0.0.1"
    assert message.status == Message.Status.QUEUED
    assert message.items.count() == 2
    assert "secret-pass" not in json.dumps(message.headers)


def test_it_answers_a_duplicate_with_the_first_acknowledgement(derms_client):
    first = post(derms_client, enrollment_message("M-1", 1)).json()
    resp = post(derms_client, enrollment_message("M-1", 1))
    assert resp.status_code == 200
    assert resp.json() == {**first, "duplicate": True}
    assert Message.objects.filter(status=Message.Status.DUPLICATE).count() == 1
    assert Message.objects.filter(accepted_key="M-1").count() == 1


def test_a_rejected_message_does_not_hold_its_key(derms_client):
    bad = enrollment_message("M-1", 1)
    del bad["enrollmentRequests"][0]["customerInfo"]["cisPersonId"]
    rejected = post(derms_client, bad)
    assert rejected.status_code == 400
    accepted = post(derms_client, enrollment_message("M-1", 1))
    assert accepted.status_code == 202
    assert accepted.json()["trackingId"] != rejected.json()["trackingId"]


@pytest.mark.parametrize(
    "mutate, path",
    [
        (
            lambda b: b["enrollmentRequests"][0]["customerInfo"].pop("cisPersonId"),
            "enrollmentRequests[0].customerInfo.cisPersonId",
        ),
        (
            lambda b: b["enrollmentRequests"][1]["locationInfo"].pop("cisPremiseId"),
            "enrollmentRequests[1].locationInfo.cisPremiseId",
        ),
        (
            lambda b: b["enrollmentRequests"][0]["assetInfo"].update(assetList=[]),
            "enrollmentRequests[0].assetInfo.assetList",
        ),
        (
            lambda b: b["enrollmentRequests"][0]["assetInfo"]["assetList"][0].pop("nicId"),
            "enrollmentRequests[0].assetInfo.assetList[0].nicId",
        ),
        (
            lambda b: b["enrollmentRequests"][0]["programInfo"].update(startDateTimeISO="2026-12-01T06:00:00"),
            "enrollmentRequests[0].programInfo.startDateTimeISO",
        ),
        (lambda b: b["enrollmentRequests"][0].update(requestId="1" * 20), "enrollmentRequests[0].requestId"),
        (lambda b: b["enrollmentRequests"][1].update(requestId="1"), "enrollmentRequests[1].requestId"),
        (lambda b: b.update(enrollmentRequests="all of them"), "enrollmentRequests"),
        (lambda b: b.update(enrollmentRequests=[]), "enrollmentRequests"),
        (lambda b: b.update(messageId=None), "messageId"),
        (
            lambda b: b["enrollmentRequests"][0]["assetInfo"]["assetList"][0].update(sequence="first"),
            "enrollmentRequests[0].assetInfo.assetList[0].sequence",
        ),
    ],
)
def test_it_names_the_field_of_bad_input(derms_client, mutate, path):
    body = enrollment_message("M-1", 2)
    mutate(body)
    resp = post(derms_client, body)
    assert resp.status_code == 400
    answer = resp.json()
    assert answer["error"] == "validation_failed"
    assert path in answer["details"]
    assert answer["message"].startswith(f"{next(iter(answer['details']))}: ")
    message = Message.objects.get(tracking_id=answer["trackingId"])
    assert message.status == Message.Status.REJECTED and message.errors == answer
    assert message.message_key == (body.get("messageId") or "")


def test_it_refuses_more_than_ten_thousand_requests(derms_client):
    body = enrollment_message("M-1", 1)
    body["enrollmentRequests"] = body["enrollmentRequests"] * 10_001
    resp = post(derms_client, body)
    assert resp.status_code == 400
    assert "enrollmentRequests" in resp.json()["details"]


def test_it_rejects_malformed_json_and_keeps_the_bytes(derms_client):
    resp = post(derms_client, '{"messageId": "M-1", ')
    assert resp.status_code == 400
    assert resp.json()["error"] == "malformed_json"
    assert "line 1" in resp.json()["message"]
    assert Message.objects.get().stored_body() == b'{"messageId": "M-1", '


def test_it_rejects_the_wrong_content_type_with_415(derms_client):
    resp = post(derms_client, "messageId=M-1", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415
    assert "Content-Type" in resp.json()["details"]
    assert Message.objects.get().status == Message.Status.REJECTED


def test_it_refuses_an_oversized_body_from_its_length_without_reading_it(derms_client, settings):
    settings.MAX_BODY_MB = 0.001
    resp = post(derms_client, enrollment_message("M-1", 20))
    assert resp.status_code == 413
    message = Message.objects.get()
    assert message.raw_body is None
    assert message.body_size > 1000
    assert message.headers["Content-Type"] == "application/json"


def test_message_status_is_visible_to_the_sender_only(derms_client, dacs_client):
    ack = post(derms_client, enrollment_message("M-1", 3)).json()
    url = f"/api/v1/messages/{ack['trackingId']}"
    resp = derms_client.get(url)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "QUEUED" and body["items"] == {"PENDING": 3} and body["ackType"] is None
    assert dacs_client.get(url).status_code == 404


def test_a_path_no_route_matches_gets_a_json_404_under_the_api_only(derms_client):
    for path in ("/api/v1/messages/3%1BM%0Aabc", "/api/v1/no-such-flow"):
        resp = derms_client.post(path, data={}, content_type="application/json")
        assert resp.status_code == 404 and resp["Content-Type"] == "application/json"
        assert resp.json()["error"] == "not_found" and path.split("/")[3] in resp.json()["message"]
    page = derms_client.get("/no-such-page")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_partner_accounts_cannot_use_the_admin(client, derms_user):
    derms_user.is_staff = True
    derms_user.save()
    client.force_login(derms_user)
    resp = client.get("/admin/")
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "body", "Nested deeper than 64 levels."),
        ('{"messageId": "M-1", "x": ' + "[" * 65 + "]" * 65 + "}", "x" + "[0]" * 63, "Nested deeper than 64 levels."),
        ('{"messageId": "M-1", "x": ' + "9" * 5000 + "}", "x", "An integer of 5000 digits is out of range."),
        ('{"messageId": "M-1", "x": {"y": [NaN]}}', "x.y[0]", "NaN is not a number JSON allows."),
        ('{"messageId": "M-1", "x": -Infinity}', "x", "-Infinity is not a number JSON allows."),
        ('{"messageId": "M-1", "x": 1e999}', "x", "The number 1e999 is out of range."),
    ],
)
def test_json_the_hub_cannot_keep_is_a_400_naming_the_field(derms_client, text, key, problem):
    """Found by an attack run: each of these was a 500, the message left RECEIVED."""
    resp = post(derms_client, text)
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["error"] == "malformed_json" and body["details"] == {key: [problem]}
    message = Message.objects.get(tracking_id=body["trackingId"])
    assert message.status == Message.Status.REJECTED and message.http_status == 400
    assert message.stored_body() == text.encode()


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_method_is_stored_and_answered_405(derms_client, method):
    resp = derms_client.generic(method, URL, b'{"messageId": "M-1"}', content_type="application/json")
    assert resp.status_code == 405
    assert "POST" in resp["Allow"]
    body = resp.json()
    assert body["error"] == "method_not_allowed"
    message = Message.objects.get(tracking_id=body["trackingId"])
    assert message.status == Message.Status.REJECTED and message.http_status == 405
    assert message.method == method and message.stored_body() == b'{"messageId": "M-1"}'


def test_another_method_without_credentials_is_still_401_and_not_stored(db):
    assert APIClient().get(URL).status_code == 401
    assert not Message.objects.exists()


def test_an_unexpected_failure_while_judging_is_a_500_recorded_on_the_message(derms_client, monkeypatch):
    from flows.enrollment_requests.flow import EnrollmentRequests

    def broken(self, message, payload):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(EnrollmentRequests, "validate", broken)
    resp = post(derms_client, enrollment_message("M-1", 1))
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"] == "internal_error"
    message = Message.objects.get(tracking_id=body["trackingId"])
    assert message.status == Message.Status.REJECTED and message.http_status == 500
    assert message.errors is not None and message.errors["error"] == "internal_error" and message.message_key == "M-1"


def test_messages_left_received_are_marked_not_answered_after_the_set_time(derms_client):
    from datetime import timedelta

    from django.utils import timezone

    from hub.messages import messages_abandon_received

    old = Message.objects.create(flow="enrollment_requests", raw_body=b"{}", body_size=2)
    young = Message.objects.create(flow="enrollment_requests", raw_body=b"{}", body_size=2)
    answered = Message.objects.create(flow="enrollment_requests", status=Message.Status.QUEUED)
    Message.objects.filter(id__in=[old.id, answered.id]).update(received_at=timezone.now() - timedelta(seconds=301))
    assert messages_abandon_received(older_than_s=300) == 1
    old.refresh_from_db()
    assert old.status == Message.Status.REJECTED and old.http_status == 500
    assert (
        old.errors is not None
        and old.errors["error"] == "not_answered"
        and old.errors["trackingId"] == str(old.tracking_id)
    )
    assert old.stored_body() == b"{}"
    assert Message.objects.get(id=young.id).status == Message.Status.RECEIVED
    assert Message.objects.get(id=answered.id).status == Message.Status.QUEUED
    assert messages_abandon_received(older_than_s=300) == 0
