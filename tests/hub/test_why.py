"""Why at a glance: one line of reason per message, and statuses as coloured badges with readable names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.models import Item, Message, Notification, OutboundCall
from hub.why import LABELS, WHY_FIELDS, messages_why, next_step, status_badge, status_label
from tests.factories import MessageFactory
from tests.hub.test_admin_data import console_user, failed_enrollment
from tests.hub.test_hospital import refused_enrollment

pytestmark = pytest.mark.django_db


def why_of(message: Message):
    return messages_why([Message.objects.only(*WHY_FIELDS).get(pk=message.pk)])[message.pk]


def retrying(key: str = "DRMS-ENR-RETRY-1", *, attempts: int = 2, in_minutes: int = 5) -> Message:
    """A queued message whose request 2 DACS answered 503 twice; the next attempt is due in `in_minutes`."""
    message = MessageFactory.create(message_key=key, status=Message.Status.QUEUED)
    Item.objects.create(message=message, seq=0, key="1", status=Item.Status.SUCCESS, attempts=1)
    item = Item.objects.create(
        message=message,
        seq=1,
        key="2",
        status=Item.Status.RETRY,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(minutes=in_minutes),
        last_error="Service temporarily unavailable",
    )
    for _ in range(attempts):
        OutboundCall.objects.create(
            message=message,
            item=item,
            partner="DACS",
            operation="enroll",
            method="POST",
            url="http://dacs/enroll",
            response_status=503,
            outcome="TECHNICAL",
            error="Service temporarily unavailable",
            started_at=timezone.now(),
        )
    return message


def test_it_says_a_retrying_message_is_retrying_with_the_attempt_the_time_and_the_error(settings):
    settings.RETRY_ATTEMPTS = 8
    message = retrying()
    due = timezone.localtime(message.items.get(seq=1).next_attempt_at)
    why = why_of(message)
    assert (why.label, why.tone) == ("Retrying", "warn")
    assert why.text == f"Retrying: attempt 3 of 8, next at {due:%H:%M} — DACS 503 Service temporarily unavailable"
    assert ">Retrying<" in why.badge() and 'title="QUEUED"' in why.badge()


def test_it_says_how_a_failed_message_failed():
    why = why_of(failed_enrollment())
    assert (why.label, why.tone) == ("Failed", "bad")
    assert why.text == "1 of 2 items failed after 8 attempts — DACS 503 down"
    assert why.counts == {"SUCCESS": 1, "FAILURE": 1} and why.total == 2


def test_it_says_the_partner_refused_records_with_its_code():
    why = why_of(refused_enrollment("DRMS-ENR-REFUSED-9"))
    assert (why.label, why.tone) == ("Completed with errors", "warn")
    assert why.text == "2 of 3 items refused by DACS 11001 — Program BYOT-X not found"


def test_it_says_why_a_message_was_rejected():
    rejected = MessageFactory.create(
        status=Message.Status.REJECTED,
        accepted_key=None,
        http_status=400,
        errors={
            "error": "validation_failed",
            "message": "enrollmentRequests[3].locationInfo.cisPremiseId: This field is required.",
            "details": {"enrollmentRequests[3].locationInfo.cisPremiseId": ["This field is required."]},
        },
    )
    why = why_of(rejected)
    assert why.text == "Rejected (400): enrollmentRequests[3].locationInfo.cisPremiseId: This field is required."
    assert "correct the message and send it again" in next_step(rejected, why)


def test_it_says_a_reply_is_being_retried_with_the_last_calls_error(settings):
    settings.RETRY_ATTEMPTS = 8
    message = MessageFactory.create(
        status=Message.Status.PROCESSING,
        reply_status=Message.Reply.RETRY,
        reply_attempts=1,
        next_attempt_at=timezone.now() + timedelta(minutes=1),
    )
    Item.objects.create(message=message, seq=0, key="1", status=Item.Status.SUCCESS)
    OutboundCall.objects.create(
        message=message,
        partner="DERMS",
        operation="enrollment_response",
        method="POST",
        url="http://derms/enrollment_response",
        response_status=502,
        outcome="TECHNICAL",
        error="HTTP 502: bad gateway",
        started_at=timezone.now(),
    )
    why = why_of(message)
    assert why.label == "Retrying"
    assert why.text.startswith("Retrying the reply to DERMS: attempt 2 of 8, next at ")
    assert why.text.endswith("— 502 bad gateway")


def test_it_gives_the_discard_reason_and_nothing_for_a_success():
    discarded = MessageFactory.create(status=Message.Status.DISCARDED, last_error="Discarded: customer moved")
    assert why_of(discarded).text == "Discarded: customer moved"
    done = MessageFactory.create(status=Message.Status.COMPLETED)
    Item.objects.create(message=done, seq=0, key="1", status=Item.Status.SUCCESS)
    why = why_of(done)
    assert (why.text, why.label, why.tone) == ("", "Completed", "ok")


def test_it_reads_a_page_of_reasons_in_a_few_queries_whatever_the_messages():
    def queries(messages: list[Message]) -> int:
        loaded = list(Message.objects.filter(pk__in=[m.pk for m in messages]).only(*WHY_FIELDS))
        with CaptureQueriesContext(connection) as ctx:
            reasons = messages_why(loaded)
        assert set(reasons) == {m.pk for m in messages}
        return len(ctx.captured_queries)

    few = [failed_enrollment("DRMS-ENR-FAIL-A"), retrying("DRMS-ENR-RETRY-A")]
    many = few + [failed_enrollment(f"DRMS-ENR-FAIL-{n}", nic_ids=(f"A{n}", f"B{n}")) for n in range(10)]
    many += [retrying(f"DRMS-ENR-RETRY-{n}") for n in range(10)]
    assert queries(few) == queries(many) <= 6


def test_it_names_every_status_readably_and_colours_it():
    for enum in (Message.Status, Item.Status, Message.Reply, OutboundCall.Outcome):
        for value in enum.values:
            assert value in LABELS, value
            assert "_" not in status_label(value) and status_label(value) != value
    badge = status_badge("COMPLETED_WITH_ERRORS")
    assert ">Completed with errors<" in badge and 'title="COMPLETED_WITH_ERRORS"' in badge and "#a15c00" in badge
    assert status_label("SOME_NEW_STATE") == "Some new state"


def test_the_messages_list_says_retrying_instead_of_queued(client, settings):
    settings.RETRY_ATTEMPTS = 8
    retrying()
    client.force_login(console_user("Business users"))
    page = client.get(reverse("admin:hub_message_changelist")).content.decode()
    row = page[page.index("<tbody>") : page.index("</tbody>")]
    assert ">Retrying<" in row and ">Queued<" not in row
    assert "Retrying: attempt 3 of 8, next at " in row and "DACS 503 Service temporarily unavailable" in row


def test_the_message_page_gives_the_next_attempt_of_a_retrying_record(client, settings):
    settings.RETRY_ATTEMPTS = 8
    message = retrying()
    due = timezone.localtime(message.items.get(seq=1).next_attempt_at)
    client.force_login(console_user("Business users"))
    html = client.get(reverse("admin:hub_message_change", args=[message.pk])).content.decode()
    field = html[html.index("field-next_attempt") :][:600]
    assert f"{due:%-I:%M}" in field or f"{due:%H:%M}" in field
    assert html.index('id="summary"') < html.index("field-next_attempt")
    summary = html[html.index('id="summary"') : html.index("field-tracking_id")]
    assert "Retrying: attempt 3 of 8, next at" in summary and "Nothing to do yet" in summary


def sidebar(page: str) -> str:
    return page[page.index('id="changelist-filter"') :]


@pytest.mark.parametrize("name", ["message", "item", "notification"])
def test_every_lists_status_filter_names_statuses_readably_as_badges(client, name):
    client.force_login(console_user("Business users"))
    page = sidebar(client.get(reverse(f"admin:hub_{name}_changelist")).content.decode())
    shown = {"message": "Completed with errors", "item": "Technical failure", "notification": "Retrying"}[name]
    raw = {"message": "COMPLETED_WITH_ERRORS", "item": "FAILURE", "notification": "RETRY"}[name]
    assert f'title="{raw}"' in page and f">{shown}<" in page and 'class="status-badge"' in page
    assert f">{raw}<" not in page and ">Completed With Errors<" not in page


def test_the_items_list_gives_each_record_a_badge_and_why(client, settings):
    settings.RETRY_ATTEMPTS = 8
    retrying()
    failed_enrollment()
    refused_enrollment("DRMS-ENR-REFUSED-8")
    client.force_login(console_user("Business users"))
    page = client.get(reverse("admin:hub_item_changelist")).content.decode()
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert ">Retrying<" in rows and ">Technical failure<" in rows and ">Business error<" in rows
    assert "Retrying: attempt 3 of 8, next at " in rows and "DACS 503 Service temporarily unavailable" in rows
    assert "Failed after 8 attempts — DACS 503 down" in rows
    assert "Refused by DACS 11001 — Program BYOT-X not found" in rows
    only_failed = client.get(reverse("admin:hub_item_changelist"), {"status": "FAILURE"}).context["cl"].result_list
    assert [item.status for item in only_failed] == ["FAILURE"]


def test_the_emails_list_gives_each_email_a_badge_and_why(client, settings):
    settings.RETRY_ATTEMPTS = 8
    now = timezone.now()
    Notification.objects.create(kind="technical_error", subject="Sent one", status=Notification.Status.SENT)
    Notification.objects.create(
        kind="technical_error",
        subject="Given up",
        status=Notification.Status.FAILED,
        attempts=8,
        error="SMTPAuthenticationError: (535, 'bad credentials')",
    )
    Notification.objects.create(
        kind="technical_error",
        subject="Still trying",
        status=Notification.Status.RETRY,
        attempts=2,
        next_attempt_at=now + timedelta(minutes=3),
        error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    client.force_login(console_user("Business users"))
    page = client.get(reverse("admin:hub_notification_changelist")).content.decode()
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert ">Sent<" in rows and ">Failed<" in rows and ">Retrying<" in rows
    assert "Failed after 8 attempts — last error: SMTPAuthenticationError" in rows
    due = timezone.localtime(now + timedelta(minutes=3))
    assert (
        f"Retrying (2 of 8 attempts failed), next attempt at {due:%H:%M} — last error: SMTPServerDisconnected" in rows
    )
