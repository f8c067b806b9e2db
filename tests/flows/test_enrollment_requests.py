"""Flow 1 processing with the partner calls patched at the chokepoint."""

from unittest import mock

import pytest
from django.core import mail

from flows.enrollment_requests.flow import dacs_enrollment
from flows.enrollment_requests.samples import enrollment_message, enrollment_request
from hub import partners
from hub.messages import message_resubmit
from hub.models import Item, Lookup, Message, OutboundCall
from hub.processing import message_process, sweep_once
from tests.posting import accept

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/enrollment-requests"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


OK = answer(OutboundCall.Outcome.SUCCESS, body={"enrollmentId": "E-1", "status": "PENDING"})
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


def fake_partners(dacs):
    """A stand-in for partners.call: `dacs(body)` answers DACS; DERMS always accepts."""
    sent = []

    def call(op, **kwargs):

        partner, operation = op.partner, op.name
        sent.append((partner, operation, kwargs.get("json_body")))
        if partner == "DERMS":
            return answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})
        return dacs(kwargs["json_body"])

    return sent, call


def replies(sent):
    return [body for partner, operation, body in sent if operation == "enrollment_response"]


def test_the_dacs_body_follows_the_contract():
    body = dacs_enrollment("DRMS-ENR-1", enrollment_request("1"))
    assert body["transactionId"] == "DRMS-ENR-1:1"
    assert body["enrollmentSource"] == "X1BY"
    assert body["program"] == {"cisServiceAgreementId": "SA1", "programCode": "BYOT-SUMMER", "startDate": "2026-12-01"}
    assert body["asset"]["installationMethod"] == "X1SI" and body["asset"]["assetOwnership"] == "W1CO"
    device = body["asset"]["devices"][0]
    assert device["specification"] == "ECOBEE-SMART-PREMIUM" and device["assetType"] == "X1TH"
    assert body["location"]["cisServicePointId"] == "SP1"


def test_the_start_date_is_the_date_as_written_in_its_own_offset():
    request = enrollment_request("1")
    request["programInfo"]["startDateTimeISO"] = "2026-12-01T23:30:00-06:00"  # already Dec 2 in UTC
    assert dacs_enrollment("M", request)["program"]["startDate"] == "2026-12-01"


@pytest.mark.parametrize(
    "written",
    [
        "20261201T060000-0600",  # basic format
        "2026-12-01T06:00-06:00",
        "2026-12-01T06:00:00.123456-06:00",
        "2026-12-01 06:00:00-06:00",
        "2026-W49-2T06:00:00-06:00",  # ISO week date: Tuesday of week 49
        "2026-12-01T06:00:00Z",
    ],
)
def test_the_start_date_is_read_from_every_accepted_format(written):
    request = enrollment_request("1")
    request["programInfo"]["startDateTimeISO"] = written
    assert dacs_enrollment("M", request)["program"]["startDate"] == "2026-12-01"


def test_no_make_or_model_means_no_specification():
    request = enrollment_request("1")
    del request["assetInfo"]["assetList"][0]["make"]
    assert dacs_enrollment("M", request)["asset"]["devices"][0]["specification"] is None


def test_it_sends_each_request_and_one_overall_response(derms_client, django_capture_on_commit_callbacks):
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            message = accept(derms_client, URL, enrollment_message("M-1", 3))
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and message.ack_type == "SUCCESS"
    assert [b["transactionId"] for p, op, b in sent if op == "enroll"] == ["M-1:1", "M-1:2", "M-1:3"]
    (reply,) = replies(sent)
    assert reply["ackType"] == "SUCCESS" and reply["messageId"] == "M-1"
    assert reply["responses"][0] == {
        "requestId": "1",
        "responseCode": "SUCCESS",
        "enrollmentId": "E-1",
        "messageNumber": None,
        "message": None,
    }
    assert reply["whenISO"].endswith("Z") and "." not in reply["whenISO"]


def test_business_errors_and_already_enrolled(derms_client, django_capture_on_commit_callbacks):
    def dacs(body):
        if body["transactionId"].endswith(":2"):
            return answer(
                OutboundCall.Outcome.BUSINESS,
                status=400,
                error="Program BYOT-X not found",
                body={"status": "VAL-ERROR", "messageNumber": 11001, "messageText": "Program BYOT-X not found"},
            )
        if body["transactionId"].endswith(":3"):
            return answer(
                OutboundCall.Outcome.BUSINESS,
                error="exists",
                body={"status": "VAL-ERROR", "messageNumber": 10589, "enrollmentId": "E-OLD"},
            )
        return OK

    sent, call = fake_partners(dacs)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            message = accept(derms_client, URL, enrollment_message("M-1", 3))
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS
    (reply,) = replies(sent)
    assert reply["ackType"] == "ERROR"
    by_id = {r["requestId"]: r for r in reply["responses"]}
    assert by_id["2"] == {
        "requestId": "2",
        "responseCode": "ERROR",
        "enrollmentId": None,
        "messageNumber": 11001,
        "message": "Program BYOT-X not found",
    }
    assert by_id["3"]["responseCode"] == "SUCCESS" and by_id["3"]["enrollmentId"] == "E-OLD"


def test_a_code_without_translation_is_a_business_error_of_that_request(
    derms_client, django_capture_on_commit_callbacks
):
    Lookup.objects.filter(kind="asset_type", source="THERMOSTAT").delete()
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            accept(derms_client, URL, enrollment_message("M-1", 1))
    (reply,) = replies(sent)
    assert reply["responses"][0]["responseCode"] == "ERROR"
    assert "asset type" in reply["responses"][0]["message"] and "THERMOSTAT" in reply["responses"][0]["message"]
    assert not [op for p, op, b in sent if op == "enroll"]


def test_technical_errors_are_retried_then_fail_with_an_email(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    sent, call = fake_partners(lambda body: DOWN)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            message = accept(derms_client, URL, enrollment_message("M-1", 2))
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.ack_type == "FAILURE"
    assert len([op for p, op, b in sent if op == "enroll"]) == 6
    assert set(message.items.values_list("status", flat=True)) == {Item.Status.FAILURE}
    (reply,) = replies(sent)
    assert reply["ackType"] == "FAILURE"
    assert [r["responseCode"] for r in reply["responses"]] == ["FAILURE", "FAILURE"]
    (email,) = mail.outbox
    assert email.to == ["ops@utility.example"] and "M-1" in email.subject
    assert "HTTP 503" in email.body
    assert message.notifications.get().kind == "technical_error"


def test_a_transient_error_then_success(derms_client, django_capture_on_commit_callbacks):
    answers = iter([DOWN, OK])
    sent, call = fake_partners(lambda body: next(answers))
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            message = accept(derms_client, URL, enrollment_message("M-1", 1))
    item = message.items.get()
    assert item.status == Item.Status.SUCCESS and item.attempts == 2
    assert len(replies(sent)) == 1 and not mail.outbox


def test_a_task_delivered_twice_works_once(derms_client):
    message = accept(derms_client, URL, enrollment_message("M-1", 1))
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        message_process(message.id)
        message_process(message.id)
    assert len(replies(sent)) == 1
    assert len([op for p, op, b in sent if op == "enroll"]) == 1


def test_resubmission_sends_a_new_response_only_when_the_outcome_changed(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 1
    sent, call = fake_partners(lambda body: DOWN)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            message = accept(derms_client, URL, enrollment_message("M-1", 2))
    assert replies(sent)[-1]["ackType"] == "FAILURE"

    sent2, call2 = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call2):
        with django_capture_on_commit_callbacks(execute=True):
            assert message_resubmit(message=message, reason="DACS is back") == 2
        message.refresh_from_db()
        assert message.status == Message.Status.COMPLETED
        assert [r["ackType"] for r in replies(sent2)] == ["SUCCESS"]
        # Resubmitting again gives the same outcome: DERMS is not told twice.
        with django_capture_on_commit_callbacks(execute=True):
            message_resubmit(message=message)
    assert len(replies(sent2)) == 1
    assert list(message.activities.values_list("kind", flat=True)).count("reply_unchanged") == 1


def test_the_sweeper_takes_back_work_from_a_dead_worker(derms_client, settings, django_capture_on_commit_callbacks):
    message = accept(derms_client, URL, enrollment_message("M-1", 1))
    # A worker claimed it and died: PROCESSING with an old heartbeat.
    Message.objects.filter(id=message.id).update(status=Message.Status.PROCESSING, heartbeat_at="2020-01-01T00:00:00Z")
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            counts = sweep_once()
    assert counts["stale"] == 1
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert len(replies(sent)) == 1
    assert message.activities.filter(kind="taken_back").exists()
