"""Flow 6, and a cancellation arriving while the event's reservation is being sent."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from flows.device_reservations.flow import event_lock
from flows.device_reservations.models import EventDevice, ProgramEvent
from flows.device_reservations.samples import reservation_message
from hub.leases import lease_release, lease_take
from hub.models import Item, Message, OutboundCall
from hub.processing import sweep_once
from hub.registry import flow_for
from tests.flows.test_device_reservations import FakeDacs, answer, reserved

pytestmark = pytest.mark.django_db
RESERVE_URL = "/api/v1/derms/device-reservations"
URL = "/api/v1/derms/event-cancellations"
OK = answer(OutboundCall.Outcome.SUCCESS, body={"status": "SUCCESS"})
COUNT = 20_000


def cancellation(message_id, event_id, text="Forecast load below threshold"):
    return {
        "messageId": message_id,
        "drmsInstanceId": "DERMS-PROD",
        "eventId": event_id,
        "cancellationMessageText": text,
    }


class FakeDacsCancelling(FakeDacs):
    def __call__(self, op, **kwargs):
        operation = op.name
        if operation in ("lifecycle", "preEventCancellation"):
            self.sent.append((operation, kwargs["json_body"]))
            return self.cancel_answer
        return super().__call__(op, **kwargs)

    cancel_answer = OK


def test_a_known_event_is_cancelled_in_lifecycle_mode(derms_client, django_capture_on_commit_callbacks):
    fake = FakeDacsCancelling()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            derms_client.post(RESERVE_URL, data=reservation_message("R-1", "EVT-1", 3), format="json")
        with django_capture_on_commit_callbacks(execute=True):
            resp = derms_client.post(URL, data=cancellation("C-1", "EVT-1"), format="json")
    assert resp.status_code == 202, resp.content
    assert fake.of("lifecycle") == [
        {"action": "F1CN", "eventExternalIdentifier": "EVT-1", "cancelReason": "Forecast load below threshold"}
    ]
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED
    assert set(EventDevice.objects.values_list("state", flat=True)) == {"CANCELLED"}
    assert Message.objects.get(message_key="C-1").status == Message.Status.COMPLETED
    assert any(m.subject == "[DERMS-DACS hub] Cancellation of event EVT-1: SUCCESS" for m in mail.outbox)


def test_legacy_mode_cuts_the_text_and_an_unknown_event_is_forwarded(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.DACS_CANCELLATION_MODE = "legacy"
    fake = FakeDacsCancelling()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            resp = derms_client.post(URL, data=cancellation("C-2", "EVT-NEW", "x" * 150), format="json")
    assert resp.status_code == 202
    assert fake.of("preEventCancellation") == [{"eventExternalIdentifier": "EVT-NEW", "cancelMessage": "x" * 100}]
    assert not ProgramEvent.objects.exists()


def test_an_event_that_has_started_gets_409_and_nothing_is_sent(derms_client, django_capture_on_commit_callbacks):
    ProgramEvent.objects.create(
        event_id="EVT-OLD",
        event_type="ECONOMIC",
        start=timezone.now() - timedelta(minutes=1),
        end=timezone.now() + timedelta(hours=1),
        status=ProgramEvent.Status.RESERVED,
    )
    fake = FakeDacsCancelling()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            resp = derms_client.post(URL, data=cancellation("C-3", "EVT-OLD"), format="json")
    assert resp.status_code == 409 and resp.json()["error"] == "event_started"
    assert fake.sent == []
    assert Message.objects.get(tracking_id=resp.json()["trackingId"]).status == Message.Status.REJECTED
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED


def test_a_refused_cancellation_leaves_the_event_cancel_failed(derms_client, django_capture_on_commit_callbacks):
    fake = FakeDacsCancelling()
    fake.cancel_answer = answer(OutboundCall.Outcome.BUSINESS, status=400, error="Event EVT-9 not found")
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            derms_client.post(RESERVE_URL, data=reservation_message("R-9", "EVT-9", 1), format="json")
            derms_client.post(URL, data=cancellation("C-9", "EVT-9"), format="json")
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCEL_FAILED
    assert Message.objects.get(message_key="C-9").status == Message.Status.COMPLETED_WITH_ERRORS


def test_a_cancellation_during_a_reservation_stops_it_and_follows_the_collection_in_flight(
    derms_client, django_capture_on_commit_callbacks
):
    def reserve(body, n):
        if n == 3:  # DERMS cancels while the third collection is with DACS
            resp = derms_client.post(URL, data=cancellation("C-20K", "EVT-20K"), format="json")
            assert resp.status_code == 202, resp.content
        return reserved(body)

    fake = FakeDacsCancelling(reserve=reserve)
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            resp = derms_client.post(RESERVE_URL, data=reservation_message("R-20K", "EVT-20K", COUNT), format="json")
        assert resp.status_code == 202
        cancel = Message.objects.get(message_key="C-20K")
    operations = [op for op, body in fake.sent if op != "healthCheck"]
    assert operations == ["reserveDevice"] * 3 + ["reservation_ack", "lifecycle"]
    (ack,) = fake.of("reservation_ack")
    assert (ack["deviceCount"], ack["reservedCount"], ack["cancelledCount"], ack["failedCount"]) == (
        COUNT,
        1500,
        COUNT - 1500,
        0,
    )
    assert ack["ackType"] == "SUCCESS" and ack["failures"] == []
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED
    assert not EventDevice.objects.exclude(state="CANCELLED").exists()
    assert Message.objects.get(id=cancel.id).status == Message.Status.COMPLETED


def test_a_cancellation_waits_while_another_message_of_its_event_is_processed(
    derms_client, django_capture_on_commit_callbacks
):
    fake = FakeDacsCancelling()
    lease_take(name=event_lock("EVT-L"), owner="a reservation in progress", seconds=60)
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            derms_client.post(URL, data=cancellation("C-L", "EVT-L"), format="json")
        message = Message.objects.get(message_key="C-L")
        assert message.status == Message.Status.QUEUED and message.next_attempt_at is not None
        assert fake.sent == []
        lease_release(name=event_lock("EVT-L"), owner="a reservation in progress")
        Message.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            sweep_once()
    assert [op for op, body in fake.sent] == ["lifecycle"]
    assert Message.objects.get(id=message.id).status == Message.Status.COMPLETED


REFUSED = answer(OutboundCall.Outcome.BUSINESS, status=400, error="Event EVT-2 not found")


def test_a_second_cancellation_of_a_cancelled_event_sends_nothing_and_succeeds(
    derms_client, django_capture_on_commit_callbacks
):
    fake = FakeDacsCancelling()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            derms_client.post(RESERVE_URL, data=reservation_message("R-2", "EVT-2", 3), format="json")
            derms_client.post(URL, data=cancellation("C-2A", "EVT-2"), format="json")
        assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED
        fake.cancel_answer = REFUSED  # DACS would refuse a second one: it must not be asked
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            resp = derms_client.post(URL, data=cancellation("C-2B", "EVT-2"), format="json")
    assert resp.status_code == 202, resp.content
    assert len(fake.of("lifecycle")) == 1
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED
    assert set(EventDevice.objects.values_list("state", flat=True)) == {"CANCELLED"}
    second = Message.objects.get(message_key="C-2B")
    assert second.status == Message.Status.COMPLETED and second.ack_type == "SUCCESS"
    assert not second.calls.exists()
    (email,) = mail.outbox
    assert "was already cancelled: nothing was sent to DACS" in email.body


@pytest.mark.parametrize(
    "dacs_answer",
    [REFUSED, answer(OutboundCall.Outcome.TECHNICAL, status=503, error="HTTP 503")],
    ids=["refused", "unreachable"],
)
def test_a_failing_cancellation_never_moves_an_event_back_from_cancelled(
    dacs_answer, derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 1

    class CancelledMeanwhile(FakeDacsCancelling):
        """While this cancellation is with DACS, an earlier one's success is recorded."""

        def __call__(self, op, **kwargs):
            operation = op.name
            if operation == "lifecycle":
                ProgramEvent.objects.update(status=ProgramEvent.Status.CANCELLED)
            return super().__call__(op, **kwargs)

    fake = CancelledMeanwhile()
    fake.cancel_answer = dacs_answer
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            derms_client.post(RESERVE_URL, data=reservation_message("R-3", "EVT-3", 2), format="json")
            resp = derms_client.post(URL, data=cancellation("C-3", "EVT-3"), format="json")
    assert resp.status_code == 202
    assert len(fake.of("lifecycle")) == 1
    assert Message.objects.get(message_key="C-3").status in (
        Message.Status.COMPLETED_WITH_ERRORS,
        Message.Status.FAILED,
    )
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLED


def held_cancellation(client, capture, message_id: str, event_id: str) -> Message:
    """A cancellation accepted and left waiting (its event's lock is taken), as one is when it is discarded."""
    lease_take(name=event_lock(event_id), owner="a reservation in progress", seconds=60)
    with capture(execute=True):
        resp = client.post(URL, data=cancellation(message_id, event_id), format="json")
    assert resp.status_code == 202, resp.content
    message = Message.objects.get(message_key=message_id)
    message.items.update(status=Item.Status.FAILURE, last_error="Discarded")
    return message


def event(event_id: str, status: str) -> ProgramEvent:
    return ProgramEvent.objects.create(
        event_id=event_id,
        event_type="ECONOMIC",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, hours=2),
        status=status,
    )


def test_a_cancellation_ended_abnormally_puts_its_event_back_as_it_was(
    derms_client, django_capture_on_commit_callbacks
):
    event("EVT-S", ProgramEvent.Status.CANCEL_FAILED)
    message = held_cancellation(derms_client, django_capture_on_commit_callbacks, "C-S", "EVT-S")
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCELLING
    flow = flow_for("event_cancellations")
    flow.settle(message, reason="Discarded")
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.CANCEL_FAILED
    assert flow.failure_reply(message, reason="Discarded") is None


def test_a_reserved_event_goes_back_to_what_its_devices_say(derms_client, django_capture_on_commit_callbacks):
    with mock.patch("hub.partners.call", autospec=True, side_effect=FakeDacsCancelling()):
        with django_capture_on_commit_callbacks(execute=True):
            derms_client.post(RESERVE_URL, data=reservation_message("R-S", "EVT-R", 2), format="json")
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED
    message = held_cancellation(derms_client, django_capture_on_commit_callbacks, "C-R", "EVT-R")
    flow_for("event_cancellations").settle(message, reason="Discarded")
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED


def test_settling_a_cancellation_leaves_a_cancelled_event_and_one_another_cancellation_holds(
    derms_client, django_capture_on_commit_callbacks
):
    event("EVT-C", ProgramEvent.Status.CANCELLED)
    done = held_cancellation(derms_client, django_capture_on_commit_callbacks, "C-C", "EVT-C")
    flow_for("event_cancellations").settle(done, reason="Discarded")
    assert ProgramEvent.objects.get(event_id="EVT-C").status == ProgramEvent.Status.CANCELLED

    event("EVT-O", ProgramEvent.Status.RESERVED)
    first = held_cancellation(derms_client, django_capture_on_commit_callbacks, "C-O1", "EVT-O")
    held_cancellation(derms_client, django_capture_on_commit_callbacks, "C-O2", "EVT-O")
    flow_for("event_cancellations").settle(first, reason="Discarded")
    assert ProgramEvent.objects.get(event_id="EVT-O").status == ProgramEvent.Status.CANCELLING
