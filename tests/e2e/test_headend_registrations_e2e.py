"""Flow 9 end to end: DERMS → hub → DACS stand-in, on its own endpoint and inside a flow 3 acknowledgement."""

import json

import pytest

from flows.enrollment_sync.samples import sync_ack, sync_request
from flows.headend_registrations.samples import registration_devices, registration_message
from tests.e2e.test_device_status_e2e import unfinished

pytestmark = pytest.mark.e2e


def registrations(hub) -> dict:
    code = (
        "import json; from flows.headend_registrations.models import DeviceRegistration as R;"
        "print(json.dumps(dict(R.objects.values_list('nic_id', 'registration'))))"
    )
    return json.loads(hub.manage("shell", "--no-imports", "-c", code).stdout.strip())


def test_registrations_reach_dacs_in_collections_from_both_paths(hub):
    hub.knobs("DERMS", sync_ack="later", silent_ids=["E2E-SYNC-REG"])
    hub.knobs("DACS", error_ids=["ECB-R01100"], fail_times=1)
    assert hub.post("dacs/enrollment-syncs", sync_request("E2E-SYNC-REG"), system="DACS").status_code == 202

    unknown = hub.post("derms/headend-registrations", registration_message("E2E-HER-0", "E2E-SYNC-NOPE"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_correlation"

    devices = registration_devices(1200, not_registered=(7,))
    resp = hub.post("derms/headend-registrations", registration_message("E2E-HER-1", "E2E-SYNC-REG", devices))
    assert resp.status_code == 202 and resp.json()["deviceCount"] == 1200
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["status"] == "COMPLETED_WITH_ERRORS" and status["items"] == {"SUCCESS": 1000, "ERROR": 200}

    hub.wait_for(lambda: hub.records("DERMS", endpoint="enroll"), what="the sync forwarded to DERMS")
    later = registration_devices(2)
    later[1]["registration"] = "DEREGISTERED"
    resp = hub.post("derms/enrollment-sync-acks", {**sync_ack("E2E-SYNC-REG"), "devices": later[:2]})
    assert resp.status_code == 202, resp.text
    hub.wait_for(lambda: unfinished(hub) == 0, timeout=120, every=1, what="the hub to be idle")

    calls = hub.records("DACS", endpoint="postAcknowledgement")
    assert all(c["body"]["syncRequestId"] == "E2E-SYNC-REG" for c in calls)
    answered = sorted(
        (
            len(c["body"]["deviceHeadendStatus"]["devices"]),
            c["body"]["deviceHeadendStatus"]["devices"][0]["nicId"],
            c["status"],
            c["body"]["hasError"],
        )
        for c in calls
        if c["status"] != 503
    )
    assert answered == [
        (2, "ECB-R00001", 200, False),
        (200, "ECB-R01001", 400, False),
        (500, "ECB-R00001", 200, True),
        (500, "ECB-R00501", 200, False),
    ]
    retried = sorted(c["body"]["deviceHeadendStatus"]["devices"][0]["nicId"] for c in calls if c["status"] == 503)
    # The stand-in fails the first call per sync and first device: the later two share the first collection's.
    assert retried == ["ECB-R00001", "ECB-R00501", "ECB-R01001"], "each collection sent again whole"
    (later_call,) = [c for c in calls if len(c["body"]["deviceHeadendStatus"]["devices"]) == 2 and c["status"] == 200]
    assert [d["headEndRegistration"] for d in later_call["body"]["deviceHeadendStatus"]["devices"]] == ["D1RE", "D1DR"]
    kept = registrations(hub)
    assert len(kept) == 1200 and kept["ECB-R00007"] == "NOT_REGISTERED" and kept["ECB-R00002"] == "DEREGISTERED"
    sync_acks = hub.records("DACS", endpoint="sync_ack", status=200)
    assert [a["body"]["syncRequestId"] for a in sync_acks] == ["E2E-SYNC-REG"], "flow 3 goes on as before"
    mails = hub.wait_for(
        lambda: [m for m in hub.emails() if "E2E-HER-1" in m["Subject"]], timeout=60, what="the business email"
    )
    assert len(mails) == 1 and "ECB-R01100" in mails[0].get_payload()[0].get_payload()
