"""A message that ends abnormally (discarded, or failed after repeated crashes): each flow's settle and failure_reply.

Messages are accepted through the real endpoint and left unprocessed; the
message's open items are then made FAILURE with the reason, as the hub does
before it calls the hooks.
"""

import pytest
from django_q.conf import Conf

from flows.device_reservations.events import devices_record
from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from flows.device_reservations.prepare import reservation_prepare
from flows.device_reservations.samples import nic, reservation_message
from flows.device_status import services as status_services
from flows.device_status.models import StatusCheck
from flows.device_status.samples import status_check
from flows.enrollment_requests.samples import enrollment_message
from flows.enrollment_sync import services as sync_services
from flows.enrollment_sync.models import EnrollmentSync
from flows.enrollment_sync.samples import sync_request
from hub.models import Item, Message
from hub.registry import flow_for
from hub.timefmt import iso_z

pytestmark = pytest.mark.django_db
REASON = "Discarded by support: duplicate of a later message"


@pytest.fixture(autouse=True)
def _not_processed(monkeypatch):
    # Accepted messages go to the broker's queue, which no cluster reads here.
    monkeypatch.setattr(Conf, "SYNC", False)


def accepted(client, path: str, body: dict) -> Message:
    resp = client.post(f"/api/v1/{path}", data=body, format="json")
    assert resp.status_code == 202, resp.content
    return Message.objects.get(tracking_id=resp.json()["trackingId"])


def end_abnormally(message: Message) -> None:
    """What the hub does before the hooks: open items become FAILURE with the reason."""
    message.items.filter(status__in=Item.OPEN).update(status=Item.Status.FAILURE, last_error=REASON)


def test_it_answers_an_enrollment_collection_with_failure_and_the_reason_on_unfinished_requests(derms_client):
    message = accepted(derms_client, "derms/enrollment-requests", enrollment_message("ENR-D", 3))
    message.items.filter(seq=0).update(status=Item.Status.SUCCESS, external_id="E-1")
    message.items.filter(seq=1).update(status=Item.Status.ERROR, message_number=11001, last_error="No program")
    end_abnormally(message)
    flow = flow_for("enrollment_requests")
    flow.settle(message, reason=REASON)
    body = flow.failure_reply(message, reason=REASON)
    assert body is not None
    assert body["messageId"] == "ENR-D" and body["ackType"] == "FAILURE"
    assert [(r["responseCode"], r["enrollmentId"], r["message"]) for r in body["responses"]] == [
        ("SUCCESS", "E-1", None),
        ("ERROR", None, "No program"),
        ("FAILURE", None, REASON),
    ]


def test_it_fails_a_status_check_waiting_for_derms_and_tells_dacs_the_reason(dacs_client):
    message = accepted(dacs_client, "dacs/device-status-checks", status_check("CD-D"))
    status_services.status_check_forwarded(check_id=message.status_check.id)
    end_abnormally(message)
    flow = flow_for("device_status_checks")
    flow.settle(message, reason=REASON)
    check = StatusCheck.objects.get()
    assert check.state == StatusCheck.State.FAILED and check.failed_at is not None
    assert flow.failure_reply(message, reason=REASON) == {
        "responseDetail": {
            "transactionId": "CD-D",
            "responseDateTime": iso_z(check.failed_at),
            "result": {"status": "FAILURE", "message": REASON},
        }
    }


def test_it_owes_dacs_nothing_for_a_check_derms_has_answered(dacs_client, derms_client):
    message = accepted(dacs_client, "dacs/device-status-checks", status_check("CD-A"))
    response = accepted(
        derms_client, "derms/device-status-responses", {"dacsMessageId": "CD-A", "responseCode": "SUCCESS"}
    )
    status_services.status_check_answer(
        check_id=message.status_check.id, response=response, code="SUCCESS", text="ok", responded_at=None
    )
    end_abnormally(message)
    flow = flow_for("device_status_checks")
    flow.settle(message, reason=REASON)
    assert StatusCheck.objects.get().state == StatusCheck.State.ANSWERED
    assert flow.failure_reply(message, reason=REASON) is None


def test_it_fails_a_sync_waiting_for_derms_and_acknowledges_failure_to_dacs(dacs_client):
    message = accepted(dacs_client, "dacs/enrollment-syncs", sync_request("SYNC-D"))
    sync_services.sync_forwarded(sync_id=message.enrollment_sync.id)
    end_abnormally(message)
    flow = flow_for("enrollment_syncs")
    flow.settle(message, reason=REASON)
    sync = EnrollmentSync.objects.get()
    assert sync.state == EnrollmentSync.State.FAILED
    assert flow.failure_reply(message, reason=REASON) == {
        "syncRequestId": "SYNC-D",
        "status": "FAILURE",
        "message": REASON,
        "acknowledgedDateTime": iso_z(sync.failed_at),
    }


def test_it_owes_dacs_nothing_for_a_sync_already_acknowledged_to_it(dacs_client):
    message = accepted(dacs_client, "dacs/enrollment-syncs", sync_request("SYNC-T"))
    sync_services.sync_dacs_acked(sync_id=message.enrollment_sync.id, status="SUCCESS")
    assert flow_for("enrollment_syncs").failure_reply(message, reason=REASON) is None


def test_it_leaves_a_reservation_event_settled_and_its_devices_not_pending(derms_client):
    message = accepted(derms_client, "derms/device-reservations", reservation_message("RSV-D", "EVT-D", 5))
    reservation_prepare(reservation=Reservation.objects.get(message=message))
    message.items.filter(seq__in=(0, 1)).update(status=Item.Status.SUCCESS)
    devices_record(message=message, seqs=[0, 1], state=EventDevice.State.RESERVED)
    message.items.filter(seq=2).update(status=Item.Status.ERROR, last_error="Device not enrolled")
    devices_record(message=message, seqs=[2], state=EventDevice.State.ERROR, error="Device not enrolled")
    end_abnormally(message)
    flow = flow_for("device_reservations")
    flow.settle(message, reason=REASON)
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.PARTIALLY_RESERVED
    assert dict(EventDevice.objects.values_list("seq", "state")) == {
        0: "RESERVED",
        1: "RESERVED",
        2: "ERROR",
        3: "FAILED",
        4: "FAILED",
    }
    assert set(EventDevice.objects.filter(seq__gte=3).values_list("error", flat=True)) == {REASON}
    body = flow.failure_reply(message, reason=REASON)
    assert body is not None
    assert (body["ackType"], body["deviceCount"], body["reservedCount"], body["failedCount"]) == ("FAILURE", 5, 2, 3)
    assert [(f["recordId"], f["nicId"], f["message"]) for f in body["failures"]] == [
        (3, nic(3), "Device not enrolled"),
        (4, nic(4), REASON),
        (5, nic(5), REASON),
    ]


def test_a_reservation_ended_before_its_devices_were_read_fails_its_event_and_counts_every_device(derms_client):
    message = accepted(derms_client, "derms/device-reservations", reservation_message("RSV-U", "EVT-U", 4))
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.RESERVING
    flow = flow_for("device_reservations")
    flow.settle(message, reason=REASON)
    assert ProgramEvent.objects.get().status == ProgramEvent.Status.FAILED
    body = flow.failure_reply(message, reason=REASON)
    assert body is not None
    assert (body["ackType"], body["deviceCount"], body["reservedCount"], body["failedCount"]) == ("FAILURE", 4, 0, 4)


def test_a_derms_response_ended_before_it_reached_dacs_answers_the_check_and_owes_dacs_failure(
    dacs_client, derms_client
):
    check_message = accepted(dacs_client, "dacs/device-status-checks", status_check("CD-R"))
    message = accepted(
        derms_client, "derms/device-status-responses", {"dacsMessageId": "CD-R", "responseCode": "SUCCESS"}
    )
    end_abnormally(message)
    flow = flow_for("device_status_responses")
    flow.settle(message, reason=REASON)
    check = StatusCheck.objects.get()
    assert (check.state, check.response_code, check.response_text) == (StatusCheck.State.ANSWERED, "FAILURE", REASON)
    assert flow_for("device_status_checks").failure_reply(check_message, reason=REASON) is None
    body = flow.failure_reply(message, reason=REASON)
    assert body is not None
    assert body["responseDetail"]["transactionId"] == "CD-R"
    assert body["responseDetail"]["result"] == {"status": "FAILURE", "message": REASON}
    assert not flow.reply_due(message)


def test_a_derms_acknowledgement_ended_before_it_was_recorded_fails_the_sync_and_reopens_it_for_dacs(
    dacs_client, derms_client
):
    sync_message = accepted(dacs_client, "dacs/enrollment-syncs", sync_request("SYNC-K"))
    sync_services.sync_forwarded(sync_id=sync_message.enrollment_sync.id)
    sync_message.items.update(status=Item.Status.SUCCESS)
    Message.objects.filter(id=sync_message.id).update(status=Message.Status.COMPLETED)
    message = accepted(derms_client, "derms/enrollment-sync-acks", {"dacsMessageId": "SYNC-K", "ackType": "SUCCESS"})
    end_abnormally(message)
    flow_for("enrollment_sync_acks").settle(message, reason=REASON)
    assert EnrollmentSync.objects.get().state == EnrollmentSync.State.FAILED
    sync_message.refresh_from_db()
    assert sync_message.status == Message.Status.QUEUED
    body = flow_for("enrollment_syncs").reply(sync_message)
    assert body is not None
    assert body["status"] == "FAILURE" and REASON in body["message"]
