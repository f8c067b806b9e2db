"""The error hospital: failed and refused records grouped by flow, partner and error; resubmit or discard a group."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hub.admin.hospital import hospital_groups, whole_groups
from hub.models import Activity, Item, Message
from tests.factories import MessageFactory
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
HOSPITAL = reverse("admin:hospital")
REFUSED = "Program BYOT-X not found"


def refused_enrollment(key: str, n_refused: int = 2) -> Message:
    """A message DACS answered with business errors (messageNumber 11001) for `n_refused` of its requests."""
    message = MessageFactory.create(message_key=key, status=Message.Status.COMPLETED_WITH_ERRORS)
    Item.objects.create(message=message, seq=0, key="1", status=Item.Status.SUCCESS, attempts=1)
    for seq in range(1, n_refused + 1):
        Item.objects.create(
            message=message,
            seq=seq,
            key=str(seq + 1),
            status=Item.Status.ERROR,
            attempts=1,
            message_number=11001,
            last_error=REFUSED,
        )
    return message


@pytest.fixture
def sick():
    """Two messages whose request 2 failed on DACS 503, one whose requests were refused, one discarded."""
    first = failed_enrollment("DRMS-ENR-FAIL-1", nic_ids=("ECB-1", "ECB-2"))
    second = failed_enrollment("DRMS-ENR-FAIL-2", nic_ids=("ECB-3", "ECB-4"))
    refused = refused_enrollment("DRMS-ENR-REFUSED-1")
    gone = failed_enrollment("DRMS-ENR-GONE", nic_ids=("ECB-5", "ECB-6"))
    Message.objects.filter(pk=gone.pk).update(status=Message.Status.DISCARDED)
    return {"first": first, "second": second, "refused": refused}


@pytest.fixture
def support(client):
    client.force_login(console_user("Support"))
    return client


def group_url(action: str, **group) -> str:
    from urllib.parse import urlencode

    return f"{HOSPITAL}?{urlencode({'action': action, **group})}"


FAILURE_GROUP = {"flow": "enrollment_requests", "status": "FAILURE", "code": "", "error": "HTTP 503: down"}
ERROR_GROUP = {"flow": "enrollment_requests", "status": "ERROR", "code": "11001", "error": REFUSED}


def test_it_groups_failed_and_refused_records_in_one_query(sick):
    old = timezone.now() - timedelta(days=2)
    Item.objects.filter(message=sick["first"], status=Item.Status.FAILURE).update(updated_at=old)
    with CaptureQueriesContext(connection) as ctx:
        groups = hospital_groups()
    assert len([q for q in ctx.captured_queries if '"hub_item"' in q["sql"]]) == 1
    by_status = {group.status: group for group in groups}
    assert set(by_status) == {"FAILURE", "ERROR"}  # the discarded message's failure is not listed
    failure, error = by_status["FAILURE"], by_status["ERROR"]
    assert (failure.flow, failure.partner, failure.code, failure.error) == (
        "enrollment_requests",
        "DACS",
        None,
        "HTTP 503: down",
    )
    assert failure.records == 2 and failure.messages == 2
    assert failure.last_seen is not None
    assert failure.first_seen == old and failure.last_seen > old
    assert (error.code, error.error, error.records, error.messages) == (11001, REFUSED, 2, 1)
    assert groups[0].status == "ERROR"  # the most recently seen first


def test_it_shows_the_groups_to_business_users_without_actions(client, sick):
    client.force_login(console_user("Business users"))
    page = client.get(HOSPITAL).content.decode()
    assert "HTTP 503: down" in page and REFUSED in page and "11001" in page
    assert "Technical failure" in page and "Business error" in page
    assert "Open records" in page and "Resubmit…" not in page and "Discard…" not in page
    assert client.get(group_url("resubmit", **FAILURE_GROUP)).status_code == 403
    assert client.post(HOSPITAL, {"action": "discard", **FAILURE_GROUP, "reason": "x"}).status_code == 403
    assert Message.objects.get(pk=sick["first"].pk).status == Message.Status.FAILED


def test_it_opens_a_groups_records_in_the_messages_list(support, sick):
    failure = next(group for group in hospital_groups() if group.status == "FAILURE")
    page = support.get(failure.records_url())
    assert page.status_code == 200
    shown = {message.pk for message in page.context["cl"].result_list}
    assert shown == {sick["first"].pk, sick["second"].pk}


def test_it_resubmits_a_group_of_failures_after_confirmation(support, sick):
    confirm = support.get(group_url("resubmit", **FAILURE_GROUP)).content.decode()
    assert "The failed records of 2 messages will be sent again" in confirm
    assert "business-warning" not in confirm
    assert Message.objects.get(pk=sick["first"].pk).status == Message.Status.FAILED  # nothing done yet

    response = support.post(HOSPITAL, {"action": "resubmit", **FAILURE_GROUP, "reason": "DACS is back"}, follow=True)
    assert "Resubmit 2 messages of the group: queued." in response.content.decode()
    for name in ("first", "second"):
        message = Message.objects.get(pk=sick[name].pk)
        assert message.status == Message.Status.QUEUED
        assert set(message.items.values_list("status", flat=True)) == {"SUCCESS", "PENDING"}
        entry = Activity.objects.filter(message=message, kind="retry_failed").get()
        assert entry.actor is not None
        assert entry.actor.username == "support" and "DACS is back" in entry.text
    assert Message.objects.get(pk=sick["refused"].pk).status == Message.Status.COMPLETED_WITH_ERRORS
    assert "HTTP 503: down" not in support.get(HOSPITAL).content.decode()


def test_it_warns_that_business_errors_failed_on_the_partners_rules(support, sick):
    confirm = support.get(group_url("resubmit", **ERROR_GROUP)).content.decode()
    assert 'id="business-warning"' in confirm
    assert "failed on the partner's rules" in confirm and "DACS refused them (a business error)" in confirm

    unconfirmed = support.post(HOSPITAL, {"action": "resubmit", **ERROR_GROUP})
    assert unconfirmed.status_code == 200 and "This field is required." in unconfirmed.content.decode()
    assert Message.objects.get(pk=sick["refused"].pk).status == Message.Status.COMPLETED_WITH_ERRORS

    support.post(HOSPITAL, {"action": "resubmit", **ERROR_GROUP, "understood": "on", "reason": "program fixed"})
    refused = Message.objects.get(pk=sick["refused"].pk)
    assert refused.status == Message.Status.QUEUED
    assert sorted(refused.items.values_list("status", flat=True)) == ["PENDING", "PENDING", "SUCCESS"]


def test_it_discards_a_group_only_with_a_reason(support, sick):
    without = support.post(HOSPITAL, {"action": "discard", **FAILURE_GROUP, "reason": ""})
    assert without.status_code == 200 and "This field is required." in without.content.decode()
    assert Message.objects.get(pk=sick["first"].pk).status == Message.Status.FAILED

    support.post(HOSPITAL, {"action": "discard", **FAILURE_GROUP, "reason": "customer left"})
    for name in ("first", "second"):
        message = Message.objects.get(pk=sick[name].pk)
        assert message.status == Message.Status.DISCARDED and "customer left" in message.last_error
    assert [group.status for group in hospital_groups()] == ["ERROR"]


def test_it_says_which_messages_of_a_group_it_skips_and_why(support, sick):
    Message.objects.filter(pk=sick["second"].pk).update(status=Message.Status.PROCESSING)
    confirm = support.get(group_url("resubmit", **FAILURE_GROUP)).content.decode()
    assert "The failed records of 1 message will be sent again" in confirm
    assert "1 message skipped: it is being processed." in confirm
    response = support.post(HOSPITAL, {"action": "resubmit", **FAILURE_GROUP}, follow=True).content.decode()
    assert "Resubmit 1 message of the group: queued. Skipped: 1 message because it is being processed." in response
    assert Message.objects.get(pk=sick["second"].pk).status == Message.Status.PROCESSING


def test_it_refuses_a_malformed_group(support):
    assert support.get(group_url("resubmit", **{**FAILURE_GROUP, "flow": "nope"})).status_code == 404
    assert support.get(group_url("resubmit", **{**FAILURE_GROUP, "status": "SUCCESS"})).status_code == 404
    assert support.get(group_url("explode", **FAILURE_GROUP)).status_code == 404


def test_it_is_linked_from_the_console_index(support):
    assert HOSPITAL in support.get(reverse("admin:index")).content.decode()


def test_it_shows_the_last_30_days_unless_asked_for_more(support, sick):
    Item.objects.filter(message=sick["refused"]).update(updated_at=timezone.now() - timedelta(days=40))
    assert [group.status for group in hospital_groups()] == ["FAILURE"]
    older = hospital_groups(days=90)
    assert {group.status for group in older} == {"FAILURE", "ERROR"}
    assert REFUSED not in support.get(HOSPITAL).content.decode()
    assert REFUSED in support.get(HOSPITAL, {"days": 90}).content.decode()
    error = next(group for group in older if group.status == "ERROR")
    shown = support.get(error.records_url()).context["cl"].result_list
    assert [message.pk for message in shown] == [sick["refused"].pk]
    confirm = support.get(group_url("discard", **ERROR_GROUP)).content.decode()  # 30 days: none of them
    assert "0 messages will be discarded" in confirm


# --- messages that failed as a whole -------------------------------------------------------
def crashed_enrollment(key: str, error: str = "Stopped after 8 runs ended in an error: KeyError: 'program'") -> Message:
    """A message FAILED with no failed record: its runs kept ending in an error before anything was sent."""
    message = MessageFactory.create(
        message_key=key, status=Message.Status.FAILED, last_error=error, finished_at=timezone.now(), crashes=8
    )
    Item.objects.create(message=message, seq=0, key="1", status=Item.Status.PENDING)
    return message


def test_it_lists_messages_that_failed_with_no_failed_record_grouped_by_flow_and_error(support, sick):
    first, second = crashed_enrollment("DRMS-ENR-CRASH-1"), crashed_enrollment("DRMS-ENR-CRASH-2")
    unreplied = MessageFactory.create(
        message_key="DRMS-ENR-NOREPLY", status=Message.Status.FAILED, reply_status=Message.Reply.FAILED
    )
    Item.objects.create(message=unreplied, seq=0, key="1", status=Item.Status.SUCCESS)
    old = crashed_enrollment("DRMS-ENR-CRASH-OLD")
    Message.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=40))

    groups = {group.error: group for group in whole_groups()}
    assert set(groups) == {first.last_error, "The reply could not be delivered"}  # sick's failures have records
    crashed = groups[first.last_error]
    assert (crashed.flow, crashed.status, crashed.messages, crashed.partner) == (
        "enrollment_requests",
        "FAILED",
        2,
        "DACS",
    )
    page = support.get(HOSPITAL).content.decode()
    section = page[page.index('id="hospital-whole"') :]
    assert "KeyError: &#x27;program&#x27;" in section and "The reply could not be delivered" in section
    assert ">Failed<" in section and "Resubmit…" in section
    assert "HTTP 503: down" not in section  # a failed record's message is in the groups above, not here

    shown = support.get(crashed.records_url()).context["cl"].result_list
    assert {message.pk for message in shown} == {first.pk, second.pk}
    older = {(group.error, group.messages) for group in whole_groups(days=90)}
    assert older == {(first.last_error, 3), ("The reply could not be delivered", 1)}


def test_it_resubmits_messages_that_failed_as_a_whole_as_whole_messages(support):
    crashed = crashed_enrollment("DRMS-ENR-CRASH-3")
    group = {"flow": "enrollment_requests", "status": "FAILED", "code": "", "error": crashed.last_error}
    confirm = support.get(group_url("resubmit", **group)).content.decode()
    assert "1 message will be sent again as a whole (1 record)" in confirm
    assert "business-warning" not in confirm
    support.post(HOSPITAL, {"action": "resubmit", **group, "reason": "program lookup added"})
    crashed.refresh_from_db()
    assert crashed.status == Message.Status.QUEUED
    entry = Activity.objects.get(message=crashed, kind="resubmitted")
    assert "program lookup added" in entry.text
    assert whole_groups() == []
