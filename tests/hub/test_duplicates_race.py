"""Two copies of one message at the same moment: accepted once, the other answered as a duplicate."""

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from flows.enrollment_requests.samples import enrollment_message
from hub.models import Message
from tests.conftest import basic
from tests.threads import in_threads


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_once_are_accepted_once(derms_user):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    body = json.dumps(enrollment_message("RACE-1", 50))
    barrier = threading.Barrier(2)
    answers = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=basic("derms"))
        barrier.wait()
        resp = client.post("/api/v1/derms/enrollment-requests", data=body, content_type="application/json")
        answers.append((resp.status_code, resp.json()))

    in_threads(send, 2)
    assert sorted(status for status, _ in answers) == [200, 202]
    first = next(ack for status, ack in answers if status == 202)
    duplicate = next(ack for status, ack in answers if status == 200)
    assert duplicate == {**first, "duplicate": True}
    assert Message.objects.filter(accepted_key="RACE-1").count() == 1
    assert Message.objects.get(status=Message.Status.DUPLICATE).duplicate_of.tracking_id.hex == first[
        "trackingId"
    ].replace("-", "")
    accepted = Message.objects.get(accepted_key="RACE-1")
    assert accepted.items.count() == 50
