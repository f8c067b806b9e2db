"""Dashboard, partners page, lookups history and the roles' permissions."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from hub import partners
from hub.dashboard import dashboard
from hub.models import Item, Lookup, Message, OutboundCall
from tests.factories import MessageFactory
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
PARTNERS = reverse("admin:partners")


# --- dashboard -------------------------------------------------------------------
def test_it_counts_per_flow_over_a_day_and_a_week():
    now = timezone.now()
    failed_enrollment()
    week_old = MessageFactory.create(status=Message.Status.COMPLETED)
    Message.objects.filter(pk=week_old.pk).update(received_at=now - timedelta(days=3))
    ancient = MessageFactory.create(status=Message.Status.COMPLETED)
    Message.objects.filter(pk=ancient.pk).update(received_at=now - timedelta(days=9))
    oldest = MessageFactory.create(status=Message.Status.QUEUED)
    Message.objects.filter(pk=oldest.pk).update(received_at=now - timedelta(hours=2))
    MessageFactory.create(status=Message.Status.QUEUED)
    retrying = MessageFactory.create(status=Message.Status.PROCESSING)
    Item.objects.create(message=retrying, seq=0, key="1", status=Item.Status.RETRY)

    figures = dashboard()
    row = next(r for r in figures["flows"] if r["flow"] == "enrollment_requests")
    assert dict(row["day"]) == {"FAILED": 1, "QUEUED": 2, "PROCESSING": 1}
    assert dict(row["week"]) == {"FAILED": 1, "QUEUED": 2, "PROCESSING": 1, "COMPLETED": 1}
    assert row["retrying"] == 1 and figures["items_retrying"] == 1
    assert row["oldest"].pk == oldest.pk
    attention = {m.pk for m in figures["attention"]}
    assert oldest.pk in attention and retrying.pk in attention
    assert Message.objects.get(message_key="DRMS-ENR-FAIL-1").pk in attention
    assert ancient.pk not in attention
    assert [s["schedule"].name for s in figures["schedules"] if s["schedule"].name == "hub sweeper"]


def test_it_shows_every_registered_flow_even_without_messages():
    from hub.registry import FLOWS

    assert {row["flow"] for row in dashboard()["flows"]} >= set(FLOWS)


# --- partners ----------------------------------------------------------------------
@pytest.fixture
def secret_settings(settings):
    settings.PARTNERS = {
        "DACS": {**settings.PARTNERS["DACS"], "username": "hub", "password": "s3cret-dacs-pass"},
        "DERMS": {
            **settings.PARTNERS["DERMS"],
            "auth": "oauth2",
            "client_id": "cid",
            "client_secret": "s3cret-derms-client",
            "token_url": "https://idp/token",
        },
    }
    return settings


def test_it_lists_partners_without_their_secrets(client, secret_settings):
    client.force_login(console_user("Business users"))
    page = client.get(PARTNERS).content.decode()
    assert secret_settings.PARTNERS["DACS"]["base_url"] in page
    assert "oauth2" in page and "basic" in page and "configured" in page
    assert "s3cret" not in page
    assert "Test connection" not in page  # business users only look


def test_it_tests_a_connection_and_shows_the_answer(client, secret_settings):
    client.force_login(console_user("Support"))
    call = OutboundCall.objects.create(
        partner="DACS",
        operation="connection_test",
        method="GET",
        url="x",
        outcome="SUCCESS",
        started_at=timezone.now(),
        duration_ms=7,
    )
    answer = partners.Result(outcome="SUCCESS", status=200, body={"status": "UP"}, error="", call=call)
    with mock.patch("hub.partners.call", autospec=True, return_value=answer) as fake:
        page = client.post(PARTNERS, {"partner": "DACS"}).content.decode()
    fake.assert_called_once_with(
        partners.Operation("DACS", "connection_test", "DACS_TEST_PATH", method="GET"),
        read_timeout=secret_settings.PARTNER_CONNECT_TIMEOUT_S,
    )
    assert fake.call_args.args[0].path == secret_settings.DACS_TEST_PATH
    assert "DACS answered" in page and "SUCCESS" in page and "&quot;UP&quot;" in page and "7 ms" in page
    assert "s3cret" not in page


def test_it_refuses_a_connection_test_to_business_users(client):
    client.force_login(console_user("Business users"))
    with mock.patch("hub.partners.call", autospec=True) as fake:
        assert client.post(PARTNERS, {"partner": "DACS"}).status_code == 403
    fake.assert_not_called()


def test_it_lists_the_partners_page_in_the_app_list(client):
    client.force_login(console_user("Business users"))
    assert PARTNERS.encode() in client.get(reverse("admin:index")).content


# --- lookups and roles ---------------------------------------------------------------
def test_it_lets_support_edit_a_lookup_and_keeps_the_history(client):
    user = console_user("Support")
    client.force_login(user)
    lookup = Lookup.objects.get(kind="asset_type", source="THERMOSTAT")
    url = reverse("admin:hub_lookup_change", args=[lookup.pk])
    response = client.post(url, {"kind": lookup.kind, "source": lookup.source, "target": "X1TX", "description": ""})
    assert response.status_code == 302
    lookup.refresh_from_db()
    assert lookup.target == "X1TX"
    entry = LogEntry.objects.get(object_id=str(lookup.pk))
    assert entry.user == user and "Target" in entry.get_change_message()
    history = client.get(reverse("admin:hub_lookup_history", args=[lookup.pk])).content.decode()
    assert "support" in history and "Changed Target" in history


def test_it_gives_each_group_its_permissions():
    business = set(Group.objects.get(name="Business users").permissions.values_list("codename", flat=True))
    support = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    readable = {"view_message", "view_item", "view_outboundcall", "view_activity", "view_lookup", "view_schedule"}
    assert readable <= business
    assert not {c for c in business if not c.startswith("view_")}
    assert {"resubmit_message", "discard_message", "test_connection", "change_lookup"} <= support
    assert "view_token" not in business | support and "view_user" not in business | support
    assert business <= support


def test_it_lets_business_users_read_every_flows_models():
    from django.apps import apps

    business = Group.objects.get(name="Business users")
    granted = set(business.permissions.values_list("content_type__app_label", "codename"))
    for model in apps.get_models():
        if model.__module__.startswith("flows."):
            assert (model._meta.app_label, f"view_{model._meta.model_name}") in granted, model._meta.label


def test_it_keeps_partner_accounts_out_even_when_staff(client):
    from tests.factories import UserFactory

    partner = UserFactory.create(username="dacs-sys", is_staff=True, is_superuser=True, groups=["DACS"])
    client.force_login(partner)
    assert client.get(reverse("admin:index")).status_code == 302


def test_it_shows_a_partner_that_cannot_be_reached(client, settings):
    client.force_login(console_user("Support"))
    settings.PARTNERS = {**settings.PARTNERS, "DERMS": {**settings.PARTNERS["DERMS"], "base_url": "http://127.0.0.1:9"}}
    page = client.post(PARTNERS, {"partner": "DERMS"}).content.decode()
    assert "DERMS answered" in page and "TECHNICAL" in page and "ConnectionError" in page
    call = OutboundCall.objects.get(operation="connection_test")
    assert call.partner == "DERMS" and call.url.startswith("http://127.0.0.1:9")


# --- the messages list's "needs attention" ----------------------------------------------------
def test_needs_attention_lists_failures_business_errors_retries_and_overdue_messages_only(client, settings):
    settings.CONSOLE_OVERDUE_MIN = 60
    now = timezone.now()
    failed = MessageFactory.create(status=Message.Status.FAILED)
    refused = MessageFactory.create(status=Message.Status.COMPLETED_WITH_ERRORS)
    retrying = MessageFactory.create(status=Message.Status.QUEUED)
    Item.objects.create(message=retrying, seq=0, key="1", status=Item.Status.RETRY)
    replying = MessageFactory.create(status=Message.Status.PROCESSING, reply_status=Message.Reply.RETRY)
    overdue = MessageFactory.create(status=Message.Status.QUEUED)
    Message.objects.filter(pk=overdue.pk).update(received_at=now - timedelta(hours=2))
    MessageFactory.create(status=Message.Status.QUEUED)  # just arrived
    MessageFactory.create(status=Message.Status.COMPLETED)
    old_done = MessageFactory.create(status=Message.Status.COMPLETED)
    Message.objects.filter(pk=old_done.pk).update(received_at=now - timedelta(hours=2))
    MessageFactory.create(status=Message.Status.DISCARDED)
    gone_retrying = MessageFactory.create(status=Message.Status.COMPLETED)  # a stale RETRY row of a finished one
    Item.objects.create(message=gone_retrying, seq=0, key="1", status=Item.Status.RETRY)

    client.force_login(console_user("Business users"))
    shown = client.get(reverse("admin:hub_message_changelist"), {"attention": "any"}).context["cl"]
    assert {m.pk for m in shown.result_list} == {failed.pk, refused.pk, retrying.pk, replying.pk, overdue.pk}
    assert shown.result_count == 5
