"""A flow's own rows are written only with the acceptance: a refused copy or a losing duplicate leaves none."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_q.conf import Conf

from flows.device_reservations.models import ProgramEvent, Reservation
from flows.device_reservations.samples import reservation_message
from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_check
from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import sync_request
from hub import inbound
from hub.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _not_processed(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def event(status: str, *, starts_in: timedelta = timedelta(days=1)) -> ProgramEvent:
    start = timezone.now() + starts_in
    return ProgramEvent.objects.create(
        event_id="EVT-1", event_type="ECONOMIC", start=start, end=start + timedelta(hours=2), status=status
    )


def test_an_invalid_status_check_or_sync_leaves_no_row(dacs_client):
    check = status_check("CD-1")
    del check["deviceInfo"]["nicId"]
    sync = sync_request("SYNC-1")
    del sync["contactInfo"]["cisPersonId"]
    assert dacs_client.post("/api/v1/dacs/device-status-checks", data=check, format="json").status_code == 400
    assert dacs_client.post("/api/v1/dacs/enrollment-syncs", data=sync, format="json").status_code == 400
    assert not StatusCheck.objects.exists() and not EnrollmentSync.objects.exists()


def test_a_reservation_of_a_cancelled_event_is_refused_under_the_events_lock_and_leaves_nothing(derms_client):
    event(ProgramEvent.Status.CANCELLING)
    resp = derms_client.post(
        "/api/v1/derms/device-reservations", data=reservation_message("RSV-1", "EVT-1", 2), format="json"
    )
    assert resp.status_code == 409 and resp.json()["error"] == "event_cancelled"
    message = Message.objects.get()
    assert (message.status, message.accepted_key, message.http_status) == (Message.Status.REJECTED, None, 409)
    assert not message.items.exists() and not Reservation.objects.exists()
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLING


def test_a_cancellation_of_a_started_event_leaves_it_as_it_was(derms_client):
    event(ProgramEvent.Status.RESERVED, starts_in=timedelta(minutes=-1))
    resp = derms_client.post(
        "/api/v1/derms/event-cancellations", data={"messageId": "C-1", "eventId": "EVT-1"}, format="json"
    )
    assert resp.status_code == 409
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED


@pytest.mark.parametrize(
    "path,body,rows",
    [
        ("dacs/device-status-checks", status_check("CD-2"), StatusCheck.objects),
        ("dacs/enrollment-syncs", sync_request("SYNC-2"), EnrollmentSync.objects),
    ],
    ids=["status check", "sync"],
)
def test_a_copy_that_loses_the_race_at_acceptance_leaves_no_row(dacs_client, path, body, rows):
    assert dacs_client.post(f"/api/v1/{path}", data=body, format="json").status_code == 202
    first = Message.objects.get()
    # The second copy finds no accepted copy when it looks, as if the first were accepted just after.
    with mock.patch.object(inbound, "_accepted_copy", autospec=True, side_effect=[None, first]):
        resp = dacs_client.post(f"/api/v1/{path}", data=body, format="json")
    assert resp.status_code == 200 and resp.json()["duplicate"] is True
    assert rows.count() == 1
