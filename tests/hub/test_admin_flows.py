"""Every flow's own pages open with real rows in them: one message of each flow through the real pipeline
(partners answer at the chokepoint), a score transfer from a local folder, then every page of every flow app."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib import admin
from django.urls import reverse

from flows.customer_unavailability.samples import unavailability
from flows.enrollment_requests.samples import enrollment_message
from flows.enrollment_sync.samples import sync_request
from flows.event_opt_outs.samples import opt_out
from flows.event_outcomes.samples import outcome_message
from flows.event_status.samples import status_update
from flows.headend_registrations.samples import registration_device, registration_message
from hub import partners
from hub.models import Message
from hub.registry import FLOWS
from tests.hub.test_admin_data import console_user

pytestmark = pytest.mark.django_db

EVENT = {
    "eventId": "EVT-SMOKE-1",
    "eventType": "ECONOMIC",
    "programCode": "BYOT-SUMMER",
    "eventStartDateTime": "2036-12-01T22:00:00Z",
    "eventEndDateTime": "2036-12-02T00:00:00Z",
}
# One body per flow, from the contract, in an order where answers follow what they answer.
SAMPLES = {
    "enrollment_requests": ("DERMS", lambda: enrollment_message("SMOKE-ENR-1", 2)),
    "device_status_checks": (
        "DACS",
        lambda: {
            "sendDetails": {"communicationId": "CD-SMOKE-1"},
            "deviceInfo": {
                "division": "NORTH",
                "deviceType": "THERMOSTAT",
                "specification": "ECOBEE!SMART-PREMIUM",
                "headEndSystem": "ECOBEE",
                "nicId": "ECB-SMOKE-1",
            },
            "reason": "TROUBLESHOOTING",
        },
    ),
    "device_status_responses": (
        "DERMS",
        lambda: {
            "dacsMessageId": "CD-SMOKE-1",
            "responseCode": "SUCCESS",
            "responseTimeISO": "2026-11-26T10:02:11Z",
            "nicId": "ECB-SMOKE-1",
            "message": "Device communicating",
        },
    ),
    "enrollment_syncs": (
        "DACS",
        lambda: sync_request("SYNC-SMOKE-1", nic_id="ECB-SMOKE-2"),
    ),
    "enrollment_sync_acks": ("DERMS", lambda: {"dacsMessageId": "SYNC-SMOKE-1", "ackType": "SUCCESS"}),
    "device_reservations": (
        "DERMS",
        lambda: {
            "messageId": "DRMS-RSV-SMOKE-1",
            "drmsInstanceId": "DERMS-PROD",
            **EVENT,
            "deviceList": [
                {
                    "recordId": n,
                    "nicId": f"ECB-SMOKE-R{n}",
                    "headEndSystemId": "ECOBEE",
                    "reservationStartDateTime": None,
                    "reservationEndDateTime": None,
                }
                for n in (1, 2)
            ],
        },
    ),
    "event_cancellations": (
        "DERMS",
        lambda: {
            "messageId": "DRMS-CNL-SMOKE-1",
            "drmsInstanceId": "DERMS-PROD",
            "eventId": "EVT-SMOKE-1",
            "cancellationMessageText": "Forecast load below threshold",
        },
    ),
    "event_status_updates": (
        "DERMS",
        lambda: status_update(
            "DRMS-EVS-SMOKE-1", "EVT-SMOKE-2", start="2036-12-01T22:00:00Z", end="2036-12-02T00:00:00Z"
        ),
    ),
    "event_opt_outs": ("DACS", lambda: opt_out("OPT-SMOKE-1", "EVT-SMOKE-1", "ECB-SMOKE-R1")),
    "customer_unavailability": ("DACS", lambda: unavailability("UNAV-SMOKE-1", "UNAV-SMOKE-1")),
    "headend_registrations": (
        "DERMS",
        lambda: registration_message("HER-SMOKE-1", "SYNC-SMOKE-1", [registration_device("ECB-SMOKE-2")]),
    ),
    "event_outcomes": ("DERMS", lambda: outcome_message("DRMS-OUT-SMOKE-1", "EVT-SMOKE-1", 2)),
}
# A partner that accepts everything, in the shapes the contract gives (DERMS answers a forward at once).
ANSWER = {"status": "SUCCESS", "ackType": "SUCCESS", "enrollmentId": "E-SMOKE", "results": [], "message": "ok"}


def partner_answers(op, **kwargs):
    return partners.Result(outcome="SUCCESS", status=200, body=dict(ANSWER), error="", call=None)


@pytest.fixture
def flows_filled(derms_client, dacs_client, django_capture_on_commit_callbacks, settings, tmp_path):
    clients = {"DERMS": derms_client, "DACS": dacs_client}
    with mock.patch("hub.partners.call", autospec=True, side_effect=partner_answers):
        for name, (system, body) in SAMPLES.items():
            with django_capture_on_commit_callbacks(execute=True):
                response = clients[system].post(f"/api/v1/{FLOWS[name].path}", body(), format="json")
            assert response.status_code in (200, 202), (name, response.status_code, response.content[:300])
        score_transfer(settings, tmp_path)
    return Message.objects.count()


def score_transfer(settings, tmp_path) -> None:
    """One transfer run from a local folder: a file with a wrong header is refused without sending anything."""
    try:
        from flows.device_scores.models import ScoreRun
        from flows.device_scores.transfer import transfer_run
    except ImportError:
        return
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "SDCSE_smoke.csv").write_text("not,the,header\n1,2,3\n")
    settings.SCORE_SOURCE_URL = f"file://{inbox}"
    settings.SCORE_MIN_AGE_S = 0
    transfer_run(trigger=ScoreRun.Trigger.COMMAND)


def test_every_flow_has_a_sample_here():
    assert set(SAMPLES) == set(FLOWS), "add a sample body for each new flow"


def test_every_flow_page_opens_with_rows(client, flows_filled):
    client.force_login(console_user("super"))
    flow_admins = [(m, a) for m, a in admin.site._registry.items() if m.__module__.startswith("flows.")]
    empty = []
    for model, _ in flow_admins:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        assert client.get(reverse(f"{base}_changelist")).status_code == 200, opts.label
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            empty.append(opts.label)
            continue
        assert client.get(reverse(f"{base}_change", args=[obj.pk])).status_code == 200, opts.label
    assert not empty, f"no rows made for {empty}: extend the samples"


def test_every_flow_message_page_opens_and_is_found_by_its_key(client, flows_filled):
    client.force_login(console_user("Business users"))
    for message in Message.objects.all():
        assert client.get(reverse("admin:hub_message_change", args=[message.pk])).status_code == 200
        if message.message_key:
            listed = client.get(reverse("admin:hub_message_changelist"), {"q": message.message_key})
            assert message.pk in [m.pk for m in listed.context["cl"].result_list], message.message_key


def test_a_flow_message_page_links_the_flows_own_records(client, flows_filled):
    client.force_login(console_user("Business users"))
    linked = set()
    for message in Message.objects.exclude(flow="enrollment_requests"):
        html = client.get(reverse("admin:hub_message_change", args=[message.pk])).content.decode()
        if 'id="flow-records"' in html:
            linked.add(message.flow)
            section = html[html.index('id="flow-records"') :]
            assert "/admin/" in section[: section.index("</table>")]
    assert {"device_status_checks", "device_status_responses", "enrollment_syncs", "device_reservations"} <= linked


def test_the_dashboard_counts_every_flow(client, flows_filled):
    client.force_login(console_user("Business users"))
    html = client.get(reverse("admin:index")).content.decode()
    for name in FLOWS:
        assert f"?flow={name}" in html
    records = html[html.index('id="dashboard-records"') : html.index('id="dashboard-schedules"')]
    assert "Device status checks" in records and "answered by DERMS" in records
    assert "Program events" in records and "Score files" in records


def test_every_filter_choice_of_every_list_opens(client, flows_filled):
    client.force_login(console_user("super"))
    opened = 0
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, model._meta.label
        changelist = response.context["cl"]
        for spec in changelist.filter_specs:
            for choice in spec.choices(changelist):
                filtered = client.get(url + choice["query_string"])
                assert filtered.status_code == 200, (model._meta.label, choice["query_string"])
                opened += 1
    assert opened > 20
