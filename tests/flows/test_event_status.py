"""Flow 8: program event status updates, with the partner calls patched at the chokepoint."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from rest_framework.test import APIClient

from flows.device_reservations.flow import event_lock
from flows.device_reservations.models import EventDevice, ProgramEvent
from flows.device_reservations.samples import reservation_message
from flows.event_status.models import EventState, StatusUpdate
from flows.event_status.samples import status_update
from hub import partners
from hub.leases import lease_release, lease_take
from hub.messages import message_discard, message_resubmit
from hub.models import Item, Lookup, Message, OutboundCall
from hub.processing import message_process
from hub.timefmt import iso_z
from tests.conftest import basic
from tests.flows.test_device_reservations import FakeDacs, reserved
from tests.threads import in_threads

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/event-status-updates"
RESERVE_URL = "/api/v1/derms/device-reservations"
T1, T2, T3 = "2026-11-30T18:00:00Z", "2026-12-01T22:00:05Z", "2026-12-02T00:00:07Z"


def answer(outcome, status=200, body=None, error=""):
    return partners.Result(outcome=outcome, status=status, body=body, error=error, call=None)


OK = answer(OutboundCall.Outcome.SUCCESS, body={"status": "SUCCESS"})
REFUSED = answer(OutboundCall.Outcome.BUSINESS, status=400, error="Program BYOT-X not found")
DOWN = answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")


class FakePartners(FakeDacs):
    """DACS answers programEvent and lifecycle with `dacs(operation, body)` (reservations as flow 5's
    fake does); DERMS takes every acknowledgement."""

    def __init__(self, dacs=lambda operation, body: OK, **kwargs):
        super().__init__(**kwargs)
        self.dacs = dacs
        self.derms = lambda: OK

    def __call__(self, op, **kwargs):
        if op.name in ("programEvent", "lifecycle"):
            self.sent.append((op.name, kwargs["json_body"]))
            return self.dacs(op.name, kwargs["json_body"])
        if op.name == "event_status_ack":
            self.sent.append((op.name, kwargs["json_body"]))
            return self.derms()
        return super().__call__(op, **kwargs)

    def dacs_calls(self):
        return [(op, body) for op, body in self.sent if op in ("programEvent", "lifecycle")]


def future(days=1, hours=0):
    return iso_z(timezone.now() + timedelta(days=days, hours=hours))


def scheduled(message_id, event_id, at=T1, **kwargs):
    return status_update(message_id, event_id, "SCHEDULED", at=at, **kwargs)


@pytest.fixture
def fake():
    partners_fake = FakePartners()
    with mock.patch("hub.partners.call", autospec=True, side_effect=partners_fake):
        yield partners_fake


@pytest.fixture
def post(derms_client, django_capture_on_commit_callbacks, fake):
    """POST an update (processed inline once accepted); the response."""

    def send(body, url=URL):
        with django_capture_on_commit_callbacks(execute=True):
            return derms_client.post(url, data=body, format="json")

    return send


def state(event_id):
    return EventState.objects.get(event_id=event_id)


def acks(fake):
    return fake.of("event_status_ack")


# --- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"programCode": None}, "programCode", "required for SCHEDULED"),
        ({"eventType": None}, "eventType", "required for SCHEDULED"),
        ({"startDateTime": None}, "startDateTime", "required for SCHEDULED"),
        ({"endDateTime": None}, "endDateTime", "required for SCHEDULED"),
        ({"endDateTime": "2026-12-01T22:00:00Z"}, "endDateTime", "end after it starts"),
        ({"eventType": "HOLIDAY"}, "eventType", "not a valid choice"),
        ({"status": "STARTED"}, "status", "not a valid choice"),
        ({"statusDateTime": "2026-11-30T18:00:00"}, "statusDateTime", "no offset"),
        ({"eventId": "E" * 121}, "eventId", "no more than 120"),
        ({"stageId": "S" * 121}, "stageId", "no more than 120"),
        ({"programCode": "P" * 121}, "programCode", "no more than 120"),
        ({"cancelReason": "r" * 255}, "cancelReason", "no more than 254"),
        ({"messageId": None}, "messageId", "may not be null"),
    ],
)
def test_every_bad_field_is_named_and_the_update_stored(derms_client, fake, change, field, text):
    resp = derms_client.post(URL, data={**scheduled("V-1", "EVT-V"), **change}, format="json")
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert field in body["details"] and text in body["details"][field][0], body
    assert Message.objects.get(tracking_id=body["trackingId"]).status == Message.Status.REJECTED
    assert fake.sent == [] and not StatusUpdate.objects.exists()


def test_only_scheduled_needs_the_program_type_and_times(post, fake):
    resp = post(status_update("V-2", "EVT-V2", "IN_PROGRESS", at=T2, reason="r" * 254))
    assert resp.status_code == 202, resp.content
    assert fake.dacs_calls() == [("lifecycle", {"action": "X1IP", "eventExternalIdentifier": "EVT-V2"})]


# --- the DACS calls and the acknowledgement ---------------------------------------------------
def test_scheduled_creates_the_dacs_program_event_and_is_acknowledged(post, fake):
    resp = post(scheduled("S-1", "EVT-1", start="2026-12-01T23:00:00+01:00", end="2026-12-02T01:00:00+01:00"))
    assert resp.status_code == 202, resp.content
    assert resp.json()["messageId"] == "S-1"
    assert fake.dacs_calls() == [
        (
            "programEvent",
            {
                "eventExternalIdentifier": "EVT-1",
                "externalIdentifier": "EVT-1-S1",
                "programExternalIdentifier": "BYOT-SUMMER",
                "programEventCategory": "X1EC",
                "startDateTime": "2026-12-01T22:00:00Z",
                "endDateTime": "2026-12-02T00:00:00Z",
            },
        )
    ]
    (ack,) = acks(fake)
    when = ack.pop("whenISO")
    assert ack == {"messageId": "S-1", "eventId": "EVT-1", "status": "SCHEDULED", "ackType": "SUCCESS", "message": None}
    assert when.endswith("Z")
    event = state("EVT-1")
    assert (event.status, event.applied_status, event.stage_id) == ("SCHEDULED", "SCHEDULED", "EVT-1-S1")
    assert StatusUpdate.objects.get().state == StatusUpdate.State.APPLIED
    message = Message.objects.get(message_key="S-1")
    assert message.status == Message.Status.COMPLETED and message.ack_type == "SUCCESS"
    (email,) = mail.outbox
    assert email.subject == "[DERMS-DACS hub] Event EVT-1 SCHEDULED: SUCCESS"
    assert "Program event EVT-1 (stage EVT-1-S1) is SCHEDULED as of 2026-11-30T18:00:00+00:00." in email.body
    assert "applied by DACS" in email.body


@pytest.mark.parametrize(
    ("event_type", "category"),
    [("ECONOMIC", "X1EC"), ("EMERGENCY", "X1EM"), ("RELIABILITY", "X1RE"), ("DEVICE_TEST", "X1DT")],
)
def test_the_category_is_the_lookups(post, fake, event_type, category):
    resp = post({**scheduled("S-C", "EVT-C"), "eventType": event_type, "stageId": None})
    assert resp.status_code == 202
    ((_, body),) = fake.dacs_calls()
    assert body["programEventCategory"] == category
    assert body["externalIdentifier"] == "EVT-C"  # stageId defaults to the eventId


def test_an_unmapped_event_type_is_an_error_not_a_call(post, fake):
    Lookup.objects.filter(kind="program_event_category", source="RELIABILITY").delete()
    post({**scheduled("S-U", "EVT-U"), "eventType": "RELIABILITY"})
    assert fake.dacs_calls() == []
    (ack,) = acks(fake)
    assert ack["ackType"] == "ERROR" and "program event category" in ack["message"]
    assert state("EVT-U").status == ""  # nothing applied: the next SCHEDULED is judged as the first


def test_the_other_statuses_go_to_the_lifecycle_operation(post, fake):
    for message_id, status, at in (("L-1", "SCHEDULED", T1), ("L-2", "IN_PROGRESS", T2), ("L-3", "COMPLETED", T3)):
        assert post(status_update(message_id, "EVT-L", status, at=at)).status_code == 202
    assert [body for _, body in fake.dacs_calls()[1:]] == [
        {"action": "X1IP", "eventExternalIdentifier": "EVT-L"},
        {"action": "F1CO", "eventExternalIdentifier": "EVT-L"},
    ]
    assert [a["status"] for a in acks(fake)] == ["SCHEDULED", "IN_PROGRESS", "COMPLETED"]
    assert state("EVT-L").applied_status == "COMPLETED"
    assert list(StatusUpdate.objects.order_by("id").values_list("seq", "status", "state")) == [
        (1, "SCHEDULED", "APPLIED"),
        (2, "IN_PROGRESS", "APPLIED"),
        (3, "COMPLETED", "APPLIED"),
    ]


def test_a_refused_update_is_acknowledged_with_error_and_the_status_goes_back(post, fake):
    fake.dacs = lambda operation, body: REFUSED if operation == "lifecycle" else OK
    post(scheduled("R-1", "EVT-R"))
    post(status_update("R-2", "EVT-R", "IN_PROGRESS", at=T2))
    ack = acks(fake)[-1]
    assert (ack["ackType"], ack["message"]) == ("ERROR", "Program BYOT-X not found")
    event = state("EVT-R")
    assert (event.status, event.applied_status, iso_z(event.status_at)) == ("SCHEDULED", "SCHEDULED", T1)
    assert StatusUpdate.objects.get(message__message_key="R-2").state == StatusUpdate.State.ERROR
    subjects = [m.subject for m in mail.outbox]
    assert "[DERMS-DACS hub] Event EVT-R IN_PROGRESS: ERROR" in subjects
    assert any(s.startswith("[DERMS-DACS hub] Event status update not applied: R-2") for s in subjects)


def test_an_update_dacs_never_answers_is_failed_after_its_retries(post, fake, settings):
    settings.RETRY_ATTEMPTS = 2
    fake.dacs = lambda operation, body: DOWN
    post(scheduled("F-1", "EVT-F"))
    assert len(fake.dacs_calls()) == 2
    (ack,) = acks(fake)
    assert (ack["ackType"], ack["message"]) == ("FAILURE", "HTTP 503")
    assert Message.objects.get(message_key="F-1").status == Message.Status.FAILED
    assert StatusUpdate.objects.get().state == StatusUpdate.State.FAILED
    assert state("EVT-F").status == ""
    (technical,) = [m for m in mail.outbox if m.to == ["ops@utility.example"]]
    assert technical.subject == "[DERMS-DACS hub] Event status update not applied: F-1 (EVT-F SCHEDULED)"
    assert "not delivered: HTTP 503" in technical.body


# --- forward only ------------------------------------------------------------------------------
def refused_row(message_id):
    return StatusUpdate.objects.get(message__message_key=message_id)


def test_an_update_that_would_move_the_status_back_is_409_stale_and_nothing_is_sent(post, fake):
    post(scheduled("B-1", "EVT-B"))
    post(status_update("B-2", "EVT-B", "COMPLETED", at=T3))
    sent = len(fake.sent)
    resp = post(status_update("B-3", "EVT-B", "IN_PROGRESS", at=T3))
    assert resp.status_code == 409 and resp.json()["error"] == "stale_status"
    assert "COMPLETED; IN_PROGRESS would move it back" in resp.json()["message"]
    assert len(fake.sent) == sent
    stored = Message.objects.get(tracking_id=resp.json()["trackingId"])
    assert stored.status == Message.Status.REJECTED and stored.http_status == 409
    row = refused_row("B-3")
    assert (row.state, row.seq, row.status) == (StatusUpdate.State.REFUSED, None, "IN_PROGRESS")
    assert row.error.startswith("stale_status: ")
    assert state("EVT-B").status == "COMPLETED"


def test_an_update_older_than_the_last_applied_is_409_stale(post, fake):
    post(scheduled("O-1", "EVT-O", at=T2))
    resp = post(status_update("O-2", "EVT-O", "IN_PROGRESS", at=T1))
    assert resp.status_code == 409 and resp.json()["error"] == "stale_status"
    assert "older than the last one applied" in resp.json()["message"]
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent"]
    # The same status again, as new as the last, is no move back.
    assert post(scheduled("O-3", "EVT-O", at=T2)).status_code == 202
    assert refused_row("O-2").state == StatusUpdate.State.REFUSED


def test_a_status_update_after_a_cancellation_is_stale(post, fake):
    post(scheduled("K-1", "EVT-K", start=future(), end=future(hours=2)))
    post(status_update("K-2", "EVT-K", "CANCELLED", at=T2, reason="No longer needed"))
    resp = post(status_update("K-3", "EVT-K", "IN_PROGRESS", at=T3))
    assert resp.status_code == 409 and resp.json()["error"] == "stale_status"
    assert "is cancelled" in resp.json()["message"]


# --- cancellation: flow 6 in every respect ----------------------------------------------------------
def test_a_cancellation_after_the_start_is_409_event_started(post, fake):
    post(scheduled("A-1", "EVT-A", start=future(days=-1), end=future(days=1)))
    resp = post(status_update("A-2", "EVT-A", "CANCELLED", at=T2))
    assert resp.status_code == 409 and resp.json()["error"] == "event_started"
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent"]
    assert refused_row("A-2").error.startswith("event_started: ")


def test_a_cancellation_of_an_event_in_progress_or_a_reserved_event_that_started_is_409(post, fake):
    post(status_update("P-1", "EVT-P", "IN_PROGRESS", at=T1))
    resp = post(status_update("P-2", "EVT-P", "CANCELLED", at=T2))
    assert resp.status_code == 409 and resp.json()["error"] == "event_started"
    ProgramEvent.objects.create(
        event_id="EVT-Q",
        event_type="ECONOMIC",
        start=timezone.now() - timedelta(minutes=1),
        end=timezone.now() + timedelta(hours=1),
        status=ProgramEvent.Status.RESERVED,
    )
    resp = post(status_update("P-3", "EVT-Q", "CANCELLED", at=T2))
    assert resp.status_code == 409 and resp.json()["error"] == "event_started"
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED
    assert [op for op, _ in fake.dacs_calls()] == ["lifecycle"]


def test_a_cancellation_cancels_the_event_and_its_devices_and_a_second_one_sends_nothing(post, fake):
    start, end = future(), future(hours=2)
    assert post(reservation_message("CR-1", "EVT-CN", 3, start=start, end=end), RESERVE_URL).status_code == 202
    post(scheduled("CS-1", "EVT-CN", start=start, end=end))
    resp = post(status_update("CS-2", "EVT-CN", "CANCELLED", at=T2, reason="Forecast load below threshold"))
    assert resp.status_code == 202, resp.content
    assert fake.dacs_calls()[-1] == (
        "lifecycle",
        {"action": "F1CN", "eventExternalIdentifier": "EVT-CN", "cancelReason": "Forecast load below threshold"},
    )
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED
    assert set(EventDevice.objects.values_list("state", flat=True)) == {"CANCELLED"}
    assert state("EVT-CN").applied_status == "CANCELLED"

    calls = len(fake.dacs_calls())
    mail.outbox.clear()
    resp = post(status_update("CS-3", "EVT-CN", "CANCELLED", at=T3))
    assert resp.status_code == 202, resp.content
    assert len(fake.dacs_calls()) == calls
    assert acks(fake)[-1]["ackType"] == "SUCCESS"
    assert refused_row("CS-3").state == StatusUpdate.State.UNCHANGED
    assert not Message.objects.get(message_key="CS-3").calls.exclude(operation="event_status_ack").exists()
    (email,) = mail.outbox
    assert "Program event EVT-CN was already cancelled: nothing was sent to DACS." in email.body


def test_a_cancellation_of_an_event_flow_6_cancelled_sends_nothing(post, fake, derms_client):
    ProgramEvent.objects.create(
        event_id="EVT-6",
        event_type="ECONOMIC",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=1),
        status=ProgramEvent.Status.CANCELLED,
    )
    assert post(status_update("C6-1", "EVT-6", "CANCELLED", at=T2)).status_code == 202
    assert fake.dacs_calls() == [] and acks(fake)[0]["ackType"] == "SUCCESS"
    resp = post(scheduled("C6-2", "EVT-6", at=T3))
    assert resp.status_code == 409 and resp.json()["error"] == "stale_status"


def test_an_unknown_event_is_still_cancelled_at_dacs(post, fake):
    assert post(status_update("U-1", "EVT-NEW", "CANCELLED", at=T2)).status_code == 202
    assert fake.dacs_calls() == [
        ("lifecycle", {"action": "F1CN", "eventExternalIdentifier": "EVT-NEW", "cancelReason": None})
    ]


def test_a_refused_cancellation_leaves_the_event_cancel_failed_and_may_be_sent_again(post, fake):
    start, end = future(), future(hours=2)
    assert post(reservation_message("RF-1", "EVT-RF", 2, start=start, end=end), RESERVE_URL).status_code == 202
    fake.dacs = lambda operation, body: REFUSED
    post(status_update("RF-2", "EVT-RF", "CANCELLED", at=T2))
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCEL_FAILED
    assert state("EVT-RF").status == ""
    fake.dacs = lambda operation, body: OK
    assert post(status_update("RF-3", "EVT-RF", "CANCELLED", at=T3)).status_code == 202
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED
    assert len(fake.of("lifecycle")) == 2


def test_a_cancellation_during_a_reservation_follows_the_collection_in_flight(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RESERVATION_COLLECTION_SIZE = 100

    def reserve(body, n):
        if n == 2:  # DERMS cancels while the second collection is with DACS
            resp = derms_client.post(URL, data=status_update("CF-1", "EVT-CF", "CANCELLED", at=T2), format="json")
            assert resp.status_code == 202, resp.content
        return reserved(body)

    fake = FakePartners(reserve=reserve)
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            body = reservation_message("CF-R", "EVT-CF", 1000, start=future(), end=future(hours=2))
            assert derms_client.post(RESERVE_URL, data=body, format="json").status_code == 202
    operations = [op for op, _ in fake.sent if op != "healthCheck"]
    assert operations == ["reserveDevice"] * 2 + ["reservation_ack", "lifecycle", "event_status_ack"]
    assert fake.of("reservation_ack")[0]["cancelledCount"] == 800
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED


def test_a_discarded_cancellation_puts_the_event_back(derms_client, django_capture_on_commit_callbacks, fake):
    with django_capture_on_commit_callbacks(execute=True):
        derms_client.post(
            RESERVE_URL, data=reservation_message("D-R", "EVT-D", 2, start=future(), end=future(hours=2)), format="json"
        )
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED
    lease_take(name=event_lock("EVT-D"), owner="a reservation in progress", seconds=60)
    with django_capture_on_commit_callbacks(execute=True):
        resp = derms_client.post(URL, data=status_update("D-1", "EVT-D", "CANCELLED", at=T2), format="json")
    assert resp.status_code == 202
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLING
    message = Message.objects.get(message_key="D-1")
    with django_capture_on_commit_callbacks(execute=True):
        assert message_discard(message=message, reason="sent by mistake")
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED
    assert state("EVT-D").status == ""
    assert refused_row("D-1").state == StatusUpdate.State.FAILED
    (ack,) = acks(fake)
    assert ack["ackType"] == "FAILURE" and ack["message"] == "Discarded: sent by mistake"
    lease_release(name=event_lock("EVT-D"), owner="a reservation in progress")


# --- one at a time, in the order accepted ------------------------------------------------------------
@pytest.fixture
def unprocessed(monkeypatch, derms_client, django_capture_on_commit_callbacks):
    """POST updates that are accepted but left for `message_process` (no cluster reads the queue)."""
    monkeypatch.setattr(Conf, "SYNC", False)

    def send(body) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            resp = derms_client.post(URL, data=body, format="json")
        assert resp.status_code == 202, resp.content
        return Message.objects.get(tracking_id=resp.json()["trackingId"])

    return send


def process(message: Message, capture) -> Message:
    with capture(execute=True):
        message_process(message.id)
    message.refresh_from_db()
    return message


def test_a_later_update_waits_for_an_earlier_one_that_has_not_run(
    fake, unprocessed, django_capture_on_commit_callbacks
):
    first = unprocessed(scheduled("W-1", "EVT-W"))
    second = unprocessed(status_update("W-2", "EVT-W", "IN_PROGRESS", at=T2))
    second = process(second, django_capture_on_commit_callbacks)
    assert fake.sent == []
    assert second.next_attempt_at is not None
    assert second.status == Message.Status.QUEUED and second.next_attempt_at > timezone.now()
    assert second.activities.filter(kind="waiting", text__contains="W-1").exists()
    process(first, django_capture_on_commit_callbacks)
    # The first one, once finished, queued the second at once.
    second.refresh_from_db()
    assert second.next_attempt_at is not None
    assert second.status == Message.Status.QUEUED and second.next_attempt_at <= timezone.now()
    process(second, django_capture_on_commit_callbacks)
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent", "lifecycle"]
    assert [a["messageId"] for a in acks(fake)] == ["W-1", "W-2"]


def test_a_later_update_does_not_overtake_an_earlier_one_waiting_for_a_retry(
    fake, unprocessed, settings, django_capture_on_commit_callbacks
):
    # A retry is not waited for inside the task: the message is handed back until it is due.
    settings.RETRY_FIRST_S, settings.RETRY_MAX_S, settings.RETRY_HOLD_S = 5, 5, 1
    answers = iter([DOWN, OK, OK])
    fake.dacs = lambda operation, body: next(answers)
    first = unprocessed(scheduled("X-1", "EVT-X"))
    second = unprocessed(status_update("X-2", "EVT-X", "IN_PROGRESS", at=T2))
    first = process(first, django_capture_on_commit_callbacks)
    assert first.status == Message.Status.QUEUED and first.items.get().status == Item.Status.RETRY
    process(second, django_capture_on_commit_callbacks)
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent"]
    Message.objects.filter(id=first.id).update(next_attempt_at=timezone.now())
    Item.objects.filter(message=first).update(next_attempt_at=timezone.now())
    process(first, django_capture_on_commit_callbacks)
    process(second, django_capture_on_commit_callbacks)
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent", "programEvent", "lifecycle"]
    assert [(a["messageId"], a["ackType"]) for a in acks(fake)] == [("X-1", "SUCCESS"), ("X-2", "SUCCESS")]


def test_a_later_update_does_not_wait_for_the_acknowledgement_of_an_earlier_one(
    fake, unprocessed, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_FIRST_S, settings.RETRY_MAX_S, settings.RETRY_HOLD_S = 5, 5, 1
    fake.derms = lambda: DOWN
    first = unprocessed(scheduled("Y-1", "EVT-Y"))
    second = unprocessed(status_update("Y-2", "EVT-Y", "IN_PROGRESS", at=T2))
    first = process(first, django_capture_on_commit_callbacks)
    assert first.status == Message.Status.QUEUED and first.reply_status == Message.Reply.RETRY
    process(second, django_capture_on_commit_callbacks)
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent", "lifecycle"]
    assert state("EVT-Y").applied_status == "IN_PROGRESS"


def test_updates_are_judged_against_those_accepted_not_yet_sent(fake, unprocessed, derms_client):
    unprocessed(scheduled("J-1", "EVT-J"))
    unprocessed(status_update("J-2", "EVT-J", "COMPLETED", at=T3))
    resp = derms_client.post(URL, data=status_update("J-3", "EVT-J", "IN_PROGRESS", at=T2), format="json")
    assert resp.status_code == 409 and resp.json()["error"] == "stale_status"
    assert fake.sent == []


@pytest.mark.django_db(transaction=True)
def test_two_updates_of_one_event_at_once_are_judged_one_after_the_other(derms_user, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    monkeypatch.setattr(Conf, "SYNC", False)
    bodies = [
        json.dumps(status_update("RC-1", "EVT-RC", "COMPLETED", at=T3)),
        json.dumps(status_update("RC-2", "EVT-RC", "IN_PROGRESS", at=T2)),
    ]
    barrier = threading.Barrier(2)
    answers = {}

    def send():
        body = bodies.pop()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=basic("derms"))
        barrier.wait()
        answers[json.loads(body)["messageId"]] = client.post(URL, data=body, content_type="application/json")

    in_threads(send, 2)
    # COMPLETED is always accepted; IN_PROGRESS only if it came first, and then it is first in line.
    assert answers["RC-1"].status_code == 202
    accepted = list(StatusUpdate.objects.exclude(seq=None).order_by("seq").values_list("status", flat=True))
    if answers["RC-2"].status_code == 202:
        assert accepted == ["IN_PROGRESS", "COMPLETED"]
    else:
        assert answers["RC-2"].json()["error"] == "stale_status" and accepted == ["COMPLETED"]
    assert state("EVT-RC").status == "COMPLETED"


def test_a_resubmitted_update_is_not_sent_once_a_later_one_is_applied(post, fake, django_capture_on_commit_callbacks):
    fake.dacs = lambda operation, body: REFUSED if operation == "programEvent" else OK
    post(scheduled("RS-1", "EVT-RS"))
    assert state("EVT-RS").status == ""
    fake.dacs = lambda operation, body: OK
    first = Message.objects.get(message_key="RS-1")
    with django_capture_on_commit_callbacks(execute=True):
        assert message_resubmit(message=first)
    assert state("EVT-RS").status == "SCHEDULED"  # applied on resubmission: the status stands again
    post(status_update("RS-2", "EVT-RS", "IN_PROGRESS", at=T2))
    with django_capture_on_commit_callbacks(execute=True):
        assert message_resubmit(message=first)
    assert [op for op, _ in fake.dacs_calls()] == ["programEvent", "programEvent", "lifecycle"]
    ack = acks(fake)[-1]
    assert ack["messageId"] == "RS-1" and ack["ackType"] == "ERROR"
    assert ack["message"] == "Not sent: the later update RS-2 (IN_PROGRESS) is applied"
    assert state("EVT-RS").status == "IN_PROGRESS"


# --- the stand-ins ------------------------------------------------------------------------------------
def test_the_dacs_stand_in_creates_program_events_and_refuses_chosen_ones():
    from django.test import Client

    from hub.simulators.models import SimKnobs

    SimKnobs.objects.create(partner="DACS", knobs={"latency_ms": 0, "refuse_events": ["EVT-NO"]})
    client = Client()
    url = "/sim/dacs/rest/apis/cross/service/programEvent/"
    body = {
        "eventExternalIdentifier": "EVT-1",
        "externalIdentifier": "EVT-1-S1",
        "programExternalIdentifier": "BYOT-SUMMER",
        "programEventCategory": "X1EC",
        "startDateTime": "2026-12-01T22:00:00Z",
        "endDateTime": "2026-12-02T00:00:00Z",
    }
    resp = client.post(url, data=body, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == "SUCCESS"
    resp = client.post(url, data={**body, "programExternalIdentifier": "BYOT-X"}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["messageText"] == "Program BYOT-X not found"
    resp = client.post(url, data={**body, "eventExternalIdentifier": "EVT-NO"}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["status"] == "VAL-ERROR"
    lifecycle = {"action": "X1IP", "eventExternalIdentifier": "EVT-1"}
    resp = client.post(
        "/sim/dacs/rest/apis/cross/service/programEvent/lifecycle", data=lifecycle, content_type="application/json"
    )
    assert resp.status_code == 200
    ack = {"messageId": "S-1", "eventId": "EVT-1", "status": "SCHEDULED", "ackType": "SUCCESS"}
    resp = client.post("/sim/derms/event_status_ack", data=ack, content_type="application/json")
    assert resp.status_code == 200 and resp.json() == {"status": "OK"}
