"""Backpressure: 429 with Retry-After once the unfinished backlog passes BACKLOG_LIMIT."""

import json

import pytest

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Message
from tests.factories import MessageFactory

URL = "/api/v1/derms/enrollment-requests"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.BACKLOG_LIMIT = 3
    settings.BACKLOG_RETRY_AFTER_S = 45


def post(client, message_id):
    return client.post(URL, data=json.dumps(enrollment_message(message_id, 1)), content_type="application/json")


def test_it_accepts_while_the_backlog_is_at_the_limit(derms_client):
    MessageFactory.create_batch(2, status=Message.Status.QUEUED)
    MessageFactory.create(status=Message.Status.PROCESSING)
    assert post(derms_client, "M-1").status_code == 202


def test_it_answers_429_with_retry_after_past_the_limit_and_stores_the_request(derms_client):
    MessageFactory.create_batch(4, status=Message.Status.QUEUED)
    resp = post(derms_client, "M-LATE")
    assert resp.status_code == 429
    assert resp["Retry-After"] == "45"
    body = resp.json()
    assert body["error"] == "overloaded" and "3" in body["message"]
    stored = Message.objects.get(tracking_id=body["trackingId"])
    assert stored.status == Message.Status.REJECTED and stored.http_status == 429
    assert json.loads(stored.stored_body())["messageId"] == "M-LATE"


def test_finished_and_rejected_messages_do_not_count(derms_client):
    for status in (Message.Status.COMPLETED, Message.Status.FAILED, Message.Status.REJECTED, Message.Status.DUPLICATE):
        MessageFactory.create_batch(2, status=status, accepted_key=None)
    assert post(derms_client, "M-1").status_code == 202


def test_a_limit_of_zero_turns_it_off(derms_client, settings):
    settings.BACKLOG_LIMIT = 0
    MessageFactory.create_batch(5, status=Message.Status.QUEUED)
    assert post(derms_client, "M-1").status_code == 202


def test_the_next_request_is_accepted_once_the_backlog_drains(derms_client):
    waiting = MessageFactory.create_batch(4, status=Message.Status.QUEUED)
    assert post(derms_client, "M-1").status_code == 429
    Message.objects.filter(id=waiting[0].id).update(status=Message.Status.COMPLETED)
    assert post(derms_client, "M-1").status_code == 202
