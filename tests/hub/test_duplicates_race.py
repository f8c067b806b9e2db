"""Copies of one message at the same moment: accepted once, the others answered as duplicates, leaving nothing."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from rest_framework.test import APIClient

from flows.device_reservations.models import ProgramEvent, Reservation
from flows.device_reservations.samples import reservation_message
from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_check
from flows.enrollment_requests.samples import enrollment_message
from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import sync_request
from hub.models import Item, Message
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
    original = Message.objects.get(status=Message.Status.DUPLICATE).duplicate_of
    assert original is not None and original.tracking_id.hex == first["trackingId"].replace("-", "")
    accepted = Message.objects.get(accepted_key="RACE-1")
    assert accepted.items.count() == 50


COPIES = 20


def _event_reserved(event_id: str) -> None:
    ProgramEvent.objects.create(
        event_id=event_id,
        event_type="ECONOMIC",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=2),
        status=ProgramEvent.Status.RESERVED,
    )


# flow endpoint, sender, body, the rows the flow writes on acceptance, what is left of them
RACES = {
    "status check": ("dacs/device-status-checks", "dacs", status_check("CD-RACE"), lambda: StatusCheck.objects.count()),
    "sync": ("dacs/enrollment-syncs", "dacs", sync_request("SYNC-RACE"), lambda: EnrollmentSync.objects.count()),
    "reservation": (
        "derms/device-reservations",
        "derms",
        reservation_message("RSV-RACE", "EVT-RACE", 3),
        lambda: (Reservation.objects.count(), ProgramEvent.objects.count()),
    ),
    "cancellation": (
        "derms/event-cancellations",
        "derms",
        {"messageId": "CNL-RACE", "eventId": "EVT-RACE"},
        lambda: list(Item.objects.values_list("data__was", flat=True)),
    ),
}
LEFT = {"status check": 1, "sync": 1, "reservation": (1, 1), "cancellation": ["RESERVED"]}


@pytest.mark.parametrize("flow", RACES)
@pytest.mark.django_db(transaction=True)
def test_many_copies_at_once_leave_one_of_each_flow_row(flow, derms_user, dacs_user, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    monkeypatch.setattr(Conf, "SYNC", False)  # accepted copies wait in the broker: no partner is called
    path, sender, body, rows = RACES[flow]
    if flow == "cancellation":
        _event_reserved("EVT-RACE")
    data = json.dumps(body)
    barrier = threading.Barrier(COPIES)
    statuses = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=basic(sender))
        barrier.wait()
        statuses.append(client.post(f"/api/v1/{path}", data=data, content_type="application/json").status_code)

    in_threads(send, COPIES)
    assert sorted(statuses) == [200] * (COPIES - 1) + [202]
    assert Message.objects.filter(status=Message.Status.DUPLICATE).count() == COPIES - 1
    assert rows() == LEFT[flow]
