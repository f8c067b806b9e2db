"""Flow 3 processing with the partner calls patched at the chokepoint."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import UNKNOWN_PERSON, sync_ack, sync_request
from hub import partners
from hub.models import Item, Message, OutboundCall
from hub.processing import message_process, sweep_once
from tests.posting import accept

pytestmark = pytest.mark.django_db
SYNCS = "/api/v1/dacs/enrollment-syncs"
ACKS = "/api/v1/derms/enrollment-sync-acks"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


ACK_SUCCESS = answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "SUCCESS", "message": "Synced"})
ACK_ERROR = answer(OutboundCall.Outcome.SUCCESS, body={"ackType": "ERROR", "message": UNKNOWN_PERSON})
LATER = answer(OutboundCall.Outcome.SUCCESS, status=202, body={"status": "ACCEPTED"})
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")
REFUSED = answer(OutboundCall.Outcome.BUSINESS, status=422, body={"message": "Bad program"}, error="Bad program")


class Partners:
    def __init__(self):
        self.sent = []
        self.derms = lambda body: ACK_SUCCESS

    def __call__(self, op, **kwargs):

        partner, operation = op.partner, op.name
        self.sent.append((partner, operation, kwargs.get("json_body")))
        if partner == "DERMS":
            return self.derms(kwargs["json_body"])
        return answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})

    def to_dacs(self):
        return [body for partner, operation, body in self.sent if partner == "DACS"]


@pytest.fixture
def fake():
    fake = Partners()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        yield fake


def sync_of(message):
    return EnrollmentSync.objects.get(sync_message=message)


def test_it_forwards_with_the_renamed_fields_and_acknowledges_at_once(dacs_client, fake):
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1", action="UNENROLL"))
    message_process(message.id)
    (_, operation, forward), dacs = fake.sent[0], fake.to_dacs()
    assert operation == "enroll" and "syncRequestId" not in forward and forward["dacsMessageId"] == "SYNC-1"
    assert forward["action"] == "UNENROLL" and forward["contactInfo"]["cisPersonId"] == "P100"
    assert forward["subscriptionInfo"]["startDateTimeISO"] == "2026-12-01T00:00:00Z"
    assert forward["subscriptionInfo"]["endDateTimeISO"] is None
    assert "startDateTime" not in forward["subscriptionInfo"] and "endDateTime" not in forward["subscriptionInfo"]
    sync = sync_of(message)
    assert dacs == [
        {
            "syncRequestId": "SYNC-1",
            "status": "SUCCESS",
            "message": "Synced",
            "acknowledgedDateTime": sync.acknowledged_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    assert (sync.state, sync.ack_mode, sync.dacs_status) == ("ACKNOWLEDGED", "IMMEDIATE", "SUCCESS")
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and message.reply_status == Message.Reply.SENT


def test_an_error_acknowledgement_reaches_dacs_with_derms_message(dacs_client, fake):
    fake.derms = lambda body: ACK_ERROR
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1", person="P-UNKNOWN"))
    message_process(message.id)
    (ack,) = fake.to_dacs()
    assert (ack["status"], ack["message"]) == ("ERROR", UNKNOWN_PERSON)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS
    assert len([op for p, op, b in fake.sent if p == "DERMS"]) == 1, "a refusal is not retried"


def test_a_refusal_of_the_call_itself_is_an_error_acknowledgement(dacs_client, fake):
    fake.derms = lambda body: REFUSED
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))
    message_process(message.id)
    assert [(a["status"], a["message"]) for a in fake.to_dacs()] == [("ERROR", "Bad program")]


def test_a_later_acknowledgement_is_passed_on_once(dacs_client, derms_client, fake):
    fake.derms = lambda body: LATER
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))
    message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and message.reply_status == Message.Reply.NONE
    assert sync_of(message).state == "FORWARDED" and fake.to_dacs() == []

    ack = accept(derms_client, ACKS, sync_ack("SYNC-1", "ERROR", UNKNOWN_PERSON))
    assert ack.related_id == message.id
    message_process(ack.id)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED, "the sync's message is queued again to acknowledge"
    message_process(message.id)
    (dacs,) = fake.to_dacs()
    assert (dacs["status"], dacs["message"]) == ("ERROR", UNKNOWN_PERSON)
    assert dacs["acknowledgedDateTime"] == ack.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    sync = sync_of(message)
    assert (sync.state, sync.ack_mode, sync.ack_message_id, sync.dacs_status) == (
        "ACKNOWLEDGED",
        "LATER",
        ack.id,
        "ERROR",
    )
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS
    sweep_once()
    message_process(message.id)
    assert len(fake.to_dacs()) == 1


def test_an_acknowledgement_that_overtakes_the_forward_is_passed_on_once(dacs_client, derms_client, fake):
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))

    def derms_acknowledges_before_answering(body):
        ack = accept(derms_client, ACKS, sync_ack("SYNC-1"))
        message_process(ack.id)
        return LATER

    fake.derms = derms_acknowledges_before_answering
    message_process(message.id)
    assert [a["status"] for a in fake.to_dacs()] == ["SUCCESS"]
    sync = sync_of(message)
    assert sync.state == "ACKNOWLEDGED" and sync.forwarded_at is not None and sync.ack_mode == "LATER"


def test_a_second_acknowledgement_is_not_passed_on(dacs_client, derms_client, fake):
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))
    message_process(message.id)
    late = accept(derms_client, ACKS, sync_ack("SYNC-1", "ERROR", "changed its mind"))
    message_process(late.id)
    sweep_once()
    message_process(message.id)
    assert [a["status"] for a in fake.to_dacs()] == ["SUCCESS"]
    item = late.items.get()
    assert item.status == Item.Status.CANCELLED and "DACS was told SUCCESS" in item.last_error
    again = derms_client.post(ACKS, data=sync_ack("SYNC-1"), format="json")
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_derms_unreachable_after_retries_is_a_failure_with_a_technical_email(
    dacs_client, fake, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    fake.derms = lambda body: DOWN
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))
    with django_capture_on_commit_callbacks(execute=True):
        message_process(message.id)
    (ack,) = fake.to_dacs()
    assert (ack["status"], ack["message"]) == ("FAILURE", "DERMS could not be reached: HTTP 503")
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert sync_of(message).state == "FAILED"
    (email,) = mail.outbox
    assert "Technical failure" in email.subject and "SYNC-1" in email.subject


def test_derms_unreachable_then_recovered_acknowledges_once(dacs_client, fake):
    answers = iter([DOWN, DOWN, ACK_SUCCESS])
    fake.derms = lambda body: next(answers)
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))
    message_process(message.id)
    assert [a["status"] for a in fake.to_dacs()] == ["SUCCESS"]
    assert mail.outbox == []


def test_an_unknown_sync_gets_404_and_is_stored(derms_client):
    resp = derms_client.post(ACKS, data=sync_ack("NOPE"), format="json")
    assert resp.status_code == 404
    assert resp.json()["error"] == "unknown_correlation" and resp.json()["message"].startswith("dacsMessageId:")
    stored = Message.objects.get(tracking_id=resp.json()["trackingId"])
    assert stored.status == Message.Status.REJECTED and stored.http_status == 404 and stored.message_key == "NOPE"


def test_an_unacknowledged_sync_is_flagged_overdue_and_reported(
    dacs_client, derms_client, fake, settings, django_capture_on_commit_callbacks
):
    settings.SYNC_ACK_OVERDUE_S = 7200
    fake.derms = lambda body: LATER
    message = accept(dacs_client, SYNCS, sync_request("SYNC-1"))
    message_process(message.id)
    EnrollmentSync.objects.filter(sync_message=message).update(received_at=timezone.now() - timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_once()
        sweep_once()
    sync = sync_of(message)
    assert sync.overdue_at is not None and sync.state == "FORWARDED"
    (email,) = mail.outbox
    assert "1 enrollment sync(s) without a DERMS acknowledgement" in email.subject
    assert "SYNC-1" in email.body and email.to == ["ops@utility.example"]
    assert fake.to_dacs() == []
    ack = accept(derms_client, ACKS, sync_ack("SYNC-1"))
    message_process(ack.id)
    message_process(message.id)
    assert [a["status"] for a in fake.to_dacs()] == ["SUCCESS"]
