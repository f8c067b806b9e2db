"""Flow 2 end to end: DACS → hub → DERMS stand-in, which answers later → hub → DACS stand-in."""

import pytest

from flows.device_status.samples import status_check, status_response

pytestmark = pytest.mark.e2e


def unfinished(hub) -> int:
    code = "from hub.models import Message; print(Message.objects.filter(status__in=Message.UNFINISHED).count())"
    return int(hub.manage("shell", "-c", code).stdout.split()[-1])


def updates_at_dacs(hub) -> list[dict]:
    return [r["body"]["responseDetail"] for r in hub.records("DACS", endpoint="status_response")]


def test_two_hundred_checks_each_answered_once_and_paired(hub):
    offline = {f"ECB-E2E-{i:04d}" for i in range(0, 200, 25)}
    hub.knobs("DERMS", status_delay_ms=200, offline_ids=sorted(offline))
    nic_of = {}
    for i in range(200):
        check_id, nic_id = f"E2E-CD-{i:04d}", f"ECB-E2E-{i:04d}"
        nic_of[check_id] = nic_id
        resp = hub.post("dacs/device-status-checks", status_check(check_id, nic_id), system="DACS")
        assert resp.status_code == 202, resp.text
    hub.wait_for(lambda: len(updates_at_dacs(hub)) >= 200, timeout=300, what="200 DACS status updates")
    hub.wait_for(lambda: unfinished(hub) == 0, timeout=120, every=1, what="the hub to be idle")
    updates = updates_at_dacs(hub)
    assert sorted(u["transactionId"] for u in updates) == sorted(nic_of), "each check updated exactly once"
    for update in updates:
        expected = "FAILURE" if nic_of[update["transactionId"]] in offline else "SUCCESS"
        assert update["result"]["status"] == expected
    forwarded = hub.records("DERMS", endpoint="status_check")
    assert sorted(r["key"] for r in forwarded) == sorted(nic_of)
    assert all(r["body"]["deviceInfo"]["nicId"] == nic_of[r["key"]] for r in forwarded)


def test_responses_that_overtake_the_forward_are_paired(hub):
    hub.knobs("DERMS", status_before_ack=True)
    for i in range(10):
        assert hub.post("dacs/device-status-checks", status_check(f"E2E-FAST-{i}"), system="DACS").status_code == 202
    hub.wait_for(lambda: len(updates_at_dacs(hub)) >= 10, timeout=120, what="10 DACS status updates")
    hub.wait_for(lambda: unfinished(hub) == 0, timeout=120, every=1, what="the hub to be idle")
    updates = updates_at_dacs(hub)
    assert sorted(u["transactionId"] for u in updates) == [f"E2E-FAST-{i}" for i in range(10)]
    assert {u["result"]["status"] for u in updates} == {"SUCCESS"}


def test_a_check_times_out_then_its_late_response_is_passed_on(hub_factory):
    hub = hub_factory(STATUS_CHECK_TIMEOUT_S="3")
    hub.knobs("DERMS", silent_ids=["E2E-SILENT"])
    resp = hub.post("dacs/device-status-checks", status_check("E2E-SILENT"), system="DACS")
    assert resp.status_code == 202
    hub.wait_for(lambda: updates_at_dacs(hub), timeout=120, what="the FAILURE sent on timeout")
    (failure,) = updates_at_dacs(hub)
    assert failure["transactionId"] == "E2E-SILENT"
    assert failure["result"] == {"status": "FAILURE", "message": "No response from DERMS within 3 seconds"}
    mails = hub.wait_for(
        lambda: [m for m in hub.emails() if "timed out" in m["Subject"]], timeout=60, what="the timeout email"
    )
    assert len(mails) == 1 and mails[0]["To"] == "ops@utility.example"

    late = hub.post("derms/device-status-responses", status_response("E2E-SILENT"))
    assert late.status_code == 202
    hub.wait_for(lambda: len(updates_at_dacs(hub)) == 2, timeout=120, what="the late response at DACS")
    assert updates_at_dacs(hub)[1]["result"]["status"] == "SUCCESS"
    unknown = hub.post("derms/device-status-responses", status_response("E2E-NEVER-ASKED"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_correlation"
