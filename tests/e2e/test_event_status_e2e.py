"""Flow 8 end to end: DERMS → hub → DACS stand-in → hub → DERMS stand-in, all real processes."""

import pytest

from flows.event_status.samples import status_update

pytestmark = pytest.mark.e2e

T1, T2 = "2026-11-30T18:00:00Z", "2026-12-01T22:00:05Z"


def waited(hub, message_id: str) -> bool:
    """Whether the update's timeline says it waited for an earlier update of its event."""
    code = (
        "from hub.models import Activity;"
        f"print(Activity.objects.filter(message__message_key='{message_id}', kind='waiting').exists())"
    )
    return hub.manage("shell", "--no-imports", "-c", code).stdout.strip() == "True"


def test_two_updates_accepted_back_to_back_reach_a_slow_failing_dacs_in_order(hub_factory):
    # Retries are not waited for inside a task, so the first update is handed back (with the event's lock)
    # for 2 s between its tries and the second is picked up meanwhile; an update that waits is woken by
    # the one before it only (no recheck within the test's time).
    hub = hub_factory(RETRY_HOLD_S="0", RETRY_FIRST_S="2", RETRY_MAX_S="2", EVENT_STATUS_RECHECK_S="600")
    hub.knobs("DACS", latency_ms=400, fail_times=2)
    scheduled = hub.post("derms/event-status-updates", status_update("E2E-EVS-1", "EVT-E2E-8", at=T1))
    started = hub.post("derms/event-status-updates", status_update("E2E-EVS-2", "EVT-E2E-8", "IN_PROGRESS", at=T2))
    assert (scheduled.status_code, started.status_code) == (202, 202), (scheduled.text, started.text)
    assert hub.wait_finished(scheduled.json()["trackingId"])["status"] == "COMPLETED"
    assert hub.wait_finished(started.json()["trackingId"])["status"] == "COMPLETED"

    calls = [(r["endpoint"], r["status"]) for r in hub.records("DACS") if r["endpoint"] != "healthCheck"]
    # Each update was answered 503 twice, then taken; the second went out only after the first was taken.
    assert calls == [("programEvent", 503)] * 2 + [("programEvent", 200)] + [("lifecycle", 503)] * 2 + [
        ("lifecycle", 200)
    ]
    create = hub.records("DACS", endpoint="programEvent", status="200")[0]["body"]
    assert create == {
        "eventExternalIdentifier": "EVT-E2E-8",
        "externalIdentifier": "EVT-E2E-8-S1",
        "programExternalIdentifier": "BYOT-SUMMER",
        "programEventCategory": "X1EC",
        "startDateTime": "2026-12-01T22:00:00Z",
        "endDateTime": "2026-12-02T00:00:00Z",
    }
    lifecycle = hub.records("DACS", endpoint="lifecycle", status="200")[0]["body"]
    assert lifecycle == {"action": "X1IP", "eventExternalIdentifier": "EVT-E2E-8"}
    assert waited(hub, "E2E-EVS-2") and not waited(hub, "E2E-EVS-1")
    acks = [r["body"] for r in hub.records("DERMS", endpoint="event_status_ack")]
    assert [(a["messageId"], a["status"], a["ackType"]) for a in acks] == [
        ("E2E-EVS-1", "SCHEDULED", "SUCCESS"),
        ("E2E-EVS-2", "IN_PROGRESS", "SUCCESS"),
    ]

    # Moving the event back (and with an older statusDateTime) is refused, stored, and nothing is sent.
    stale = hub.post("derms/event-status-updates", status_update("E2E-EVS-3", "EVT-E2E-8", at=T1))
    assert stale.status_code == 409 and stale.json()["error"] == "stale_status", stale.text
    assert hub.message(stale.json()["trackingId"])["status"] == "REJECTED"
    assert len([r for r in hub.records("DACS") if r["endpoint"] != "healthCheck"]) == len(calls)
    hub.wait_for(lambda: len(hub.emails()) == 2, timeout=60, what="the two business emails")
    subjects = sorted(m["Subject"] for m in hub.emails())
    assert subjects == [
        "[DERMS-DACS hub] Event EVT-E2E-8 IN_PROGRESS: SUCCESS",
        "[DERMS-DACS hub] Event EVT-E2E-8 SCHEDULED: SUCCESS",
    ]
