"""Flow 7 processing with the partner calls patched at the chokepoint."""

from unittest import mock

import pytest
from django.core import mail

from flows.device_reservations.models import EventDevice
from flows.device_reservations.samples import reservation_message
from flows.event_outcomes.models import DeviceOutcome
from flows.event_outcomes.samples import nic, outcome_message
from hub.lookups import lookup_clear
from hub.models import Item, Lookup, Message, OutboundCall
from tests.flows import device_lists
from tests.flows.device_lists import DOWN, UP, answer, per_device

pytestmark = pytest.mark.django_db
URL = "/api/v1/derms/event-outcomes"


def posted(body, refused=()):
    return per_device(body["postOutcomeList"], "POSTED", refused)


class FakeDacs(device_lists.FakeDacs):
    """Answers healthCheck with `health()` and the DACS operations with `post(body, n)`; DERMS accepts."""

    def __init__(self, post=lambda body, n: posted(body), health=lambda: UP):
        super().__init__(send=post, health=health)


def run(client, fake, body, capture, url=URL):
    return device_lists.run(client, fake, body, capture, url=url)


def test_collections_of_the_set_size_translated_codes_and_one_acknowledgement(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.OUTCOME_COLLECTION_SIZE = 4
    body = outcome_message("O-1", "EVT-1", 10)
    body["outcomeList"][1].update(
        outcome="NON_RESPONSIVE", participationStartDateTime=None, participationEndDateTime=None, errorMessage="Mute"
    )
    for row, code in zip(body["outcomeList"][2:6], ("CANCELLED", "ERROR", "OVERRIDDEN", "PARTICIPATED"), strict=True):
        row["outcome"] = code
    fake = FakeDacs(post=lambda body, n: posted(body, refused={nic(7)}))
    message = run(derms_client, fake, body, django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED_WITH_ERRORS and message.ack_type == "ERROR"
    calls = fake.of("postEventOutcome")
    assert [[e["nicId"] for e in c["postOutcomeList"]] for c in calls] == [
        [nic(i) for i in range(1, 5)],
        [nic(i) for i in range(5, 9)],
        [nic(9), nic(10)],
    ]
    assert calls[0]["postOutcomeList"][:2] == [
        {
            "eventExternalIdentifier": "EVT-1",
            "nicId": nic(1),
            "headEndSystem": "ECOBEE",
            "outcome": "D1SP",
            "participationStartDateTime": "2026-12-01T22:00:00Z",
            "participationEndDateTime": "2026-12-02T00:00:00Z",
            "errorMessage": None,
        },
        {
            "eventExternalIdentifier": "EVT-1",
            "nicId": nic(2),
            "headEndSystem": "ECOBEE",
            "outcome": "D1ND",
            "participationStartDateTime": None,
            "participationEndDateTime": None,
            "errorMessage": "Mute",
        },
    ]
    codes = [e["outcome"] for c in calls for e in c["postOutcomeList"]][2:6]
    assert codes == ["D1CN", "D1ER", "D1IO", "D1SP"]
    (ack,) = fake.of("event_outcome_ack")
    assert ack["messageId"] == "O-1" and ack["eventId"] == "EVT-1" and ack["ackType"] == "ERROR"
    assert (ack["deviceCount"], ack["postedCount"], ack["failedCount"]) == (10, 9, 1)
    assert ack["whenISO"].endswith("Z")
    assert ack["failures"] == [
        {"recordId": 7, "nicId": nic(7), "headEndSystem": "ECOBEE", "message": "Device not enrolled"}
    ]
    states = dict(DeviceOutcome.objects.values_list("nic_id", "state"))
    assert states[nic(7)] == "ERROR" and list(states.values()).count("POSTED") == 9
    assert DeviceOutcome.objects.get(nic_id=nic(7)).error == "Device not enrolled"
    subjects = {m.subject: m.to for m in mail.outbox}
    assert subjects == {
        "[DERMS-DACS hub] Event outcome O-1 for event EVT-1: ERROR": ["programs@utility.example"],
        "[DERMS-DACS hub] Event outcome errors: O-1 for event EVT-1": ["ops@utility.example"],
    }
    assert any("ECB-000007" in m.body and "Device not enrolled" in m.body for m in mail.outbox)
    assert all(isinstance(m, mail.EmailMultiAlternatives) and m.alternatives for m in mail.outbox)


def test_a_device_dacs_does_not_list_counts_as_posted(derms_client, django_capture_on_commit_callbacks):
    fake = FakeDacs(post=lambda body, n: answer(OutboundCall.Outcome.SUCCESS, body={"results": []}))
    message = run(derms_client, fake, outcome_message("O-2", "EVT-2", 3), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    (ack,) = fake.of("event_outcome_ack")
    assert (ack["ackType"], ack["postedCount"], ack["failedCount"], ack["failures"]) == ("SUCCESS", 3, 0, [])
    assert set(DeviceOutcome.objects.values_list("state", flat=True)) == {"POSTED"}
    assert [m.subject for m in mail.outbox] == ["[DERMS-DACS hub] Event outcome O-2 for event EVT-2: SUCCESS"]


def test_a_business_error_for_the_whole_call_marks_its_collection_error(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.OUTCOME_COLLECTION_SIZE = 2
    refused = answer(OutboundCall.Outcome.BUSINESS, status=400, error="Event not found")
    fake = FakeDacs(post=lambda body, n: refused if n == 2 else posted(body))
    message = run(derms_client, fake, outcome_message("O-3", "EVT-3", 6), django_capture_on_commit_callbacks)
    statuses = list(message.items.order_by("seq").values_list("status", flat=True))
    assert statuses == ["SUCCESS", "SUCCESS", "ERROR", "ERROR", "SUCCESS", "SUCCESS"]
    assert len(fake.of("postEventOutcome")) == 3
    (ack,) = fake.of("event_outcome_ack")
    assert [f["message"] for f in ack["failures"]] == ["Event not found", "Event not found"]
    assert DeviceOutcome.objects.filter(state="ERROR", error="Event not found").count() == 2


def test_a_collection_failing_with_503s_is_retried_alone_and_nothing_is_sent_twice(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.OUTCOME_COLLECTION_SIZE = 3
    failing = {"left": 2}

    def post(body, n):
        if body["postOutcomeList"][0]["nicId"] == nic(4) and failing["left"]:
            failing["left"] -= 1
            return DOWN
        return posted(body)

    fake = FakeDacs(post=post)
    message = run(derms_client, fake, outcome_message("O-4", "EVT-4", 9), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    sent = [tuple(e["nicId"] for e in c["postOutcomeList"]) for c in fake.of("postEventOutcome")]
    middle = (nic(4), nic(5), nic(6))
    assert sent.count(middle) == 3
    assert sorted(set(sent)) == [(nic(1), nic(2), nic(3)), middle, (nic(7), nic(8), nic(9))]
    assert set(message.items.values_list("attempts", flat=True)) == {1, 3}


def test_dacs_down_at_the_start_then_back_inside_the_window(derms_client, django_capture_on_commit_callbacks):
    health = iter([DOWN, DOWN, UP])
    fake = FakeDacs(health=lambda: next(health))
    message = run(derms_client, fake, outcome_message("O-5", "EVT-5", 3), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.COMPLETED
    assert [op for op, body in fake.sent] == [
        "healthCheck",
        "healthCheck",
        "healthCheck",
        "postEventOutcome",
        "event_outcome_ack",
    ]


def test_dacs_never_back_fails_the_outcomes_past_the_window(derms_client, settings, django_capture_on_commit_callbacks):
    settings.DACS_AVAILABILITY_WINDOW_S = 0.2
    fake = FakeDacs(health=lambda: DOWN)
    message = run(derms_client, fake, outcome_message("O-6", "EVT-6", 3), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.ack_type == "FAILURE"
    assert not fake.of("postEventOutcome")
    (ack,) = fake.of("event_outcome_ack")
    assert ack["ackType"] == "FAILURE" and (ack["postedCount"], ack["failedCount"]) == (0, 3)
    assert ack["failures"][0]["message"].startswith("DACS unavailable for 0 s")
    assert set(message.items.values_list("status", flat=True)) == {Item.Status.FAILURE}
    assert set(DeviceOutcome.objects.values_list("state", flat=True)) == {"FAILED"}
    assert {m.to[0] for m in mail.outbox} == {"programs@utility.example", "ops@utility.example"}


def test_an_outcome_code_without_a_translation_fails_only_its_device(derms_client, django_capture_on_commit_callbacks):
    Lookup.objects.filter(kind="event_outcome", source="NON_RESPONSIVE").delete()
    lookup_clear()
    body = outcome_message("O-7", "EVT-7", 3)
    body["outcomeList"][1].update(outcome="NON_RESPONSIVE", participationStartDateTime=None)
    fake = FakeDacs()
    message = run(derms_client, fake, body, django_capture_on_commit_callbacks)
    (call,) = fake.of("postEventOutcome")
    assert [e["nicId"] for e in call["postOutcomeList"]] == [nic(1), nic(3)]
    (ack,) = fake.of("event_outcome_ack")
    assert ack["failures"] == [
        {
            "recordId": 2,
            "nicId": nic(2),
            "headEndSystem": "ECOBEE",
            "message": "No event outcome translation for 'NON_RESPONSIVE'",
        }
    ]
    assert message.items.get(seq=1).status == Item.Status.ERROR
    lookup_clear()


def test_the_outcome_codes_are_the_contracts_lookups():
    rows = dict(Lookup.objects.filter(kind="event_outcome").values_list("source", "target"))
    assert rows == {
        "PARTICIPATED": "D1SP",
        "CANCELLED": "D1CN",
        "ERROR": "D1ER",
        "OVERRIDDEN": "D1IO",
        "NON_RESPONSIVE": "D1ND",
    }


def test_retrying_the_failed_devices_sends_only_them_and_acknowledges_again(
    derms_client, django_capture_on_commit_callbacks
):
    from hub.messages import message_resubmit

    refused = {nic(2)}
    fake = FakeDacs(post=lambda body, n: posted(body, refused=refused))
    message = run(derms_client, fake, outcome_message("O-8", "EVT-8", 3), django_capture_on_commit_callbacks)
    refused.clear()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            assert message_resubmit(message=message, failed_only=True) == 1
    assert [len(b["postOutcomeList"]) for b in fake.of("postEventOutcome")] == [3, 1]
    assert fake.of("event_outcome_ack")[-1]["postedCount"] == 3
    assert set(DeviceOutcome.objects.values_list("state", flat=True)) == {"POSTED"}


def test_a_device_of_a_known_event_links_to_its_reservation(derms_client, django_capture_on_commit_callbacks):
    reserved = answer(OutboundCall.Outcome.SUCCESS, body={"results": []})
    fake = FakeDacs(post=lambda body, n: posted(body) if "postOutcomeList" in body else reserved)
    run(
        derms_client,
        fake,
        reservation_message("R-9", "EVT-9", 2),
        django_capture_on_commit_callbacks,
        url="/api/v1/derms/device-reservations",
    )
    run(derms_client, fake, outcome_message("O-9", "EVT-9", 2), django_capture_on_commit_callbacks)
    outcome = DeviceOutcome.objects.get(nic_id=nic(2))
    device = EventDevice.objects.get(
        event__event_id=outcome.event_id, nic_id=outcome.nic_id, head_end_system=outcome.head_end_system
    )
    assert (device.state, outcome.state) == ("RESERVED", "POSTED")


def test_discarding_a_message_before_its_preparation_fails_every_device_and_acknowledges_once(
    derms_client, django_capture_on_commit_callbacks
):
    from hub.messages import message_discard

    with django_capture_on_commit_callbacks(execute=False):
        resp = derms_client.post(URL, data=outcome_message("O-10", "EVT-10", 4), format="json")
    message = Message.objects.get(tracking_id=resp.json()["trackingId"])
    fake = FakeDacs()
    with mock.patch("hub.partners.call", autospec=True, side_effect=fake):
        with django_capture_on_commit_callbacks(execute=True):
            message_discard(message=message, reason="Sent by mistake")
    (ack,) = fake.of("event_outcome_ack")
    assert ack["ackType"] == "FAILURE" and (ack["deviceCount"], ack["failedCount"]) == (4, 4)
    assert not fake.of("postEventOutcome")


def test_the_dacs_stand_in_answers_per_device_and_refuses_a_whole_call_for_a_chosen_event(client, settings):
    from hub.simulators.core import knobs_for
    from hub.simulators.models import SimKnobs

    SimKnobs.objects.create(
        partner="DACS", knobs={"latency_ms": 0, "error_ids": [nic(2)], "refuse_events": ["EVT-GONE"]}
    )
    knobs_for("DACS", fresh=True)
    path = "/sim/dacs/rest/apis/cross/service/programEventParticipation/postEventOutcome"

    def entry(event_id, n):
        return {"eventExternalIdentifier": event_id, "nicId": nic(n), "headEndSystem": "ECOBEE", "outcome": "D1SP"}

    two = {"postOutcomeList": [entry("EVT-S", 1), entry("EVT-S", 2)]}
    resp = client.post(path, two, content_type="application/json")
    assert resp.status_code == 200
    assert [(r["nicId"], r["status"], r["message"]) for r in resp.json()["results"]] == [
        (nic(1), "POSTED", None),
        (nic(2), "ERROR", "Device not enrolled"),
    ]
    resp = client.post(path, {"postOutcomeList": [entry("EVT-GONE", 1)]}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["status"] == "VAL-ERROR"
    ack = client.post("/sim/derms/event_outcome_ack", {"messageId": "O-S"}, content_type="application/json")
    assert ack.status_code == 200 and ack.json() == {"status": "OK"}
    knobs_for("DACS", fresh=True)
