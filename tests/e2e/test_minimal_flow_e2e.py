"""Adding a flow means adding its package: tests/minimal_flow is registered by HUB_EXTRA_APPS alone, receives
a message on its own endpoint, calls its own stand-in through the outbound chokepoint, and completes."""

from tests.e2e.harness import Hub


def test_a_flow_package_from_outside_the_hub_is_registered_receives_calls_and_completes(hub_factory):
    hub: Hub = hub_factory(HUB_EXTRA_APPS="tests.minimal_flow.apps.MinimalFlowConfig")
    refused = hub.post("derms/pings", {"messageId": "PING-0", "pings": []})
    assert refused.status_code == 400 and "pings" in refused.json()["details"]

    resp = hub.post("derms/pings", {"messageId": "PING-1", "pings": ["a", "refuse", "b"]})
    assert resp.status_code == 202, resp.text
    status = hub.wait_finished(resp.json()["trackingId"])
    assert status["flow"] == "minimal_pings"
    assert status["status"] == "COMPLETED_WITH_ERRORS" and status["items"] == {"SUCCESS": 2, "ERROR": 1}
    pings = hub.records("DACS", endpoint="ping")
    assert sorted(r["body"]["ping"] for r in pings) == ["a", "b", "refuse"]
    again = hub.post("derms/pings", {"messageId": "PING-1", "pings": ["a"]}).json()
    assert again["duplicate"] is True and again["trackingId"] == resp.json()["trackingId"]
    assert len(hub.records("DACS", endpoint="ping")) == 3
