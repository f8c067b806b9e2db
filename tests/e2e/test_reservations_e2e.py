"""Flows 5 and 6 end to end: DERMS → hub → DACS stand-in → hub → DERMS stand-in, all real processes."""

import pytest

from flows.device_reservations.samples import multipart_body, nic, reservation_csv, reservation_header

pytestmark = pytest.mark.e2e


def post_csv(hub, header, csv_bytes):
    return hub.post_body("derms/device-reservations", *multipart_body(header, csv_bytes))


def acks(hub, message_id):
    return [r["body"] for r in hub.records("DERMS", endpoint="reservation_ack", key=message_id)]


def event_status(hub, event_id):
    code = (
        "from flows.device_reservations.models import ProgramEvent;"
        f"print(ProgramEvent.objects.get(event_id='{event_id}').status)"
    )
    return hub.manage("shell", "--no-imports", "-c", code).stdout.strip()


def test_dacs_down_at_first_then_a_csv_reservation_with_a_refused_device(hub):
    hub.knobs("DACS", down=True, error_ids=[nic(77)])
    resp = post_csv(hub, reservation_header("E2E-RSV-1", "EVT-E2E-1"), reservation_csv(3000))
    assert resp.status_code == 202, resp.text
    assert resp.json()["deviceCount"] == 3000
    hub.wait_for(lambda: len(hub.records("DACS", endpoint="healthCheck")) >= 2, what="health checks while down")
    assert hub.records("DACS", endpoint="reserveDevice") == []
    hub.knobs("DACS", down=False)
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["status"] == "COMPLETED_WITH_ERRORS" and status["items"] == {"SUCCESS": 2999, "ERROR": 1}
    (ack,) = acks(hub, "E2E-RSV-1")
    assert ack["ackType"] == "ERROR" and (ack["reservedCount"], ack["failedCount"]) == (2999, 1)
    assert ack["failures"] == [
        {"recordId": 77, "nicId": nic(77), "headEndSystem": "ECOBEE", "message": "Device not enrolled"}
    ]
    calls = hub.records("DACS", endpoint="reserveDevice")
    assert all(c["status"] == 200 for c in calls) and len(calls) == 6
    sent = sorted(d["nicId"] for c in calls for d in c["body"]["deviceList"])
    assert sent == sorted(nic(i) for i in range(1, 3001))
    assert event_status(hub, "EVT-E2E-1") == "PARTIALLY_RESERVED"
    # Each email is sent by its own task.
    hub.wait_for(lambda: len(hub.emails()) == 2, timeout=60, what="the business and technical emails")
    mails = {m["To"]: m["Subject"] for m in hub.emails()}
    assert mails["programs@utility.example"].endswith("EVT-E2E-1: ERROR")
    assert "Reservation errors" in mails["ops@utility.example"]


def test_dacs_never_back_within_the_window(hub_factory):
    hub = hub_factory(DACS_AVAILABILITY_WINDOW_S="3")
    hub.knobs("DACS", down=True)
    resp = post_csv(hub, reservation_header("E2E-RSV-2", "EVT-E2E-2"), reservation_csv(10))
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["status"] == "FAILED" and status["items"] == {"FAILURE": 10}
    (ack,) = acks(hub, "E2E-RSV-2")
    assert ack["ackType"] == "FAILURE" and ack["failedCount"] == 10
    assert hub.records("DACS", endpoint="reserveDevice") == []
    assert event_status(hub, "EVT-E2E-2") == "FAILED"


def test_a_cancellation_during_a_reservation_of_20000_devices(hub_factory):
    hub = hub_factory(PARTNER_CONCURRENCY="2")
    hub.knobs("DACS", latency_ms=300, error_ids=[])
    resp = post_csv(hub, reservation_header("E2E-RSV-3", "EVT-E2E-3"), reservation_csv(20_000))
    assert resp.status_code == 202, resp.text
    hub.wait_for(lambda: hub.records("DACS", endpoint="reserveDevice"), what="the first collection")
    cancel = hub.post(
        "derms/event-cancellations",
        {"messageId": "E2E-CNL-3", "eventId": "EVT-E2E-3", "cancellationMessageText": "Forecast load below threshold"},
    )
    assert cancel.status_code == 202, cancel.text
    hub.wait_finished(cancel.json()["trackingId"])
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["status"] == "COMPLETED"
    endpoints = [r["endpoint"] for r in hub.records("DACS") if r["endpoint"] != "healthCheck"]
    # The cancellation went out once, after every collection that was sent.
    assert endpoints.count("lifecycle") == 1 and endpoints[-1] == "lifecycle"
    sent = endpoints.count("reserveDevice")
    assert 1 <= sent < 40
    (ack,) = acks(hub, "E2E-RSV-3")
    assert ack["reservedCount"] == sent * 500 and ack["cancelledCount"] == 20_000 - sent * 500
    assert event_status(hub, "EVT-E2E-3") == "CANCELLED"
