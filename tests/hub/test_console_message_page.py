"""The message page: payload, validation errors, items by status and page, calls, timeline, related messages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hub.admin import detail
from hub.admin.search import link_sources, messages_linked_to
from hub.models import Activity, Item, Message
from tests.factories import MessageFactory
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client):
    user = console_user("Business users")
    client.force_login(user)
    return client


def page(client, message: Message, **params) -> str:
    response = client.get(reverse("admin:hub_message_change", args=[message.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_payload_pretty_printed_and_the_calls(reader):
    message = failed_enrollment()
    html = page(reader, message)
    assert "&quot;messageId&quot;: &quot;DRMS-ENR-FAIL-1&quot;,\n  &quot;drmsInstanceId&quot;" in html
    assert "http://dacs/enroll" in html and "HTTP 503: down" in html
    assert "&quot;enrollmentId&quot;: &quot;E-1001&quot;" in html  # the response, pretty-printed
    assert "[redacted]" in html  # stored headers, already without secrets


def test_it_shows_validation_errors_of_a_rejected_message(reader):
    rejected = MessageFactory.create(
        status=Message.Status.REJECTED,
        accepted_key=None,
        raw_body=b"{not json",
        errors={"enrollmentRequests[3].locationInfo.cisPremiseId": ["This field is required."]},
    )
    html = page(reader, rejected)
    assert 'id="validation-errors"' in html
    assert "enrollmentRequests[3].locationInfo.cisPremiseId" in html and "This field is required." in html
    assert "{not json" in html  # not JSON: shown as it came


def test_it_cuts_a_very_large_payload():
    text, cut = detail.payload_text(b"x" * (detail.PAYLOAD_SHOWN + 10))
    assert cut and len(text) == detail.PAYLOAD_SHOWN


def test_it_pages_items_and_filters_them_by_status(reader):
    message = MessageFactory.create(status=Message.Status.COMPLETED_WITH_ERRORS)
    Item.objects.bulk_create(
        Item(message=message, seq=n, key=f"REQ-{n:03d}", status=Item.Status.ERROR if n % 10 == 0 else "SUCCESS")
        for n in range(120)
    )
    first = page(reader, message)
    assert "REQ-000" in first and "REQ-049" in first and "REQ-050" not in first
    assert "page 1 of 3 (120 items)" in first
    assert "REQ-050" in page(reader, message, item_page=2)
    errors = page(reader, message, item_status="ERROR")
    assert "Business error (12)" in errors and "REQ-010" in errors and "REQ-011" not in errors
    assert "Succeeded (108)" in errors


def test_it_shows_the_timeline_with_who_did_what(reader):
    message = failed_enrollment()
    support = console_user("Support")
    Activity.objects.create(message=message, kind="resubmitted", actor=support, text="2 item(s) reopened. fixed")
    html = page(reader, message)
    timeline = html[html.index('id="timeline"') :]
    assert "accepted" in timeline and "finished" in timeline
    assert "resubmitted" in timeline and "support" in timeline and "fixed" in timeline
    assert ">hub<" in timeline  # what the hub did itself


def test_it_links_related_and_duplicate_messages_both_ways(reader):
    check = MessageFactory.create(flow="device_status", message_key="CD-000987")
    answer = MessageFactory.create(flow="device_status_responses", message_key="CD-000987", related=check)
    copy = MessageFactory.create(message_key="CD-000987-COPY", status=Message.Status.DUPLICATE, duplicate_of=check)
    html = page(reader, check)
    section = html[html.index('id="related"') : html.index('id="items"')]
    for other in (answer, copy):
        assert reverse("admin:hub_message_change", args=[other.pk]) in section
    back = page(reader, answer)
    assert reverse("admin:hub_message_change", args=[check.pk]) in back[back.index('id="related"') :]


def test_it_finds_messages_tied_together_by_a_flows_own_rows():
    message = MessageFactory.create()
    # Every discovered path is a valid query; with no such rows nothing is linked.
    for model, paths in link_sources():
        for path in paths:
            assert not model._default_manager.filter(**{path: message.pk}).exists()
    assert messages_linked_to(message.pk) == set()


def test_it_never_offers_to_edit_or_add_a_message(client):
    client.force_login(console_user("super"))
    message = failed_enrollment()
    html = page(client, message)
    assert 'name="_save"' not in html
    assert client.get(reverse("admin:hub_message_add")).status_code == 403
