"""Each flow's projection onto enrollments, devices and timelines, driven through the real flows."""

from __future__ import annotations

from unittest import mock

import pytest

from flows.device_reservations.models import ProgramEvent
from flows.device_reservations.samples import nic, reservation_message
from flows.enrollment_requests.samples import enrollment_message
from flows.enrollment_sync.samples import sync_ack, sync_request
from hub.messages import message_discard
from hub.models import Message, OutboundCall
from hub.processing import message_process
from records.models import BusinessKey, Device, DeviceEvent, Enrollment, TimelineEntry
from records.projection import records_update
from tests.flows.test_device_reservations import FakeDacs, reserved
from tests.flows.test_enrollment_requests import answer, fake_partners
from tests.flows.test_event_cancellations import FakeDacsCancelling, cancellation
from tests.posting import accept

pytestmark = pytest.mark.django_db
REQUESTS = "/api/v1/derms/enrollment-requests"
SYNCS = "/api/v1/dacs/enrollment-syncs"
ACKS = "/api/v1/derms/enrollment-sync-acks"
CHECKS = "/api/v1/dacs/device-status-checks"
RESPONSES = "/api/v1/derms/device-status-responses"
RESERVE = "/api/v1/derms/device-reservations"
CANCEL = "/api/v1/derms/event-cancellations"
OK = answer(OutboundCall.Outcome.SUCCESS, body={"enrollmentId": "E-1", "status": "PENDING"})


def refused_second(body):
    if body["transactionId"].endswith(":2"):
        return answer(OutboundCall.Outcome.BUSINESS, status=400, error="Program BYOT-X not found", body={})
    return OK


@pytest.fixture
def enrolled(derms_client):
    """Flow 1: three requests, the second refused by DACS."""
    _sent, call = fake_partners(refused_second)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        message = accept(derms_client, REQUESTS, enrollment_message("M-1", 3))
        message_process(message.id)
    return message


def keys_of(target: str, target_id: int) -> set[tuple[str, str]]:
    return set(BusinessKey.objects.filter(target=target, target_id=target_id).values_list("kind", "value"))


def test_it_records_each_enrollment_request_with_dacs_answer(enrolled):
    assert Enrollment.objects.count() == 3
    first = Enrollment.objects.get(cis_person_id="P1")
    assert (first.cis_account_id, first.cis_premise_id, first.cis_service_point_id) == ("A1", "PR1", "SP1")
    assert (first.program_code, first.service_agreement_id) == ("BYOT-SUMMER", "SA1")
    assert str(first.start_date) == "2026-12-01"
    assert first.status == Enrollment.Status.DACS_ENROLLED and first.dacs_enrollment_id == "E-1"
    assert first.request_message_id == enrolled.id and first.requested_at == enrolled.received_at
    second = Enrollment.objects.get(cis_person_id="P2")
    assert second.status == Enrollment.Status.DACS_REFUSED and "BYOT-X" in second.dacs_error
    assert second.dacs_enrollment_id == ""
    device = Device.objects.get(nic_id="ECB-000001")
    assert device.head_end_system == "ECOBEE" and device.device_type == "THERMOSTAT"
    assert device.specification == "ECOBEE!SMART-PREMIUM"
    assert list(device.enrollments.all()) == [first]
    assert ("program", 0, "programCode", "BYOT-SUMMER") in set(
        BusinessKey.objects.values_list("target", "target_id", "kind", "value")
    )
    assert {"cisPersonId", "cisAccountId", "cisPremiseId", "cisServicePointId", "requestId"} <= {
        kind for kind, _ in keys_of("enrollment", first.id)
    }
    assert ("enrollmentId", "E-1") in keys_of("enrollment", first.id)
    assert keys_of("device", device.id) == {("nicId", "ECB-000001")}
    assert keys_of("message", enrolled.id) == {("messageId", "M-1")}
    (entry,) = TimelineEntry.objects.filter(enrollment=second)
    assert entry.message_id == enrolled.id and entry.flow == "enrollment_requests"
    assert entry.at == enrolled.received_at
    assert entry.text.startswith("Request 2 of M-1: refused by DACS")
    assert TimelineEntry.objects.filter(device__nic_id="ECB-000002").count() == 1


def test_running_a_projection_again_rewrites_instead_of_adding(enrolled):
    before = (Enrollment.objects.count(), Device.objects.count(), TimelineEntry.objects.count())
    keys = BusinessKey.objects.count()
    assert records_update(enrolled)
    assert (Enrollment.objects.count(), Device.objects.count(), TimelineEntry.objects.count()) == before
    assert BusinessKey.objects.count() == keys


def test_a_projection_error_is_logged_and_the_message_still_completes(derms_client, caplog):
    _sent, call = fake_partners(lambda body: OK)
    with (
        mock.patch("hub.partners.call", autospec=True, side_effect=call),
        mock.patch("flows.enrollment_requests.records.enrollments_apply", side_effect=RuntimeError("boom")),
    ):
        message = accept(derms_client, REQUESTS, enrollment_message("M-2", 1))
        message_process(message.id)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert not Enrollment.objects.exists()
    assert "records of message" in caplog.text and "boom" in caplog.text


def test_a_sync_and_derms_later_acknowledgement_move_the_enrollment_on(enrolled, dacs_client, derms_client):
    later = answer(OutboundCall.Outcome.SUCCESS, status=202, body={"status": "ACCEPTED"})
    calls = []

    def call(op, **kwargs):

        partner, operation = op.partner, op.name
        calls.append(operation)
        return later if partner == "DERMS" else answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})

    body = sync_request("SYNC-1", person="P1", nic_id="ECB-000001")
    body["subscriptionInfo"]["programCode"] = "BYOT-SUMMER"
    body["locationInfo"]["cisServicePointId"] = "SP1"
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        sync = accept(dacs_client, SYNCS, body)
        message_process(sync.id)
        enrollment = Enrollment.objects.get(cis_person_id="P1")
        assert enrollment.status == Enrollment.Status.SYNCING and enrollment.subscription_id == "S-SYNC-1"
        assert enrollment.sync_message_id == sync.id and enrollment.dacs_enrollment_id == "E-1"
        ack = accept(derms_client, ACKS, sync_ack("SYNC-1", "ERROR", "No such person"))
        message_process(ack.id)
        message_process(sync.id)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.DERMS_REFUSED
    assert enrollment.derms_message == "No such person" and enrollment.dacs_ack_status == "ERROR"
    kinds = list(TimelineEntry.objects.filter(enrollment=enrollment).values_list("kind", "message_id"))
    assert kinds == [("enrollment_request", enrolled.id), ("enrollment_sync", sync.id), ("enrollment_sync_ack", ack.id)]
    assert ("subscriptionId", "S-SYNC-1") in keys_of("enrollment", enrollment.id)
    assert Enrollment.objects.count() == 3  # the sync found the requested enrollment


def test_a_status_check_and_its_answer_are_the_device_latest_check(dacs_client, derms_client):
    from flows.device_status.samples import status_check, status_response

    ok = answer(OutboundCall.Outcome.SUCCESS, body={"status": "OK"})
    with mock.patch("hub.partners.call", autospec=True, side_effect=lambda *a, **k: ok):
        check = accept(dacs_client, CHECKS, status_check("CD-1", "ECB-7"))
        message_process(check.id)
        device = Device.objects.get(nic_id="ECB-7")
        assert device.check_state == "FORWARDED" and device.check_result == "" and device.check_message_id == check.id
        response = accept(derms_client, RESPONSES, status_response("CD-1", "FAILURE", nic_id="ECB-7"))
        message_process(response.id)
    device.refresh_from_db()
    assert (device.check_state, device.check_result, device.checked_at) == ("ANSWERED", "FAILURE", check.received_at)
    assert device.device_type == "THERMOSTAT"
    texts = list(TimelineEntry.objects.filter(device=device).values_list("kind", flat=True))
    assert texts == ["status_check", "status_response"]
    assert ("communicationId", "CD-1") in keys_of("device", device.id)


def test_a_reservation_and_its_cancellation_reach_every_device(derms_client, settings):
    settings.RESERVATION_COLLECTION_SIZE = 4
    fake = FakeDacsCancelling(reserve=lambda body, n: reserved(body, refused={nic(3)}))
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        reservation = accept(derms_client, RESERVE, reservation_message("R-1", "EVT-1", 10))
        message_process(reservation.id)
        rows = DeviceEvent.objects.filter(event_id="EVT-1")
        assert rows.count() == 10 and Device.objects.count() == 10
        assert dict(rows.values_list("device__nic_id", "reservation_state"))[nic(3)] == "ERROR"
        assert rows.filter(reservation_state="RESERVED", reservation_message=reservation).count() == 9
        assert set(rows.values_list("event_status", flat=True)) == {"PARTIALLY_RESERVED"}
        event = ProgramEvent.objects.get(event_id="EVT-1")
        assert {(r.event_start, r.event_end, r.event_type) for r in rows} == {(event.start, event.end, "ECONOMIC")}
        cancel = accept(derms_client, CANCEL, cancellation("C-1", "EVT-1"))
        message_process(cancel.id)
    assert set(rows.values_list("reservation_state", flat=True)) == {"CANCELLED", "ERROR"}
    assert set(rows.values_list("event_status", flat=True)) == {"CANCELLED"}
    entries = list(TimelineEntry.objects.filter(record="event:EVT-1").values_list("kind", "message_id"))
    assert entries == [("reservation", reservation.id), ("cancellation", cancel.id)]
    assert BusinessKey.objects.filter(kind="eventId", value="EVT-1", target="event").exists()


def test_a_reservation_projects_in_a_bounded_number_of_queries(derms_client, settings, django_assert_max_num_queries):
    settings.RESERVATION_COLLECTION_SIZE = 500
    fake = FakeDacs()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        small = accept(derms_client, RESERVE, reservation_message("R-S", "EVT-S", 10))
        message_process(small.id)
        large = accept(derms_client, RESERVE, reservation_message("R-L", "EVT-L", 1500))
        message_process(large.id)
    assert DeviceEvent.objects.filter(event_id="EVT-L").count() == 1500
    with django_assert_max_num_queries(40):  # a query per device would be thousands
        assert records_update(large)


def test_a_discarded_message_updates_its_records(derms_client, django_capture_on_commit_callbacks):
    message = accept(derms_client, REQUESTS, enrollment_message("M-3", 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert message_discard(message=message, reason="sent by mistake")
    enrollment = Enrollment.objects.get()
    assert enrollment.status == Enrollment.Status.DACS_FAILED and "sent by mistake" in enrollment.dacs_error
