"""Flow 7 input: JSON and multipart CSV, every validation error, the 202 and what it records."""

from functools import partial

import pytest

from flows.event_outcomes.models import DeviceOutcome, OutcomeReport
from flows.event_outcomes.prepare import outcome_prepare
from flows.event_outcomes.samples import CSV_HEADER, outcome_csv, outcome_header, outcome_message
from hub.models import Item, Message
from tests.flows import device_lists
from tests.flows.device_lists import post_without_file, rejected_naming

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/event-outcomes"
TIMES = "2026-12-01T22:00:00Z,2026-12-02T00:00:00Z"


post_csv = partial(device_lists.post_csv, url=URL)
csv_of = partial(device_lists.csv_of, CSV_HEADER)


def test_a_json_outcome_is_accepted_with_its_device_count_for_an_event_the_hub_has_not_seen(derms_client):
    resp = derms_client.post(URL, data=outcome_message("O-1", "EVT-UNSEEN", 3), format="json")
    assert resp.status_code == 202, resp.content
    assert resp.json()["deviceCount"] == 3 and resp.json()["messageId"] == "O-1"
    report = OutcomeReport.objects.get(message__message_key="O-1")
    assert (report.event_id, report.device_count, report.collection_size, report.prepared) == (
        "EVT-UNSEEN",
        3,
        500,
        False,
    )


def test_a_csv_outcome_is_accepted_and_its_outcomes_created_from_the_stored_body(derms_client):
    rows = [
        "1,ECB-1,ECOBEE,PARTICIPATED,2026-12-01T22:30:00+01:00,2026-12-01T23:00:00Z,",
        "2,ECB-2,NEST,NON_RESPONSIVE,,,No telemetry",
        '3,ECB-3,NEST,ERROR,,,"Thermostat offline, battery low"',
    ]
    resp = post_csv(derms_client, outcome_header("O-2", "EVT-2"), csv_of(*rows))
    assert resp.status_code == 202, resp.content
    assert resp.json()["deviceCount"] == 3
    message = Message.objects.get(message_key="O-2")
    outcome_prepare(report=message.outcome_report)
    items = list(message.items.order_by("seq").values_list("key", "nic_id", "data"))
    assert items == [
        ("1", "ECB-1", {"h": "ECOBEE", "o": "PARTICIPATED", "s": "2026-12-01T21:30:00Z", "e": "2026-12-01T23:00:00Z"}),
        ("2", "ECB-2", {"h": "NEST", "o": "NON_RESPONSIVE", "m": "No telemetry"}),
        ("3", "ECB-3", {"h": "NEST", "o": "ERROR", "m": "Thermostat offline, battery low"}),
    ]
    outcomes = list(DeviceOutcome.objects.order_by("seq"))
    assert [(o.event_id, o.nic_id, o.outcome, o.state, o.seq) for o in outcomes] == [
        ("EVT-2", "ECB-1", "PARTICIPATED", "PENDING", 0),
        ("EVT-2", "ECB-2", "NON_RESPONSIVE", "PENDING", 1),
        ("EVT-2", "ECB-3", "ERROR", "PENDING", 2),
    ]
    start = outcomes[0].participation_start
    assert start is not None and start.isoformat() == "2026-12-01T21:30:00+00:00"
    assert outcomes[1].participation_start is None and outcomes[1].error_message == "No telemetry"
    # Preparing again changes nothing.
    outcome_prepare(report=OutcomeReport.objects.get(message=message))
    assert message.items.count() == 3 and DeviceOutcome.objects.count() == 3


def test_a_later_outcome_of_the_same_device_replaces_it_and_other_events_keep_theirs(derms_client):
    post_csv(
        derms_client, outcome_header("O-3a", "EVT-3"), csv_of("1,ECB-1,ECOBEE,ERROR,,,", "2,ECB-2,ECOBEE,ERROR,,,")
    )
    post_csv(derms_client, outcome_header("O-3b", "EVT-3"), csv_of(f"7,ECB-2,ECOBEE,PARTICIPATED,{TIMES},"))
    post_csv(derms_client, outcome_header("O-3c", "EVT-OTHER"), csv_of("1,ECB-1,ECOBEE,CANCELLED,,,"))
    for report in OutcomeReport.objects.order_by("id"):
        outcome_prepare(report=report)
    rows = {(o.event_id, o.nic_id): o for o in DeviceOutcome.objects.all()}
    assert sorted(rows) == [("EVT-3", "ECB-1"), ("EVT-3", "ECB-2"), ("EVT-OTHER", "ECB-1")]
    assert rows["EVT-3", "ECB-2"].outcome == "PARTICIPATED" and rows["EVT-3", "ECB-2"].record_id == 7
    assert rows["EVT-3", "ECB-2"].message.message_key == "O-3b"
    assert rows["EVT-3", "ECB-1"].outcome == "ERROR" and rows["EVT-OTHER", "ECB-1"].outcome == "CANCELLED"


@pytest.mark.parametrize(
    "rows, key, text",
    [
        (
            ["1,ECB-1,ECOBEE,ERROR,,,", "x,ECB-2,ECOBEE,ERROR,,,"],
            "file line 3",
            "recordId: A valid integer is required.",
        ),
        (["1,,ECOBEE,ERROR,,,"], "file line 2", "nicId: This field is required."),
        ([f"1,{'N' * 101},ECOBEE,ERROR,,,"], "file line 2", "nicId: Ensure this field has no more than 100"),
        ([f"1,ECB-1,{'H' * 51},ERROR,,,"], "file line 2", "headEndSystemId: Ensure this field has no more than 50"),
        (["1,ECB-1,ECOBEE,,,,"], "file line 2", "outcome: This field is required."),
        (["1,ECB-1,ECOBEE,ABSENT,,,"], "file line 2", "outcome: Expected one of PARTICIPATED, CANCELLED"),
        (["1,ECB-1,ECOBEE,PARTICIPATED,,,"], "file line 2", "participationStartDateTime: This field is required"),
        (
            ["1,ECB-1,ECOBEE,OVERRIDDEN,2026-12-01T22:00:00Z,,"],
            "file line 2",
            "participationEndDateTime: This field is required for the outcome OVERRIDDEN.",
        ),
        (
            ["1,ECB-1,ECOBEE,PARTICIPATED,2026-12-01T23:00:00Z,2026-12-01T22:00:00Z,"],
            "file line 2",
            "participationEndDateTime: The participation must end after it starts.",
        ),
        (
            ["1,ECB-1,ECOBEE,ERROR,2026-12-01T22:00:00,,"],
            "file line 2",
            "participationStartDateTime: The timestamp has no offset",
        ),
        (
            [f"1,ECB-1,ECOBEE,ERROR,,,{'m' * 101}"],
            "file line 2",
            "errorMessage: Ensure this field has no more than 100",
        ),
        (
            ["1,ECB-1,ECOBEE,ERROR,,,", "2,ECB-1,ECOBEE,CANCELLED,,,"],
            "file line 3",
            "nicId: Duplicate device ECB-1/ECOBEE (also at file line 2).",
        ),
        (["1,ECB-1,ECOBEE,ERROR"], "file line 2", "row: Expected 7 cells, got 4."),
        ([], "file", "At least one device is required."),
    ],
)
def test_every_bad_csv_row_is_named_by_its_line(derms_client, rows, key, text):
    resp = post_csv(derms_client, outcome_header("O-BAD", "EVT-BAD"), csv_of(*rows))
    rejected_naming(resp, key, text)
    assert not OutcomeReport.objects.exists() and not Item.objects.exists()


def test_the_same_device_in_two_head_end_systems_is_two_devices(derms_client):
    resp = post_csv(
        derms_client, outcome_header("O-HE", "EVT-HE"), csv_of("1,ECB-1,ECOBEE,ERROR,,,", "2,ECB-1,NEST,ERROR,,,")
    )
    assert resp.status_code == 202, resp.content


def test_a_reservation_csv_header_is_refused_as_line_1(derms_client):
    csv_bytes = (
        b"recordId,nicId,headEndSystemId,reservationStartDateTime,reservationEndDateTime\r\n1,ECB-1,ECOBEE,,\r\n"
    )
    resp = post_csv(derms_client, outcome_header("O-H", "EVT-H"), csv_bytes)
    assert resp.status_code == 400
    assert resp.json()["details"]["file line 1"] == [f"Expected the header {CSV_HEADER}."]


def test_missing_parts_and_bad_header_fields(derms_client):
    resp = post_without_file(derms_client, outcome_header("O-P", "EVT-P"), url=URL)
    assert resp.status_code == 400 and resp.json()["details"]["file"] == ["The part 'file' is required."]
    header = {**outcome_header("O-P2", "E" * 121)}
    resp = post_csv(derms_client, header, csv_of("1,ECB-1,ECOBEE,ERROR,,,"))
    assert resp.status_code == 400 and list(resp.json()["details"]) == ["eventId"]


@pytest.mark.parametrize(
    "change, key",
    [
        (lambda m: m.pop("messageId"), "messageId"),
        (lambda m: m.pop("eventId"), "eventId"),
        (lambda m: m.update(eventId="E" * 121), "eventId"),
        (lambda m: m.update(outcomeList=[]), "outcomeList"),
        (lambda m: m.pop("outcomeList"), "outcomeList"),
        (lambda m: m.update(outcomeList={"recordId": 1}), "outcomeList"),
        (lambda m: m.update(outcomeList=[1, 2]), "outcomeList[0]"),
        (lambda m: m["outcomeList"][1].update(recordId="one"), "outcomeList[1].recordId"),
        (lambda m: m["outcomeList"][1].pop("nicId"), "outcomeList[1].nicId"),
        (lambda m: m["outcomeList"][1].update(nicId="ECB-000001"), "outcomeList[1].nicId"),
        (lambda m: m["outcomeList"][1].update(headEndSystemId=7), "outcomeList[1].headEndSystemId"),
        (lambda m: m["outcomeList"][1].update(outcome="participated"), "outcomeList[1].outcome"),
        (lambda m: m["outcomeList"][1].update(outcome=["ERROR"]), "outcomeList[1].outcome"),
        (
            lambda m: m["outcomeList"][0].update(participationStartDateTime=None),
            "outcomeList[0].participationStartDateTime",
        ),
        (
            lambda m: m["outcomeList"][0].update(participationEndDateTime="2026-12-01T21:00:00Z"),
            "outcomeList[0].participationEndDateTime",
        ),
        (
            lambda m: m["outcomeList"][0].update(participationEndDateTime={"at": 1}),
            "outcomeList[0].participationEndDateTime",
        ),
        (lambda m: m["outcomeList"][0].update(errorMessage=5), "outcomeList[0].errorMessage"),
        (lambda m: m["outcomeList"][0].update(errorMessage="x" * 101), "outcomeList[0].errorMessage"),
    ],
)
def test_every_bad_json_field_is_named(derms_client, change, key):
    message = outcome_message("O-J", "EVT-J", 2)
    change(message)
    resp = derms_client.post(URL, data=message, format="json")
    assert resp.status_code == 400, resp.content
    assert key in resp.json()["details"], resp.json()
    assert not OutcomeReport.objects.exists()


def test_outcomes_without_times_are_fine_unless_the_device_took_part(derms_client):
    message = outcome_message("O-T", "EVT-T", 4)
    for row, outcome in zip(message["outcomeList"], ("CANCELLED", "ERROR", "NON_RESPONSIVE"), strict=False):
        row.update(outcome=outcome, participationStartDateTime=None, participationEndDateTime=None)
    del message["outcomeList"][3]["errorMessage"]
    resp = derms_client.post(URL, data=message, format="json")
    assert resp.status_code == 202, resp.content


def test_two_hundred_thousand_outcomes_as_csv_are_accepted_and_more_refused(derms_client):
    resp = post_csv(derms_client, outcome_header("O-200K", "EVT-200K"), outcome_csv(200_000))
    assert resp.status_code == 202, resp.content[:500]
    assert resp.json()["deviceCount"] == 200_000
    message = Message.objects.get(message_key="O-200K")
    outcome_prepare(report=message.outcome_report)
    assert message.items.count() == 200_000
    assert DeviceOutcome.objects.filter(event_id="EVT-200K").count() == 200_000
    assert message.items.get(seq=199_999).nic_id == "ECB-200000"
    resp = post_csv(derms_client, outcome_header("O-MAX", "EVT-MAX"), outcome_csv(200_001))
    assert resp.status_code == 400
    assert resp.json()["details"]["file"] == ["At most 200000 devices are allowed; got 200001."]


def test_a_duplicate_message_id_answers_the_first_acknowledgement(derms_client):
    first = derms_client.post(URL, data=outcome_message("O-D", "EVT-D", 2), format="json")
    again = derms_client.post(URL, data=outcome_message("O-D", "EVT-D", 2), format="json")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["trackingId"] == first.json()["trackingId"] and again.json()["deviceCount"] == 2
    assert OutcomeReport.objects.count() == 1
