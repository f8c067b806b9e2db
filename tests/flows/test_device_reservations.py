"""Flow 5 processing with the partner calls patched at the chokepoint."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core import mail

from flows.device_reservations.models import EventDevice, ProgramEvent
from flows.device_reservations.notify import device_list_emails
from flows.device_reservations.samples import nic, reservation_message
from hub.models import Item, Message, Notification, OutboundCall
from tests.factories import MessageFactory
from tests.flows import device_lists
from tests.flows.device_lists import DOWN, UP, answer, per_device

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/device-reservations"


def reserved(body, refused=()):
    return per_device(body["deviceList"], "RESERVED", refused)


class FakeDacs(device_lists.FakeDacs):
    """Answers healthCheck with `health()` and reserveDevice with `reserve(body, n)`; DERMS accepts."""

    def __init__(self, reserve=lambda body, n: reserved(body), health=lambda: UP):
        super().__init__(send=reserve, health=health)


def run(client, fake, body, capture):
    return device_lists.run(client, fake, body, capture, url=URL)


def test_collections_of_the_set_size_and_one_acknowledgement(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RESERVATION_COLLECTION_SIZE = 4
    fake = FakeDacs(reserve=lambda body, n: reserved(body, refused={nic(7)}))
    message = run(derms_client, fake, reservation_message("R-1", "EVT-1", 10), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS and message.ack_type == "ERROR"
    calls = fake.of("reserveDevice")
    assert [[d["nicId"] for d in c["deviceList"]] for c in calls] == [
        [nic(i) for i in range(1, 5)],
        [nic(i) for i in range(5, 9)],
        [nic(9), nic(10)],
    ]
    first = calls[0]
    assert first["eventExternalIdentifier"] == "EVT-1" and first["eventType"] == "X1EC"
    assert first["deviceList"][0] == {
        "headEndSystem": "ECOBEE",
        "nicId": nic(1),
        "reservationStartDateTime": "2026-12-01T22:00:00Z",
        "reservationEndDateTime": "2026-12-02T00:00:00Z",
    }
    (ack,) = fake.of("reservation_ack")
    assert ack["messageId"] == "R-1" and ack["eventId"] == "EVT-1" and ack["ackType"] == "ERROR"
    assert (ack["deviceCount"], ack["reservedCount"], ack["failedCount"], ack["cancelledCount"]) == (10, 9, 1, 0)
    assert ack["failures"] == [
        {"recordId": 7, "nicId": nic(7), "headEndSystem": "ECOBEE", "message": "Device not enrolled"}
    ]
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.PARTIALLY_RESERVED
    states = dict(EventDevice.objects.values_list("nic_id", "state"))
    assert states[nic(7)] == "ERROR" and list(states.values()).count("RESERVED") == 9
    subjects = {m.subject: m.to for m in mail.outbox}
    assert subjects == {
        "[DERMS-DACS hub] Reservation R-1 for event EVT-1: ERROR": ["programs@utility.example"],
        "[DERMS-DACS hub] Reservation errors: R-1 for event EVT-1": ["ops@utility.example"],
    }
    assert any("ECB-000007" in m.body and "Device not enrolled" in m.body for m in mail.outbox)
    assert all(isinstance(m, mail.EmailMultiAlternatives) and m.alternatives for m in mail.outbox)


def test_a_device_dacs_does_not_list_counts_as_reserved(derms_client, django_capture_on_commit_callbacks):
    fake = FakeDacs(reserve=lambda body, n: answer(OutboundCall.Outcome.SUCCESS, body={"results": []}))
    message = run(derms_client, fake, reservation_message("R-2", "EVT-2", 3), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert fake.of("reservation_ack")[0]["reservedCount"] == 3
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED
    assert [m.subject for m in mail.outbox] == ["[DERMS-DACS hub] Reservation R-2 for event EVT-2: SUCCESS"]


def test_a_business_error_for_the_whole_call_marks_its_collection_error(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RESERVATION_COLLECTION_SIZE = 2
    refused = answer(OutboundCall.Outcome.BUSINESS, status=400, error="Event not found")
    fake = FakeDacs(reserve=lambda body, n: refused if n == 2 else reserved(body))
    message = run(derms_client, fake, reservation_message("R-3", "EVT-3", 6), django_capture_on_commit_callbacks)
    statuses = list(message.items.order_by("seq").values_list("status", flat=True))
    assert statuses == ["SUCCESS", "SUCCESS", "ERROR", "ERROR", "SUCCESS", "SUCCESS"]
    assert len(fake.of("reserveDevice")) == 3
    assert fake.of("reservation_ack")[0]["failures"][0]["message"] == "Event not found"


def test_a_collection_failing_with_503s_is_retried_alone_and_nothing_is_sent_twice(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RESERVATION_COLLECTION_SIZE = 3
    failing = {"left": 2}

    def reserve(body, n):
        if body["deviceList"][0]["nicId"] == nic(4) and failing["left"]:
            failing["left"] -= 1
            return DOWN
        return reserved(body)

    fake = FakeDacs(reserve=reserve)
    message = run(derms_client, fake, reservation_message("R-4", "EVT-4", 9), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    sent = [tuple(d["nicId"] for d in c["deviceList"]) for c in fake.of("reserveDevice")]
    middle = (nic(4), nic(5), nic(6))
    assert sent.count(middle) == 3
    assert sorted(set(sent)) == [(nic(1), nic(2), nic(3)), middle, (nic(7), nic(8), nic(9))]
    assert sent.count((nic(1), nic(2), nic(3))) == 1 and sent.count((nic(7), nic(8), nic(9))) == 1
    assert set(message.items.values_list("attempts", flat=True)) == {1, 3}


def test_dacs_down_at_the_start_then_back_inside_the_window(derms_client, django_capture_on_commit_callbacks):
    health = iter([DOWN, DOWN, UP])
    fake = FakeDacs(health=lambda: next(health))
    message = run(derms_client, fake, reservation_message("R-5", "EVT-5", 3), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    operations = [op for op, body in fake.sent]
    assert operations[:3] == ["healthCheck", "healthCheck", "healthCheck"]
    assert operations[3:] == ["reserveDevice", "reservation_ack"]


def test_dacs_never_back_fails_the_reservation_past_the_window(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.DACS_AVAILABILITY_WINDOW_S = 0.2
    fake = FakeDacs(health=lambda: DOWN)
    message = run(derms_client, fake, reservation_message("R-6", "EVT-6", 3), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.ack_type == "FAILURE"
    assert not fake.of("reserveDevice")
    (ack,) = fake.of("reservation_ack")
    assert ack["ackType"] == "FAILURE" and ack["failedCount"] == 3
    assert ack["failures"][0]["message"].startswith("DACS unavailable for 0 s")
    assert set(message.items.values_list("status", flat=True)) == {Item.Status.FAILURE}
    assert set(EventDevice.objects.values_list("state", flat=True)) == {"FAILED"}
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.FAILED
    assert {m.to[0] for m in mail.outbox} == {"programs@utility.example", "ops@utility.example"}


def test_after_a_technical_failure_dacs_health_is_checked_before_sending_again(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RESERVATION_COLLECTION_SIZE = 2
    health = iter([UP, DOWN, UP])
    fake = FakeDacs(health=lambda: next(health), reserve=lambda body, n: DOWN if n == 1 else reserved(body))
    message = run(derms_client, fake, reservation_message("R-7", "EVT-7", 2), django_capture_on_commit_callbacks)
    assert [op for op, body in fake.sent] == [
        "healthCheck",
        "reserveDevice",
        "healthCheck",
        "healthCheck",
        "reserveDevice",
        "reservation_ack",
    ]
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED


def test_retrying_the_failed_devices_settles_the_event_again(
    derms_client, settings, django_capture_on_commit_callbacks
):
    from hub.messages import message_resubmit

    refused = {nic(2)}
    fake = FakeDacs(reserve=lambda body, n: reserved(body, refused=refused))
    message = run(derms_client, fake, reservation_message("R-8", "EVT-8", 3), django_capture_on_commit_callbacks)
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.PARTIALLY_RESERVED
    refused.clear()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            assert message_resubmit(message=message, failed_only=True) == 1
    assert [len(b["deviceList"]) for b in fake.of("reserveDevice")] == [3, 1]
    assert fake.of("reservation_ack")[-1]["reservedCount"] == 3
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVED
    assert set(EventDevice.objects.values_list("state", flat=True)) == {"RESERVED"}


def test_a_reservation_waits_while_another_message_of_its_event_is_processed(
    derms_client, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from flows.device_reservations.flow import event_lock
    from hub.leases import lease_release, lease_take
    from hub.processing import sweep_once

    lease_take(name=event_lock("EVT-W"), owner="another message of the event", seconds=60)
    fake = FakeDacs()
    message = run(derms_client, fake, reservation_message("R-W", "EVT-W", 2), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED and fake.sent == []
    lease_release(name=event_lock("EVT-W"), owner="another message of the event")
    Message.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            sweep_once()
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED and len(fake.of("reservation_ack")) == 1


def test_the_technical_email_lists_refused_and_unsent_devices_and_not_those_of_a_cancelled_event():
    """Flows 5 and 7 send one email rule: ERROR and FAILURE are failures; CANCELLED devices are counted apart."""
    message = MessageFactory.create(flow="device_reservations", status=Message.Status.COMPLETED_WITH_ERRORS)
    ended = [("SUCCESS", ""), ("ERROR", "Device not enrolled"), ("FAILURE", "HTTP 503"), ("CANCELLED", "cancelled")]
    for seq, (status, error) in enumerate(ended):
        Item.objects.create(
            message=message, seq=seq, key=str(seq + 1), nic_id=nic(seq + 1), status=status, last_error=error
        )
    event = ProgramEvent(
        event_id="EVT-M",
        event_type="ECONOMIC",
        start=datetime(2026, 12, 1, tzinfo=UTC),
        end=datetime(2026, 12, 2, tzinfo=UTC),
    )
    counts = {"total": 4, "reserved": 1, "error": 1, "failure": 1, "cancelled": 1}
    device_list_emails(
        message=message,
        kind="reservation",
        title="Reservation",
        event_id="EVT-M",
        counts=counts,
        context={"event": event},
    )
    email = Notification.objects.get(kind="reservation_error")
    assert email.recipients == ["ops@utility.example"]
    assert "Not reserved: 2 of 4 device(s)" in email.body_text
    assert nic(2) in email.body_text and nic(3) in email.body_text and "HTTP 503" in email.body_text
    assert nic(4) not in email.body_text and nic(1) not in email.body_text
    assert nic(4) not in email.body_html and "2 of 4 device(s) not reserved." in email.body_html
