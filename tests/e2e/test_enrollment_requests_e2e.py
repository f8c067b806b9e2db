"""Flow 1 end to end: DERMS → hub → DACS stand-in → hub → DERMS stand-in, all real processes."""

import pytest

from flows.enrollment_requests.samples import enrollment_message

pytestmark = pytest.mark.e2e


def responses_at_derms(hub, message_id):
    return [r["body"] for r in hub.records("DERMS", endpoint="enrollment_response", key=message_id)]


def test_a_thousand_requests_with_business_and_transient_errors(hub):
    refused = {i: "BYOT-X" for i in range(1, 1001) if i % 10 == 0}
    hub.knobs("DACS", failure_rate=0.05, error_ids=["BYOT-X"])
    resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-1000", 1000, refused=refused))
    assert resp.status_code == 202, resp.text
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["status"] == "COMPLETED_WITH_ERRORS"
    assert status["items"] == {"SUCCESS": 900, "ERROR": 100}
    hub.wait_for(lambda: responses_at_derms(hub, "E2E-1000"), what="the overall response")
    (reply,) = responses_at_derms(hub, "E2E-1000")
    assert reply["ackType"] == "ERROR"
    codes = {r["requestId"]: r["responseCode"] for r in reply["responses"]}
    assert len(codes) == 1000
    assert sorted(k for k, v in codes.items() if v == "ERROR") == sorted(str(i) for i in refused)
    assert list(codes.values()).count("SUCCESS") == 900
    errors = [r for r in reply["responses"] if r["responseCode"] == "ERROR"]
    assert all(r["messageNumber"] == 11001 and r["message"] == "Program BYOT-X not found" for r in errors)
    # Transient 503s were retried: some calls failed, every request still got its answer.
    calls = hub.records("DACS", endpoint="enroll")
    assert any(c["status"] == 503 for c in calls)
    assert {c["key"] for c in calls} == {f"E2E-1000:{i}" for i in range(1, 1001)}


def test_dacs_down_for_the_whole_window_then_resubmitted(hub_factory):
    hub = hub_factory(RETRY_ATTEMPTS="3")
    hub.knobs("DACS", down=True)
    resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-DOWN", 5))
    tracking_id = resp.json()["trackingId"]
    status = hub.wait_finished(tracking_id)
    assert status["status"] == "FAILED" and status["items"] == {"FAILURE": 5}
    (reply,) = responses_at_derms(hub, "E2E-DOWN")
    assert reply["ackType"] == "FAILURE"
    assert {r["responseCode"] for r in reply["responses"]} == {"FAILURE"}
    mails = hub.wait_for(hub.emails, timeout=60, what="the technical email")  # sent by its own task
    assert len(mails) == 1 and "Technical failure" in mails[0]["Subject"]
    assert mails[0]["To"] == "ops@utility.example"

    hub.knobs("DACS", down=False)
    hub.manage("reprocess", "--ids", tracking_id, "--reason", "DACS is back")
    hub.wait_for(lambda: len(responses_at_derms(hub, "E2E-DOWN")) == 2, what="the second response")
    assert hub.wait_finished(tracking_id)["status"] == "COMPLETED"
    second = responses_at_derms(hub, "E2E-DOWN")[1]
    assert second["ackType"] == "SUCCESS"
    assert {r["responseCode"] for r in second["responses"]} == {"SUCCESS"}
    assert all(r["enrollmentId"] for r in second["responses"])


def test_a_worker_killed_mid_collection_is_taken_back(hub_factory):
    hub = hub_factory(STALE_AFTER_S="3", HEARTBEAT_S="0.5", PARTNER_CONCURRENCY="4")
    hub.knobs("DACS", latency_ms=20)
    resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-KILL", 400))
    tracking_id = resp.json()["trackingId"]
    hub.wait_for(lambda: len(hub.records("DACS", endpoint="enroll")) >= 50, what="the collection to be under way")
    hub.kill_worker()
    before = hub.message(tracking_id)
    assert before["status"] == "PROCESSING"
    assert before["items"].get("PENDING", 0) > 0
    hub.start_worker()
    status = hub.wait_finished(tracking_id)
    assert status["status"] == "COMPLETED" and status["items"] == {"SUCCESS": 400}
    (reply,) = responses_at_derms(hub, "E2E-KILL")
    assert len(reply["responses"]) == 400 and reply["ackType"] == "SUCCESS"
    enrolled = {c["key"] for c in hub.records("DACS", endpoint="enroll")}
    assert enrolled == {f"E2E-KILL:{i}" for i in range(1, 401)}
