"""A message's page that fits: summary first, calls one per collapsed row, validation errors as a table."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from hub.admin.detail import validation_rows
from hub.models import Item, Message, OutboundCall
from tests.factories import MessageFactory
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client):
    client.force_login(console_user("Business users"))
    return client


def page(client, message: Message, **params) -> str:
    response = client.get(reverse("admin:hub_message_change", args=[message.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_opens_on_a_summary_with_why_counts_and_the_next_step(reader):
    html = page(reader, failed_enrollment())
    summary = html[html.index('id="summary"') : html.index('id="summary"') + 4000]
    assert html.index('id="summary"') < html.index("field-tracking_id") < html.index('id="items"')
    assert ">Failed<" in summary
    assert "1 of 2 items failed after 8 attempts — DACS 503 down" in summary
    assert ">Succeeded<" in summary and ">Technical failure<" in summary and "?item_status=FAILURE#items" in summary
    assert "2 calls" in summary and "1 not succeeded" in summary
    assert "retry the failed items" in summary


def test_it_lists_calls_one_per_closed_row_with_seconds(reader):
    message = failed_enrollment()
    html = page(reader, message)
    calls = html[html.index('id="calls"') : html.index('id="timeline"')]
    assert calls.count('<details class="call"') == 2 and "<details open" not in calls
    assert "0.01 s" in calls and "0.03 s" in calls  # 12 ms and 30 ms
    assert ">Technical error<" in calls and "No. 2" in calls  # the item as the partner numbered it
    assert calls.index("0.01 s") < calls.index("0.03 s")  # oldest first


def test_it_shows_only_the_calls_that_did_not_succeed_when_asked(reader):
    message = failed_enrollment()
    html = page(reader, message, calls="failed")
    calls = html[html.index('id="calls"') : html.index('id="timeline"')]
    assert calls.count('<details class="call"') == 1 and "HTTP 503: down" in calls and "E-1001" not in calls
    assert 'id="calls-failed-only" class="selected"' in calls


def test_it_numbers_items_as_the_partner_numbered_them(reader):
    message = MessageFactory.create(status=Message.Status.COMPLETED)
    for seq, record_id in enumerate(("1001", "1002")):
        Item.objects.create(message=message, seq=seq, key=record_id, status=Item.Status.SUCCESS)
    html = page(reader, message)
    items = html[html.index('id="items"') : html.index('id="calls"')]
    first = reverse("admin:hub_item_change", args=[message.items.get(key="1001").pk])
    assert f'<a href="{first}">1001</a>' in items and ">0</a>" not in items


def test_it_shows_validation_errors_as_a_field_and_error_table(reader):
    rejected = MessageFactory.create(
        status=Message.Status.REJECTED,
        accepted_key=None,
        http_status=400,
        errors={
            "trackingId": "x",
            "error": "validation_failed",
            "message": "enrollmentRequests[3].locationInfo.cisPremiseId: This field is required.",
            "details": {
                "enrollmentRequests[3].locationInfo.cisPremiseId": ["This field is required."],
                "messageId": ["Ensure this field has no more than 100 characters.", "Not unique."],
            },
        },
    )
    html = page(reader, rejected)
    table = html[html.index('id="validation-errors"') : html.index("</table>", html.index('id="validation-errors"'))]
    assert "<th>Field</th><th>Error</th>" in table
    assert "<code>enrollmentRequests[3].locationInfo.cisPremiseId</code></td><td>This field is required." in table
    assert table.count("<code>messageId</code>") == 2
    assert "correct the message and send it again" in html


def test_it_reads_errors_in_every_shape_they_were_kept():
    assert validation_rows(None) == []
    assert validation_rows({"a.b": ["bad"]}) == [("a.b", "bad")]
    assert validation_rows({"error": "not_answered", "message": "No answer.", "details": {}}) == [("", "No answer.")]


def test_it_keeps_the_page_short_for_many_calls(reader):
    message = failed_enrollment()
    item = message.items.get(seq=1)
    OutboundCall.objects.bulk_create(
        OutboundCall(
            message=message,
            item=item,
            partner="DACS",
            operation="enroll",
            method="POST",
            url="http://dacs/enroll",
            request_body='{"big": "' + "x" * 2000 + '"}',
            response_status=503,
            outcome="TECHNICAL",
            error="HTTP 503: down",
            started_at=timezone.now(),
            duration_ms=1500,
        )
        for _ in range(30)
    )
    html = page(reader, message)
    calls = html[html.index('id="calls"') : html.index('id="timeline"')]
    assert calls.count('<details class="call"') == 20  # a page of calls, each closed
    assert "page 1 of 2" in calls and "1.50 s" in calls


def test_it_says_why_for_each_related_message(reader):
    failed = failed_enrollment()
    copy = MessageFactory.create(
        message_key="DRMS-ENR-FAIL-1-COPY", status=Message.Status.DUPLICATE, duplicate_of=failed
    )
    html = page(reader, copy)
    related = html[html.index('id="related"') : html.index('id="items"')]
    assert ">Failed<" in related and "1 of 2 items failed after 8 attempts — DACS 503 down" in related
