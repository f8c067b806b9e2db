"""Flow 11 end to end: DACS → hub → DERMS stand-in, messages about one period kept in order through retries."""

import json

import pytest

from flows.customer_unavailability.samples import UNKNOWN_DEVICE, unavailability
from tests.e2e.test_device_status_e2e import unfinished

pytestmark = pytest.mark.e2e
STEPS = [
    ("ADD", "2026-12-20T00:00:00Z", "2027-01-03T00:00:00Z"),
    ("UPDATE", "2026-12-22T00:00:00Z", "2027-01-05T00:00:00Z"),
    ("CANCEL", None, None),
]


def periods(hub) -> dict:
    code = (
        "import json; from flows.customer_unavailability.models import UnavailabilityPeriod as P;"
        "print(json.dumps({p.unavailability_id: [p.last_action, p.cancelled, p.end.isoformat() if p.end else None]"
        " for p in P.objects.all()}))"
    )
    return json.loads(hub.manage("shell", "--no-imports", "-c", code).stdout.strip())


def test_each_periods_messages_reach_derms_in_order_through_retries(hub_factory):
    # No retry is waited for inside a task: each one hands its message back, and the lock with it.
    hub = hub_factory(RETRY_HOLD_S="0")
    hub.knobs("DERMS", fail_times=2, error_ids=["ECB-E2E-REFUSED"])
    for n, (action, start, end) in enumerate(STEPS):
        for p in range(5):
            body = unavailability(f"E2E-UM-{p}-{n}", f"E2E-U-{p}", action, nic_id=f"ECB-E2E-{p}", start=start, end=end)
            resp = hub.post("dacs/customer-unavailability", body, system="DACS")
            assert resp.status_code == 202, resp.text
    refused = unavailability("E2E-UM-R", "E2E-U-R", nic_id="ECB-E2E-REFUSED")
    assert hub.post("dacs/customer-unavailability", refused, system="DACS").status_code == 202
    hub.wait_for(lambda: unfinished(hub) == 0, timeout=240, every=1, what="the hub to be idle")

    calls = hub.records("DERMS", endpoint="customer_unavailability")
    for p in range(5):
        mine = [(r["key"], r["status"]) for r in calls if r["body"]["unavailabilityId"] == f"E2E-U-{p}"]
        assert mine == [(f"E2E-UM-{p}-{n}", status) for n in range(3) for status in (503, 503, 200)], mine
    kept = periods(hub)
    for p in range(5):
        assert kept[f"E2E-U-{p}"] == ["CANCEL", True, "2027-01-05T00:00:00+00:00"]
    assert "E2E-U-R" not in kept, "DERMS refused it"
    mails = hub.wait_for(
        lambda: [m for m in hub.emails() if "E2E-U-R" in m["Subject"]], timeout=60, what="the business email"
    )
    assert len(mails) == 1 and UNKNOWN_DEVICE in mails[0].get_payload()[0].get_payload()
