"""Flow 10 end to end: a reservation (flow 5) puts devices in an event, then DACS → hub → DERMS stand-in opt-outs."""

import json

import pytest

from flows.device_reservations.samples import nic, reservation_message
from flows.event_opt_outs.samples import NOT_IN_EVENT, opt_out

pytestmark = pytest.mark.e2e


def device_states(hub, event_id) -> dict[str, str]:
    code = (
        "from flows.device_reservations.models import EventDevice;"
        "import json;"
        f"rows = EventDevice.objects.filter(event__event_id='{event_id}').values_list('nic_id', 'state');"
        "print(json.dumps(dict(rows)))"
    )
    return json.loads(hub.manage("shell", "--no-imports", "-c", code).stdout.strip())


def test_opt_outs_reach_derms_and_a_refused_one_is_emailed(hub):
    hub.knobs("DERMS", error_ids=[nic(3)])
    resp = hub.post("derms/device-reservations", reservation_message("E2E-RSV-OPT", "EVT-E2E-OPT", 4))
    assert hub.wait_finished(resp.json()["trackingId"])["status"] == "COMPLETED"

    tracking = {}
    for n in (1, 3):
        resp = hub.post("dacs/event-opt-outs", opt_out(f"E2E-OPT-{n}", "EVT-E2E-OPT", nic(n)), system="DACS")
        assert resp.status_code == 202, resp.text
        tracking[n] = resp.json()["trackingId"]
    assert hub.wait_finished(tracking[1], system="DACS")["status"] == "COMPLETED"
    assert hub.wait_finished(tracking[3], system="DACS")["status"] == "COMPLETED_WITH_ERRORS"
    states = device_states(hub, "EVT-E2E-OPT")
    assert states == {nic(1): "OPTED_OUT", nic(2): "RESERVED", nic(3): "RESERVED", nic(4): "RESERVED"}
    sent = {r["key"]: r for r in hub.records("DERMS", endpoint="event_opt_out")}
    assert set(sent) == {"E2E-OPT-1", "E2E-OPT-3"}
    assert sent["E2E-OPT-1"]["body"]["dacsMessageId"] == "E2E-OPT-1" and "optOutId" not in sent["E2E-OPT-1"]["body"]
    assert sent["E2E-OPT-3"]["answer"] == {"ackType": "ERROR", "message": NOT_IN_EVENT}
    mails = hub.wait_for(
        lambda: [m for m in hub.emails() if "Opt-out E2E-OPT-3" in m["Subject"]], timeout=60, what="the business email"
    )
    assert (
        len(mails) == 1
        and NOT_IN_EVENT in mails[0].get_payload()[0].get_payload()
        and mails[0]["To"] == "programs@utility.example"
    )


def test_an_opt_out_of_a_started_event_is_refused_and_derms_down_then_up_is_retried(hub):
    code = (
        "from datetime import timedelta; from django.utils import timezone;"
        "from flows.device_reservations.models import ProgramEvent;"
        "now = timezone.now();"
        "ProgramEvent.objects.create(event_id='EVT-E2E-GONE', event_type='ECONOMIC',"
        " start=now - timedelta(minutes=1), end=now + timedelta(hours=1))"
    )
    hub.manage("shell", "--no-imports", "-c", code)
    resp = hub.post("dacs/event-opt-outs", opt_out("E2E-OPT-LATE", "EVT-E2E-GONE"), system="DACS")
    assert resp.status_code == 409 and resp.json()["error"] == "event_started"
    assert hub.message(resp.json()["trackingId"], system="DACS")["status"] == "REJECTED"

    hub.knobs("DERMS", fail_times=2)
    resp = hub.post("dacs/event-opt-outs", opt_out("E2E-OPT-FLAKY", "EVT-E2E-ELSEWHERE"), system="DACS")
    assert hub.wait_finished(resp.json()["trackingId"], system="DACS")["status"] == "COMPLETED"
    assert [r["status"] for r in hub.records("DERMS", endpoint="event_opt_out")] == [503, 503, 200]
    assert hub.records("DERMS", endpoint="event_opt_out", key="E2E-OPT-LATE") == []
