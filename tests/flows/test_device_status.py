"""Flow 2 processing with the partner calls patched at the chokepoint."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_check, status_response
from hub import partners
from hub.models import Item, Message, OutboundCall
from hub.processing import message_process, sweep_once
from hub.registry import flow_for
from tests.posting import accept

pytestmark = pytest.mark.django_db
CHECKS = "/api/v1/dacs/device-status-checks"
RESPONSES = "/api/v1/derms/device-status-responses"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


OK = answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


class Partners:
    """A stand-in for partners.call: records every call; `derms` may be replaced per test."""

    def __init__(self):
        self.sent = []
        self.derms = lambda body: OK

    def __call__(self, op, **kwargs):

        partner, operation = op.partner, op.name
        self.sent.append((partner, operation, kwargs.get("json_body")))
        return self.derms(kwargs["json_body"]) if partner == "DERMS" else OK

    def to_dacs(self):
        return [body for partner, operation, body in self.sent if partner == "DACS"]


@pytest.fixture
def fake():
    fake = Partners()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        yield fake


def test_it_forwards_the_check_to_derms_and_owes_dacs_nothing_yet(dacs_client, fake):
    message = accept(dacs_client, CHECKS, status_check("CD-1", "ECB-1"))
    check = StatusCheck.objects.get(check_message=message)
    assert check.state == "RECEIVED" and check.asked_at == message.received_at and check.reason == "TROUBLESHOOTING"
    message_process(message.id)
    assert fake.sent == [
        ("DERMS", "status_check", {"dacsMessageId": "CD-1", "deviceInfo": status_check("CD-1", "ECB-1")["deviceInfo"]})
    ]
    check.refresh_from_db()
    assert check.state == "FORWARDED" and check.forwarded_at is not None
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and message.reply_status == Message.Reply.NONE


def test_a_response_is_paired_with_its_check_and_passed_to_dacs(dacs_client, derms_client, fake):
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    message_process(check_message.id)
    response = accept(derms_client, RESPONSES, status_response("CD-1", "FAILURE", message="No heartbeat"))
    assert response.related_id == check_message.id
    message_process(response.id)
    assert fake.to_dacs() == [
        {
            "responseDetail": {
                "transactionId": "CD-1",
                "responseDateTime": "2026-11-26T10:02:11Z",
                "result": {"status": "FAILURE", "message": "No heartbeat"},
            }
        }
    ]
    check = StatusCheck.objects.get(check_message=check_message)
    assert (check.state, check.response_code, check.dacs_result) == ("ANSWERED", "FAILURE", "FAILURE")
    assert not check.late
    assert check.response_message_id == response.id and check.answered_at == response.received_at
    assert check.dacs_updated_at is not None
    response.refresh_from_db()
    assert response.status == Message.Status.COMPLETED


def test_a_response_without_a_time_is_dated_when_received(dacs_client, derms_client, fake):
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    response = accept(derms_client, RESPONSES, status_response("CD-1", when=None))
    message_process(response.id)
    (body,) = fake.to_dacs()
    assert body["responseDetail"]["responseDateTime"] == response.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert StatusCheck.objects.get(check_message=check_message).state == "ANSWERED"


def test_a_response_that_overtakes_the_forward_is_paired(dacs_client, derms_client, fake):
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    overtaking = []

    def derms_answers_before_acknowledging(body):
        overtaking.append(accept(derms_client, RESPONSES, status_response(body["dacsMessageId"])))
        message_process(overtaking[0].id)
        return OK

    fake.derms = derms_answers_before_acknowledging
    message_process(check_message.id)
    check = StatusCheck.objects.get(check_message=check_message)
    assert check.state == "ANSWERED", "the forward finishing later must not move the state back"
    assert check.forwarded_at is not None and check.answered_at is not None
    assert check.answered_at <= check.forwarded_at
    assert check.response_message_id == overtaking[0].id
    assert [b["responseDetail"]["result"]["status"] for b in fake.to_dacs()] == ["SUCCESS"]
    check_message.refresh_from_db()
    assert check_message.status == Message.Status.COMPLETED and check_message.reply_status == Message.Reply.NONE


def test_a_second_response_is_a_duplicate_and_not_sent_twice(dacs_client, derms_client, fake):
    accept(dacs_client, CHECKS, status_check("CD-1"))
    first = accept(derms_client, RESPONSES, status_response("CD-1"))
    message_process(first.id)
    resp = derms_client.post(RESPONSES, data=status_response("CD-1", "FAILURE"), format="json")
    assert resp.status_code == 200 and resp.json()["duplicate"] is True
    assert resp.json()["trackingId"] == str(first.tracking_id)
    second = Message.objects.get(flow="device_status_responses", status=Message.Status.DUPLICATE)
    assert second.duplicate_of_id == first.id and second.items.count() == 0
    message_process(second.id)
    assert len(fake.to_dacs()) == 1


def test_a_check_and_its_response_may_share_a_key(dacs_client, derms_client, fake):
    """communicationId and dacsMessageId are one value on two endpoints, never duplicates."""
    accept(dacs_client, CHECKS, status_check("SAME-1"))
    response = accept(derms_client, RESPONSES, status_response("SAME-1"))
    assert response.status == Message.Status.QUEUED


def age(check_message, seconds):
    StatusCheck.objects.filter(check_message=check_message).update(asked_at=timezone.now() - timedelta(seconds=seconds))


def test_an_unanswered_check_times_out_and_dacs_is_told_failure(
    dacs_client, derms_client, fake, settings, django_capture_on_commit_callbacks
):
    settings.STATUS_CHECK_TIMEOUT_S = 7200
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    young = accept(dacs_client, CHECKS, status_check("CD-2"))
    message_process(check_message.id)
    age(check_message, 7201)
    age(young, 7000)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_once()
    check = StatusCheck.objects.get(check_message=check_message)
    assert check.state == "TIMED_OUT" and check.timed_out_at is not None
    assert StatusCheck.objects.get(check_message=young).state in ("RECEIVED", "FORWARDED")
    (email,) = mail.outbox
    assert "1 device status check(s) timed out" in email.subject and "CD-1" in email.body
    assert email.to == ["ops@utility.example"]
    message_process(check_message.id)  # reopened by the sweeper
    assert fake.to_dacs() == [
        {
            "responseDetail": {
                "transactionId": "CD-1",
                "responseDateTime": check.timed_out_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "result": {"status": "FAILURE", "message": "No response from DERMS within 2 hours"},
            }
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        sweep_once()
        message_process(check_message.id)
    assert len(fake.to_dacs()) == 1 and len(mail.outbox) == 1, "one FAILURE and one email, however often swept"

    late = accept(derms_client, RESPONSES, status_response("CD-1"))
    message_process(late.id)
    assert [b["responseDetail"]["result"]["status"] for b in fake.to_dacs()] == ["FAILURE", "SUCCESS"]
    check.refresh_from_db()
    assert check.late and check.state == "TIMED_OUT" and check.response_message_id == late.id
    assert check.dacs_result == "SUCCESS"
    assert late.activities.filter(kind="late").exists()


def test_a_response_received_before_the_deadline_is_not_timed_out(dacs_client, derms_client, fake):
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    message_process(check_message.id)
    accept(derms_client, RESPONSES, status_response("CD-1"))  # accepted, not yet processed
    age(check_message, 8000)
    flow_for("device_status_checks").sweep()
    assert StatusCheck.objects.get(check_message=check_message).state == "FORWARDED"
    assert mail.outbox == []


def test_derms_unreachable_after_retries_tells_dacs_failure(
    dacs_client, fake, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    fake.derms = lambda body: DOWN
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(check_message.id)
    check_message.refresh_from_db()
    assert check_message.status == Message.Status.FAILED
    assert check_message.items.get().status == Item.Status.FAILURE
    assert [op for p, op, b in fake.sent if p == "DERMS"] == ["status_check"] * 3
    (body,) = fake.to_dacs()
    assert body["responseDetail"]["result"] == {
        "status": "FAILURE",
        "message": "DERMS could not take the status check: HTTP 503",
    }
    check = StatusCheck.objects.get(check_message=check_message)
    assert check.state == "FAILED" and check.dacs_result == "FAILURE"
    assert any("Technical failure" in m.subject for m in mail.outbox)
    age(check_message, 8000)
    sweep_once()
    assert len(fake.to_dacs()) == 1, "a failed check does not time out again"


def test_derms_recovering_within_the_retries_forwards_once(dacs_client, fake):
    answers = iter([DOWN, DOWN, OK])
    fake.derms = lambda body: next(answers)
    check_message = accept(dacs_client, CHECKS, status_check("CD-1"))
    message_process(check_message.id)
    assert StatusCheck.objects.get(check_message=check_message).state == "FORWARDED"
    assert fake.to_dacs() == []
