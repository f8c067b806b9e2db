"""Flow 7 end to end: DERMS → hub → DACS stand-in → hub → DERMS stand-in, all real processes."""

import pytest

from flows.event_outcomes.samples import multipart_body, nic, outcome_csv, outcome_header

pytestmark = pytest.mark.e2e


def post_csv(hub, header, csv_bytes):
    return hub.post_body("derms/event-outcomes", *multipart_body(header, csv_bytes))


def outcome_states(hub, event_id):
    code = (
        "from django.db.models import Count;"
        "from flows.event_outcomes.models import DeviceOutcome;"
        f"rows = DeviceOutcome.objects.filter(event_id='{event_id}').values_list('state').annotate(n=Count('id'));"
        "print(dict(rows.order_by()))"
    )
    return hub.manage("shell", "--no-imports", "-c", code).stdout.strip()


def test_dacs_down_at_first_then_3000_outcomes_as_csv_with_a_refused_device(hub):
    hub.knobs("DACS", down=True, error_ids=[nic(77)])
    resp = post_csv(hub, outcome_header("E2E-OUT-1", "EVT-E2E-OUT-1"), outcome_csv(3000))
    assert resp.status_code == 202, resp.text
    assert resp.json()["deviceCount"] == 3000
    hub.wait_for(lambda: len(hub.records("DACS", endpoint="healthCheck")) >= 2, what="health checks while down")
    assert hub.records("DACS", endpoint="postEventOutcome") == []
    hub.knobs("DACS", down=False)
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["status"] == "COMPLETED_WITH_ERRORS" and status["items"] == {"SUCCESS": 2999, "ERROR": 1}
    (ack,) = [r["body"] for r in hub.records("DERMS", endpoint="event_outcome_ack", key="E2E-OUT-1")]
    assert ack["ackType"] == "ERROR" and (ack["deviceCount"], ack["postedCount"], ack["failedCount"]) == (3000, 2999, 1)
    assert ack["eventId"] == "EVT-E2E-OUT-1"
    assert ack["failures"] == [
        {"recordId": 77, "nicId": nic(77), "headEndSystem": "ECOBEE", "message": "Device not enrolled"}
    ]
    calls = hub.records("DACS", endpoint="postEventOutcome")
    assert all(c["status"] == 200 for c in calls) and len(calls) == 6
    entries = [e for c in calls for e in c["body"]["postOutcomeList"]]
    assert sorted(e["nicId"] for e in entries) == sorted(nic(i) for i in range(1, 3001))
    by_nic = {e["nicId"]: e for e in entries}
    assert by_nic[nic(10)]["outcome"] == "D1ND" and by_nic[nic(10)]["errorMessage"] == "No telemetry during the event"
    assert by_nic[nic(11)]["outcome"] == "D1SP" and by_nic[nic(11)]["participationEndDateTime"].endswith("Z")
    assert outcome_states(hub, "EVT-E2E-OUT-1") == "{'ERROR': 1, 'POSTED': 2999}"
    hub.wait_for(lambda: len(hub.emails()) == 2, timeout=60, what="the business and technical emails")
    # A long subject is folded onto two lines in the file.
    mails = {m["To"]: " ".join(m["Subject"].split()) for m in hub.emails()}
    assert mails["programs@utility.example"].endswith("EVT-E2E-OUT-1: ERROR")
    assert "Event outcome errors" in mails["ops@utility.example"]
