"""What one inbound message costs the database, on a token-authenticated request: the queries are pinned, so a
change that adds one to every message a partner sends is seen here (bench_ingest measures what they cost).

The queries are counted as Django logs them in a test, whose transaction turns the one that accepts a
message into a savepoint (SAVEPOINT and RELEASE stand for BEGIN and COMMIT). The task is queued as with
the ORM broker in production, not run inline as in the other unit tests.
"""

import json

import pytest
from django.db import connection, transaction
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from flows.enrollment_requests.samples import enrollment_message
from hub.messages import message_enqueue
from hub.models import Message
from tests.factories import MessageFactory

URL = "/api/v1/derms/enrollment-requests"
pytestmark = pytest.mark.django_db

BEFORE_JUDGING = [
    "the token and its user",
    "the user's groups",
    "the message stored",
    "the backlog",
    "an accepted copy",
]
ACCEPTING = ["SAVEPOINT", "the message accepted", "its items", "its timeline row", "its task", "RELEASE"]
ANSWERING = ["the message marked a duplicate or rejected", "its timeline row"]


@pytest.fixture
def client(derms_user, token_client, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    client = token_client(derms_user)
    # A web process's first request loads what it keeps (the URLconf, the flows); the pin is for the next ones.
    assert post(client, enrollment_message("WARM-UP", 1)).status_code == 202
    return client


def post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def logged(queries: list[str]) -> int:
    """How many of `queries` Django logs: PostgreSQL's items are written by COPY, which it does not."""
    return len([q for q in queries if not (q == "its items" and connection.vendor == "postgresql")])


def test_an_accepted_message_costs_eleven_queries(client, django_assert_num_queries):
    with django_assert_num_queries(logged(BEFORE_JUDGING + ACCEPTING)):
        resp = post(client, enrollment_message("M-1", 3))
    assert resp.status_code == 202
    assert Message.objects.get(accepted_key="M-1").items.count() == 3


def test_a_duplicate_costs_seven_queries(client, django_assert_num_queries):
    assert post(client, enrollment_message("M-1", 1)).status_code == 202
    with django_assert_num_queries(logged(BEFORE_JUDGING + ANSWERING)):
        resp = post(client, enrollment_message("M-1", 1))
    assert resp.status_code == 200 and resp.json()["duplicate"] is True


def test_a_rejected_message_costs_seven_queries(client, django_assert_num_queries):
    bad = enrollment_message("M-1", 1)
    del bad["enrollmentRequests"][0]["customerInfo"]["cisPersonId"]
    with django_assert_num_queries(logged(BEFORE_JUDGING + ANSWERING)):
        resp = post(client, bad)
    assert resp.status_code == 400


def test_the_task_is_queued_in_the_transaction_that_accepts_the_message(client):
    resp = post(client, enrollment_message("M-1", 1))
    message = Message.objects.get(tracking_id=resp.json()["trackingId"])
    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in tasks if t["args"] == (message.id,)] == [
        ("hub.processing.message_process", (message.id,))
    ]
    assert message.enqueued_at is not None


def test_a_task_queued_in_a_transaction_that_rolls_back_is_gone_with_it(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    message = MessageFactory.create()
    with transaction.atomic():
        message_enqueue(message_id=message.id)
        assert OrmQ.objects.count() == 1
        transaction.set_rollback(True)
    assert OrmQ.objects.count() == 0
    message.refresh_from_db()
    assert message.enqueued_at is None
