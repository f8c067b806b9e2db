"""Flow 5 input: JSON and multipart CSV, every validation error, the 202 and what it records."""

from functools import partial

import pytest

from flows.device_reservations.models import EventDevice, ProgramEvent, Reservation
from flows.device_reservations.prepare import reservation_prepare
from flows.device_reservations.samples import (
    multipart_body,
    reservation_csv,
    reservation_header,
    reservation_message,
)
from hub.models import Item, Message
from tests.flows import device_lists
from tests.flows.device_lists import post_without_file, rejected_naming

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/device-reservations"
HEADER = "recordId,nicId,headEndSystemId,reservationStartDateTime,reservationEndDateTime"


post_csv = partial(device_lists.post_csv, url=URL)
csv_of = partial(device_lists.csv_of, HEADER)


def test_a_json_reservation_is_accepted_with_its_device_count(derms_client):
    resp = derms_client.post(URL, data=reservation_message("R-1", "EVT-1", 3), format="json")
    assert resp.status_code == 202, resp.content
    assert resp.json()["deviceCount"] == 3 and resp.json()["messageId"] == "R-1"
    event = ProgramEvent.objects.get(event_id="EVT-1")
    assert event.status == ProgramEvent.Status.RESERVING and event.event_type == "ECONOMIC"
    assert Reservation.objects.get(event=event).device_count == 3


def test_a_csv_reservation_is_accepted_and_its_devices_created_from_the_stored_body(derms_client):
    rows = ["1,ECB-1,ECOBEE,,", "2,ECB-2,NEST,2026-12-01T22:30:00+00:00,2026-12-01T23:00:00Z"]
    resp = post_csv(derms_client, reservation_header("R-2", "EVT-2"), csv_of(*rows))
    assert resp.status_code == 202, resp.content
    assert resp.json()["deviceCount"] == 2
    message = Message.objects.get(message_key="R-2")
    assert message.stored_body().endswith(b"--\r\n")
    reservation_prepare(reservation=message.reservation)
    items = list(message.items.order_by("seq").values_list("key", "nic_id", "data"))
    assert items == [
        ("1", "ECB-1", {"h": "ECOBEE"}),
        ("2", "ECB-2", {"h": "NEST", "s": "2026-12-01T22:30:00Z", "e": "2026-12-01T23:00:00Z"}),
    ]
    devices = EventDevice.objects.order_by("seq")
    assert [(d.nic_id, d.state, d.seq) for d in devices] == [("ECB-1", "PENDING", 0), ("ECB-2", "PENDING", 1)]
    start = devices[1].start
    assert start is not None and start.isoformat() == "2026-12-01T22:30:00+00:00"


def test_a_later_reservation_adds_devices_and_updates_windows(derms_client):
    post_csv(derms_client, reservation_header("R-3a", "EVT-3"), csv_of("1,ECB-1,ECOBEE,,", "2,ECB-2,ECOBEE,,"))
    later = csv_of("5,ECB-2,ECOBEE,2026-12-01T23:00:00Z,", "6,ECB-3,ECOBEE,,")
    assert post_csv(derms_client, reservation_header("R-3b", "EVT-3"), later).status_code == 202
    for message in Message.objects.filter(flow="device_reservations").order_by("id"):
        reservation_prepare(reservation=message.reservation)
    devices = {d.nic_id: d for d in EventDevice.objects.filter(event__event_id="EVT-3")}
    assert sorted(devices) == ["ECB-1", "ECB-2", "ECB-3"]
    start = devices["ECB-2"].start
    assert devices["ECB-2"].record_id == 5 and start is not None and start.hour == 23
    assert devices["ECB-2"].message.message_key == "R-3b"


@pytest.mark.parametrize(
    "rows, key, text",
    [
        (["1,ECB-1,ECOBEE,,", "x,ECB-2,ECOBEE,,"], "file line 3", "recordId: A valid integer is required."),
        (["1,,ECOBEE,,"], "file line 2", "nicId: This field is required."),
        (["1,ECB-1,ECOBEE,,", "²,ECB-2,ECOBEE,,"], "file line 3", "recordId: A valid integer is required."),
        (
            ["99999999999999999999,ECB-1,ECOBEE,,"],
            "file line 2",
            "recordId: Ensure this value is between -9223372036854775808 and 9223372036854775807.",
        ),
        (["1,ECB-1,,,"], "file line 2", "headEndSystemId: This field is required."),
        (
            ["1,ECB-1,ECOBEE,,", "2,ECB-1,ECOBEE,,"],
            "file line 3",
            "nicId: Duplicate device ECB-1/ECOBEE (also at file line 2).",
        ),
        (["1,ECB-1,ECOBEE"], "file line 2", "row: Expected 5 cells, got 3."),
        (
            ["1,ECB-1,ECOBEE,2026-12-01T22:00:00,"],
            "file line 2",
            "reservationStartDateTime: The timestamp has no offset",
        ),
        (["1,ECB-1,ECOBEE,yesterday,"], "file line 2", "reservationStartDateTime: Not an ISO 8601 timestamp."),
        (
            ["1,ECB-1,ECOBEE,2026-12-01T22:30:00+15:00,"],
            "file line 2",
            "reservationStartDateTime: The offset +15:00 is not one in use",
        ),
        (
            ["1,ECB-1,ECOBEE,2026-12-01T21:00:00Z,"],
            "file line 2",
            "reservationStartDateTime: The reservation window must lie",
        ),
        (
            ["1,ECB-1,ECOBEE,2026-12-01T23:00:00Z,2026-12-01T22:30:00Z"],
            "file line 2",
            "reservationEndDateTime: The reservation must end",
        ),
        ([], "file", "At least one device is required."),
    ],
)
def test_every_bad_csv_row_is_named_by_its_line(derms_client, rows, key, text):
    resp = post_csv(derms_client, reservation_header("R-BAD", "EVT-BAD"), csv_of(*rows))
    rejected_naming(resp, key, text)
    assert not ProgramEvent.objects.exists() and not Item.objects.exists()


def test_a_wrong_csv_header_is_line_1(derms_client):
    resp = post_csv(derms_client, reservation_header("R-H", "EVT-H"), b"nicId,recordId\r\nECB-1,1\r\n")
    assert resp.status_code == 400
    assert "file line 1" in resp.json()["details"]


def test_a_line_that_is_not_utf8_is_named(derms_client):
    resp = post_csv(
        derms_client, reservation_header("R-U", "EVT-U"), csv_of("1,ECB-\xff,ECOBEE,,").replace(b"\xc3\xbf", b"\xff")
    )
    assert resp.status_code == 400
    assert resp.json()["details"] == {"file line 2": ["The line is not UTF-8."]}


def test_missing_parts_and_bad_header_fields(derms_client):
    resp = post_without_file(derms_client, reservation_header("R-P", "EVT-P"), url=URL)
    assert resp.status_code == 400 and resp.json()["details"]["file"] == ["The part 'file' is required."]
    header = reservation_header("R-P2", "EVT-P", start="2026-12-02T00:00:00Z", end="2026-12-01T22:00:00Z")
    header["eventType"] = "PARTY"
    resp = post_csv(derms_client, header, csv_of("1,ECB-1,ECOBEE,,"))
    details = resp.json()["details"]
    assert resp.status_code == 400 and "eventType" in details


@pytest.mark.parametrize(
    "change, key",
    [
        (lambda m: m.pop("messageId"), "messageId"),
        (lambda m: m.update(eventId="E" * 121), "eventId"),
        (lambda m: m.update(eventStartDateTime="2026-12-01T22:00:00"), "eventStartDateTime"),
        (lambda m: m.update(eventEndDateTime="2026-12-01T21:00:00Z"), "eventEndDateTime"),
        (lambda m: m.update(eventStartDateTime="2848-04-06T23:04:37.2-21:20"), "eventStartDateTime"),
        (lambda m: m.update(eventEndDateTime="9999-12-31T23:00:00-05:00"), "eventEndDateTime"),
        (lambda m: m.update(deviceList=[]), "deviceList"),
        (lambda m: m.pop("deviceList"), "deviceList"),
        (lambda m: m["deviceList"][1].update(recordId="one"), "deviceList[1].recordId"),
        (lambda m: m["deviceList"][1].update(recordId=2**63), "deviceList[1].recordId"),
        (lambda m: m["deviceList"][1].pop("nicId"), "deviceList[1].nicId"),
        (lambda m: m["deviceList"][1].update(nicId="ECB-000001"), "deviceList[1].nicId"),
        (lambda m: m["deviceList"][1].update(nicId=["ECB-1"]), "deviceList[1].nicId"),
        (lambda m: m["deviceList"][1].update(reservationEndDateTime={"at": 1}), "deviceList[1].reservationEndDateTime"),
        (lambda m: m.update(deviceList=[1, 2]), "deviceList[0]"),
        (
            lambda m: m["deviceList"][0].update(reservationEndDateTime="2026-12-02T01:00:00Z"),
            "deviceList[0].reservationStartDateTime",
        ),
    ],
)
def test_every_bad_json_field_is_named(derms_client, change, key):
    message = reservation_message("R-J", "EVT-J", 2)
    change(message)
    resp = derms_client.post(URL, data=message, format="json")
    assert resp.status_code == 400, resp.content
    assert key in resp.json()["details"], resp.json()


def test_a_reservation_for_a_cancelled_event_is_refused(derms_client):
    assert derms_client.post(URL, data=reservation_message("R-C1", "EVT-C", 1), format="json").status_code == 202
    ProgramEvent.objects.filter(event_id="EVT-C").update(status=ProgramEvent.Status.CANCELLED)
    resp = derms_client.post(URL, data=reservation_message("R-C2", "EVT-C", 1), format="json")
    assert resp.status_code == 409 and resp.json()["error"] == "event_cancelled"


def test_two_hundred_thousand_devices_as_csv_are_accepted(derms_client):
    resp = post_csv(derms_client, reservation_header("R-200K", "EVT-200K"), reservation_csv(200_000))
    assert resp.status_code == 202, resp.content[:500]
    assert resp.json()["deviceCount"] == 200_000
    message = Message.objects.get(message_key="R-200K")
    reservation_prepare(reservation=message.reservation)
    assert message.items.count() == 200_000
    assert EventDevice.objects.filter(event__event_id="EVT-200K").count() == 200_000
    assert message.items.get(seq=199_999).nic_id == "ECB-200000"


def test_more_than_two_hundred_thousand_devices_are_refused(derms_client):
    resp = post_csv(derms_client, reservation_header("R-MAX", "EVT-MAX"), reservation_csv(200_001))
    assert resp.status_code == 400
    assert resp.json()["details"]["file"] == ["At most 200000 devices are allowed; got 200001."]


def test_a_message_part_that_is_not_json_is_named(derms_client):
    body, content_type = multipart_body(reservation_header("R-NJ", "EVT-NJ"), csv_of("1,ECB-1,ECOBEE,,"))
    body = body.replace(b'{"messageId"', b"{messageId", 1)
    resp = derms_client.post(URL, data=body, content_type=content_type)
    assert resp.status_code == 400 and resp.json()["error"] == "malformed_json"
    assert resp.json()["message"].startswith("message: Malformed JSON")


@pytest.mark.parametrize(
    ("csv_bytes", "key", "text"),
    [
        (csv_of("1,ECB-\x001,ECOBEE,,"), "file line 2", "The line holds a NUL character."),
        (csv_of("1,ECB-1,ECOBEE,,", "2,ECB-2,ECOBEE,,").replace(b"\r\n", b"\r"), "file line 1", "A carriage return"),
        (csv_of("1,ECB-1,ECOBEE,,", "2,ECB\r-2,ECOBEE,,"), "file line 3", "A carriage return"),
        (csv_of("1,ECB-1,ECOBEE,,", f"2,{'N' * 131_073},ECOBEE,,"), "file line 3", "A cell longer than 131072"),
    ],
)
def test_a_csv_line_the_hub_cannot_read_or_store_is_a_400_naming_it(derms_client, csv_bytes, key, text):
    """Found by an attack run: a NUL was accepted then failed every run in PostgreSQL; the others were 500s."""
    resp = post_csv(derms_client, reservation_header("R-CSV", "EVT-CSV"), csv_bytes)
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert body["error"] == "validation_failed" and list(body["details"]) == [key]
    assert body["details"][key][0].startswith(text)
    message = Message.objects.get(tracking_id=body["trackingId"])
    assert message.status == Message.Status.REJECTED and message.http_status == 400
    assert message.stored_body() == multipart_body(reservation_header("R-CSV", "EVT-CSV"), csv_bytes)[0]


def test_the_message_part_names_its_own_fields(derms_client):
    header = {**reservation_header("R-NaN", "EVT-NaN"), "extra": {"ratio": float("nan")}}
    resp = post_csv(derms_client, header, csv_of("1,ECB-1,ECOBEE,,"))
    assert resp.status_code == 400
    assert resp.json()["details"] == {"message.extra.ratio": ["NaN is not a number JSON allows."]}
