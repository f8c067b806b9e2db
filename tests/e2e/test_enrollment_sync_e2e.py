"""Flow 3 end to end: DACS → hub → DERMS stand-in (acknowledging at once or later) → hub → DACS stand-in."""

import zlib

import pytest

from flows.enrollment_sync.samples import UNKNOWN_PERSON, sync_request
from tests.e2e.test_device_status_e2e import unfinished

pytestmark = pytest.mark.e2e


def acks_at_dacs(hub) -> list[dict]:
    return [r["body"] for r in hub.records("DACS", endpoint="sync_ack")]


def test_two_hundred_syncs_half_acknowledged_later_each_acknowledged_once(hub):
    hub.knobs("DERMS", sync_ack="mixed", sync_delay_ms=300)
    unknown = {f"E2E-SYNC-{i:04d}" for i in range(0, 200, 20)}
    for i in range(200):
        sync_id = f"E2E-SYNC-{i:04d}"
        body = sync_request(
            sync_id,
            action="UNENROLL" if i % 3 == 0 else "ENROLL",
            person="P-UNKNOWN" if sync_id in unknown else f"P{i}",
        )
        resp = hub.post("dacs/enrollment-syncs", body, system="DACS")
        assert resp.status_code == 202, resp.text
    hub.wait_for(lambda: len(acks_at_dacs(hub)) >= 200, timeout=300, what="200 acknowledgements at DACS")
    hub.wait_for(lambda: unfinished(hub) == 0, timeout=120, every=1, what="the hub to be idle")
    acks = acks_at_dacs(hub)
    assert sorted(a["syncRequestId"] for a in acks) == [f"E2E-SYNC-{i:04d}" for i in range(200)]
    for ack in acks:
        if ack["syncRequestId"] in unknown:
            assert (ack["status"], ack["message"]) == ("ERROR", UNKNOWN_PERSON)
        else:
            assert ack["status"] == "SUCCESS"
    answers = {r["key"]: r["status"] for r in hub.records("DERMS", endpoint="enroll")}
    later = {k for k, status in answers.items() if status == 202}
    assert later == {f"E2E-SYNC-{i:04d}" for i in range(200) if zlib.crc32(f"E2E-SYNC-{i:04d}".encode()) % 2}
    assert 60 < len(later) < 140, "both DERMS behaviours were exercised"
    posted = hub.records("DERMS", endpoint="enroll")
    assert all("syncRequestId" not in r["body"] and "startDateTimeISO" in r["body"]["subscriptionInfo"] for r in posted)


def test_derms_unreachable_then_recovered_and_unreachable_for_good(hub_factory):
    hub = hub_factory(RETRY_ATTEMPTS="4", RETRY_FIRST_S="0.5", RETRY_MAX_S="1")
    hub.knobs("DERMS", down=True, sync_ack="immediate")
    assert hub.post("dacs/enrollment-syncs", sync_request("E2E-DOWN"), system="DACS").status_code == 202
    hub.wait_for(lambda: acks_at_dacs(hub), timeout=120, what="the FAILURE acknowledgement")
    (failure,) = acks_at_dacs(hub)
    assert failure["syncRequestId"] == "E2E-DOWN" and failure["status"] == "FAILURE"
    mails = hub.wait_for(hub.emails, timeout=60, what="the technical email")
    assert len(mails) == 1 and "Technical failure" in mails[0]["Subject"] and "E2E-DOWN" in mails[0]["Subject"]

    hub.knobs("DERMS", down=False, fail_times=2)
    assert hub.post("dacs/enrollment-syncs", sync_request("E2E-FLAKY"), system="DACS").status_code == 202
    hub.wait_for(lambda: len(acks_at_dacs(hub)) == 2, timeout=120, what="the acknowledgement after retries")
    hub.wait_for(lambda: unfinished(hub) == 0, timeout=120, every=1, what="the hub to be idle")
    assert [(a["syncRequestId"], a["status"]) for a in acks_at_dacs(hub)] == [
        ("E2E-DOWN", "FAILURE"),
        ("E2E-FLAKY", "SUCCESS"),
    ]
    calls = [r["status"] for r in hub.records("DERMS", endpoint="enroll") if r["key"] == "E2E-FLAKY"]
    assert calls[:2] == [503, 503] and calls[2] < 300 and len(calls) == 3, calls
