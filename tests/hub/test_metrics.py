"""/metrics: Prometheus text computed from the database, behind METRICS_TOKEN when set."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from hub.models import Item, Message, Notification, OutboundCall
from tests.factories import EnrollmentItemFactory, MessageFactory

pytestmark = pytest.mark.django_db


def samples(client, **headers) -> dict[tuple, float]:
    resp = client.get("/metrics", **headers)
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.content.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def call(partner: str, outcome: str, duration_ms: int, operation: str = "enroll") -> OutboundCall:
    return OutboundCall.objects.create(
        partner=partner,
        operation=operation,
        method="POST",
        url="http://x/",
        outcome=outcome,
        started_at=timezone.now(),
        duration_ms=duration_ms,
    )


def test_it_asks_for_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "metrics-token-1"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token metrics-token-1").status_code == 401
    resp = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    assert resp["WWW-Authenticate"].startswith("Bearer")
    assert samples(client, HTTP_AUTHORIZATION="Bearer metrics-token-1")


def test_it_is_open_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert samples(client)


def test_it_counts_messages_by_flow_and_status_and_items_by_status(client):
    done = MessageFactory.create(status=Message.Status.COMPLETED)
    MessageFactory.create_batch(2, status=Message.Status.REJECTED, accepted_key=None)
    EnrollmentItemFactory.create_batch(3, message=done, status=Item.Status.SUCCESS)
    EnrollmentItemFactory.create(message=done, status=Item.Status.ERROR)
    got = samples(client)
    flow = ("flow", "enrollment_requests")
    assert got[("hub_messages_received_total", (flow,))] == 3
    assert got[("hub_messages", (flow, ("status", "REJECTED")))] == 2
    assert got[("hub_messages", (flow, ("status", "COMPLETED")))] == 1
    assert got[("hub_items", (flow, ("status", "SUCCESS")))] == 3
    assert got[("hub_items", (flow, ("status", "ERROR")))] == 1


def test_it_counts_emails_by_kind_and_status(client):
    for kind, status in [("technical_error", "RETRY"), ("technical_error", "RETRY"), ("score_complete", "SENT")]:
        Notification.objects.create(kind=kind, subject="s", recipients=["ops@utility.example"], status=status)
    got = samples(client)
    assert got[("hub_emails", (("kind", "technical_error"), ("status", "RETRY")))] == 2
    assert got[("hub_emails", (("kind", "score_complete"), ("status", "SENT")))] == 1


def test_it_shows_queue_depth_and_the_oldest_unfinished_message(client):
    old = MessageFactory.create(status=Message.Status.QUEUED)
    Message.objects.filter(id=old.id).update(received_at=timezone.now() - timedelta(minutes=10))
    MessageFactory.create(status=Message.Status.PROCESSING)
    MessageFactory.create(status=Message.Status.COMPLETED)
    got = samples(client)
    flow = (("flow", "enrollment_requests"),)
    assert got[("hub_queue_depth", flow)] == 2
    assert 600 <= got[("hub_queue_oldest_age_seconds", flow)] < 700
    assert ("hub_broker_queued_tasks", ()) in got


def test_it_counts_partner_calls_and_their_latency(client):
    call("DACS", OutboundCall.Outcome.SUCCESS, 40)
    call("DACS", OutboundCall.Outcome.SUCCESS, 300)
    call("DACS", OutboundCall.Outcome.TECHNICAL, 5000)
    call("DERMS", OutboundCall.Outcome.SUCCESS, 20, operation="enrollment_response")
    got = samples(client)
    dacs = ("partner", "DACS")
    assert got[("hub_partner_calls_total", (("operation", "enroll"), ("outcome", "SUCCESS"), dacs))] == 2
    assert got[("hub_partner_calls_total", (("operation", "enroll"), ("outcome", "TECHNICAL"), dacs))] == 1
    assert got[("hub_partner_call_duration_seconds_bucket", (("le", "0.05"), dacs))] == 1
    assert got[("hub_partner_call_duration_seconds_bucket", (("le", "0.5"), dacs))] == 2
    assert got[("hub_partner_call_duration_seconds_bucket", (("le", "5.0"), dacs))] == 3
    assert got[("hub_partner_call_duration_seconds_bucket", (("le", "+Inf"), dacs))] == 3
    assert got[("hub_partner_call_duration_seconds_count", (dacs,))] == 3
    assert got[("hub_partner_call_duration_seconds_sum", (dacs,))] == pytest.approx(5.34)


def test_the_figures_come_from_the_database_so_every_process_agrees(client):
    before = samples(client)
    MessageFactory.create(status=Message.Status.QUEUED)
    after = samples(client)
    key = ("hub_queue_depth", (("flow", "enrollment_requests"),))
    assert before.get(key, 0) + 1 == after[key]
