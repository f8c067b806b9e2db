"""Resubmit, retry failed items, discard: registered, permission-checked, confirmed, done, recorded."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import RequestFactory
from django.urls import reverse

from hub.models import Activity, Item, Message
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
LIST = reverse("admin:hub_message_changelist")
BULK = ["resubmit_selected", "retry_failed_selected", "discard_selected"]


@pytest.fixture
def support(client):
    user = console_user("Support")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def business(client):
    client.force_login(console_user("Business users"))
    return client


@pytest.fixture
def message():
    return failed_enrollment()


def single_url(message: Message, name: str) -> str:
    return reverse(f"admin:hub_message_{name}", args=[message.pk])


def statuses(message: Message) -> list[str]:
    return list(message.items.order_by("seq").values_list("status", flat=True))


# --- registration and permissions ------------------------------------------------
def test_it_registers_every_bulk_action_for_support_and_none_for_business_users():
    model_admin = admin.site._registry[Message]
    request = RequestFactory().get(LIST)
    request.user = console_user("Support")
    assert set(BULK) <= set(model_admin.get_actions(request))
    request.user = console_user("Business users")
    assert not set(BULK) & set(model_admin.get_actions(request))


@pytest.mark.parametrize("name", ["resubmit", "retry_failed", "discard"])
def test_it_refuses_a_single_action_to_business_users(business, message, name):
    assert business.get(single_url(message, name)).status_code == 403
    assert business.post(single_url(message, name), {"reason": "no"}).status_code == 403
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert not message.activities.exclude(kind__in=["accepted", "finished"]).exists()


@pytest.mark.parametrize("action", BULK)
def test_it_refuses_a_bulk_action_to_business_users(business, message, action):
    response = business.post(
        LIST, {"action": action, ACTION_CHECKBOX_NAME: [message.pk], "confirmed": "yes", "reason": "no"}
    )
    assert response.status_code in (200, 302)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert statuses(message) == ["SUCCESS", "FAILURE"]


def test_it_hides_the_action_buttons_from_business_users(business, message):
    page = business.get(reverse("admin:hub_message_change", args=[message.pk])).content
    assert b"action-resubmit" not in page and b"action-discard" not in page


# --- single actions from the message page ---------------------------------------
def test_it_asks_before_resubmitting_then_resubmits_and_records_who(support, message):
    page = support.get(reverse("admin:hub_message_change", args=[message.pk])).content
    assert b'id="action-resubmit"' in page and b'id="action-retry-failed"' in page
    confirm = support.get(single_url(message, "resubmit"))
    assert confirm.status_code == 200
    assert b"1 of 1 selected message can be resubmitted" in confirm.content
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED  # nothing happens before confirmation

    response = support.post(single_url(message, "resubmit"), {"reason": "DACS is back"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert statuses(message) == ["PENDING", "PENDING"]
    entry = message.activities.get(kind="resubmitted")
    assert entry.actor == support.user and "DACS is back" in entry.text and "2 item(s)" in entry.text
    timeline = support.get(reverse("admin:hub_message_change", args=[message.pk])).content.decode()
    assert "resubmitted" in timeline and "support" in timeline and "DACS is back" in timeline


def test_it_retries_only_the_failed_items(support, message):
    assert b"1 of 1 selected message can be retried" in support.get(single_url(message, "retry_failed")).content
    support.post(single_url(message, "retry_failed"), {"reason": ""})
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert statuses(message) == ["SUCCESS", "PENDING"]
    assert message.activities.get(kind="retry_failed").actor == support.user


def test_it_wants_a_reason_to_discard(support, message):
    response = support.post(single_url(message, "discard"), {"reason": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED

    support.post(single_url(message, "discard"), {"reason": "sent again by DERMS as DRMS-ENR-2"})
    message.refresh_from_db()
    assert message.status == Message.Status.DISCARDED
    entry = message.activities.get(kind="discarded")
    assert entry.actor == support.user and entry.text == "sent again by DERMS as DRMS-ENR-2"


def test_it_says_when_a_message_cannot_be_resubmitted(support):
    busy = failed_enrollment("DRMS-ENR-BUSY")
    Message.objects.filter(pk=busy.pk).update(status=Message.Status.PROCESSING)
    confirm = support.get(single_url(busy, "resubmit"))
    assert b"0 of 1 selected message can be resubmitted" in confirm.content
    response = support.post(single_url(busy, "resubmit"), {"reason": ""}, follow=True)
    assert b"cannot be" in response.content
    busy.refresh_from_db()
    assert busy.status == Message.Status.PROCESSING


# --- bulk actions from the list, queued as tasks ----------------------------------
@pytest.fixture
def three(message):
    others = [failed_enrollment(f"DRMS-ENR-FAIL-{n}", nic_ids=(f"ECB-95000{n}", f"ECB-96000{n}")) for n in (2, 3)]
    busy = failed_enrollment("DRMS-ENR-BUSY", nic_ids=("ECB-970001",))
    Message.objects.filter(pk=busy.pk).update(status=Message.Status.PROCESSING)
    return [message, *others, busy]


def post_bulk(client, action: str, messages: list[Message], **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [m.pk for m in messages], "index": 0, **extra}
    return client.post(LIST, data)


@pytest.mark.parametrize(
    ("action", "kind", "items_after"),
    [
        ("resubmit_selected", "resubmitted", ["PENDING", "PENDING"]),
        ("retry_failed_selected", "retry_failed", ["SUCCESS", "PENDING"]),
        ("discard_selected", "discarded", ["SUCCESS", "FAILURE"]),
    ],
)
def test_it_confirms_then_queues_a_bulk_action(support, three, action, kind, items_after):
    confirm = post_bulk(support, action, three)
    assert confirm.status_code == 200
    assert b"3 of 4 selected messages can be" in confirm.content or b"4 of 4" in confirm.content
    assert all(m.status == "FAILED" for m in Message.objects.filter(pk__in=[m.pk for m in three[:3]]))

    response = post_bulk(support, action, three, confirmed="yes", reason="bulk fix")
    assert response.status_code == 302
    notice = [str(m) for m in support.get(LIST).context["messages"]]
    # Tasks run inline here: the notice says where they left the messages.
    if kind == "discarded":
        assert "4 message(s) discarded; now 4 Discarded." in notice, notice
    else:
        past = "retried" if kind == "retry_failed" else kind
        assert f"3 message(s) {past}; now 3 Queued. Skipped: 1 Processing, as it is being processed." in notice
    for message in three[:3]:
        message.refresh_from_db()
        assert message.status == (Message.Status.DISCARDED if kind == "discarded" else Message.Status.QUEUED)
        assert statuses(message) == items_after
        entry = Activity.objects.get(message=message, kind=kind)
        assert entry.actor == support.user and "bulk fix" in entry.text
    busy = three[3]
    busy.refresh_from_db()
    if kind == "discarded":
        assert busy.status == Message.Status.DISCARDED
        assert list(busy.items.values_list("status", flat=True)) == [Item.Status.SUCCESS]
    else:
        assert busy.status == Message.Status.PROCESSING
        assert not Activity.objects.filter(message=busy, kind=kind).exists()


def test_it_keeps_the_selection_across_the_confirmation_page(support, three):
    confirm = post_bulk(support, "discard_selected", three).content.decode()
    for message in three:
        assert f'name="_selected_action" value="{message.pk}"' in confirm
    assert 'name="action" value="discard_selected"' in confirm


def test_it_refuses_a_bulk_selection_over_the_limit(support, three, monkeypatch):
    from hub.admin import actions

    monkeypatch.setattr(actions, "BULK_LIMIT", 2)
    confirm = post_bulk(support, "resubmit_selected", three)
    assert b"More than 2 messages" in confirm.content and b"disabled" in confirm.content
    post_bulk(support, "resubmit_selected", three, confirmed="yes")
    assert not Activity.objects.filter(kind="resubmitted").exists()
    assert Message.objects.get(pk=three[0].pk).status == Message.Status.FAILED
