"""The console's actions say what truly happened, offer only what applies, and say why not."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django_q.conf import Conf

from hub.admin import actions
from hub.messages import NOT_DISCARDABLE, NOT_RESUBMITTABLE
from hub.models import Activity, Item, Message
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db
LIST = reverse("admin:hub_message_changelist")


@pytest.fixture
def support(client):
    client.force_login(console_user("Support"))
    return client


def page(message: Message) -> str:
    return reverse("admin:hub_message_change", args=[message.pk])


def action_url(message: Message, name: str) -> str:
    return reverse(f"admin:hub_message_{name}", args=[message.pk])


def with_status(message_id: str, status: str) -> Message:
    message = failed_enrollment(message_id, nic_ids=(f"ECB-{abs(hash(message_id)) % 10**6:06d}",))
    Message.objects.filter(pk=message.pk).update(status=status)
    message.refresh_from_db()
    return message


def notices(client) -> list[str]:
    return [str(m) for m in client.get(LIST).context["messages"]]


# --- what the message page offers ------------------------------------------------------------
def test_it_does_not_offer_resubmit_on_a_rejected_message_and_says_why(support):
    rejected = with_status("DRMS-ENR-REJ", Message.Status.REJECTED)
    html = support.get(page(rejected)).content.decode()
    assert 'id="action-resubmit"' not in html and 'id="action-discard"' not in html
    assert f"Resubmit and Retry failed items: not offered, as {NOT_RESUBMITTABLE[Message.Status.REJECTED]}." in html
    assert f"Discard: not offered, as {NOT_DISCARDABLE[Message.Status.REJECTED]}." in html


def test_it_offers_retry_failed_only_when_something_failed(support):
    failed = failed_enrollment()
    assert 'id="action-retry-failed">Retry failed items (1)<' in support.get(page(failed)).content.decode()
    completed = with_status("DRMS-ENR-OK", Message.Status.COMPLETED)
    completed.items.update(status=Item.Status.SUCCESS)
    html = support.get(page(completed)).content.decode()
    assert 'id="action-resubmit"' in html and 'id="action-retry-failed"' not in html
    assert "Retry failed items: not offered" not in html


def test_a_message_in_flight_refreshes_itself_and_a_finished_one_does_not(support):
    queued = with_status("DRMS-ENR-Q", Message.Status.QUEUED)
    html = support.get(page(queued)).content.decode()
    assert f'<meta http-equiv="refresh" content="{actions.REFRESH_S}">' in html and 'id="in-flight"' in html
    assert 'http-equiv="refresh"' not in support.get(page(failed_enrollment())).content.decode()


# --- one message: confirmation and feedback -----------------------------------------------------
def test_its_buttons_read_as_sentences(support):
    message = failed_enrollment()
    resubmit = support.get(action_url(message, "resubmit")).content.decode()
    assert 'value="Resubmit this message"' in resubmit and "Yes," not in resubmit
    retry = support.get(action_url(message, "retry_failed")).content.decode()
    assert 'value="Send the failed items of this message again"' in retry
    assert "Go back without changing anything" in retry


def test_it_says_queued_while_the_message_waits_for_a_worker(support):
    message = failed_enrollment()
    support.post(action_url(message, "resubmit"), {"reason": "DACS is back"})
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED  # the worker has not run
    (notice,) = notices(support)
    assert notice.startswith("Resubmit: queued. 2 item(s) will be sent again by a worker")
    assert "done" not in notice


def test_it_says_done_when_the_message_finished_before_the_page_came_back(support, monkeypatch):
    real = actions.message_resubmit

    def resubmit_and_process(**kwargs):  # as when tasks run inline
        reopened = real(**kwargs)
        Message.objects.filter(pk=kwargs["message"].pk).update(status=Message.Status.COMPLETED)
        return reopened

    monkeypatch.setattr(actions, "message_resubmit", resubmit_and_process)
    message = failed_enrollment()
    support.post(action_url(message, "retry_failed"), {"reason": ""})
    assert notices(support) == ["Retry failed items: done. 1 item(s) sent again; the message is Completed now."]


def test_it_says_why_a_message_cannot_be_resubmitted(support):
    rejected = with_status("DRMS-ENR-REJ", Message.Status.REJECTED)
    confirm = support.get(action_url(rejected, "resubmit")).content.decode()
    assert "It cannot be resubmitted:" in confirm and "It was rejected, so there is nothing to send." in confirm
    assert 'disabled id="confirm-action"' in confirm
    support.post(action_url(rejected, "resubmit"), {"reason": ""})
    assert notices(support) == ["This message cannot be resubmitted: it was rejected, so there is nothing to send."]
    assert not Activity.objects.filter(message=rejected, kind="resubmitted").exists()


def test_discard_says_the_partners_answer_is_queued(support):
    message = failed_enrollment()
    Message.objects.filter(pk=message.pk).update(reply_status=Message.Reply.NONE)
    support.post(action_url(message, "discard"), {"reason": "sent again as DRMS-ENR-2"})
    (notice,) = notices(support)
    assert notice.startswith("Discarded: its open items are FAILURE with your reason")
    assert "FAILURE answer is queued" in notice


# --- business errors: confirmed with the partner's rules in mind ----------------------------------
@pytest.fixture
def refused():
    message = failed_enrollment("DRMS-ENR-BIZ")
    message.items.filter(status=Item.Status.FAILURE).update(
        status=Item.Status.ERROR, last_error="Program BYOT-X is not known"
    )
    message.calls.filter(outcome="TECHNICAL").update(
        outcome="BUSINESS", response_status=400, error="Program BYOT-X is not known"
    )
    Message.objects.filter(pk=message.pk).update(status=Message.Status.COMPLETED_WITH_ERRORS)
    return message


def test_retrying_business_errors_asks_for_confirmation(support, refused):
    confirm = support.get(action_url(refused, "retry_failed")).content.decode()
    assert "1 item ended in a business error:" in confirm
    assert "DACS refused it under its own rules" in confirm and "Program BYOT-X is not known" in confirm

    response = support.post(action_url(refused, "retry_failed"), {"reason": "program fixed"})
    assert response.status_code == 200 and "Tick the box" in response.content.decode()
    assert refused.items.filter(status=Item.Status.ERROR).count() == 1

    support.post(action_url(refused, "retry_failed"), {"reason": "program fixed", "partner_rules": "on"})
    assert refused.items.filter(status=Item.Status.PENDING).count() == 1


def test_a_bulk_retry_of_business_errors_wants_the_box_ticked(support, refused):
    data = {"action": "retry_failed_selected", ACTION_CHECKBOX_NAME: [refused.pk], "index": 0, "confirmed": "yes"}
    response = support.post(LIST, data)
    assert response.status_code == 200 and "Tick the box" in response.content.decode()
    assert not Activity.objects.filter(message=refused, kind="retry_failed").exists()
    support.post(LIST, {**data, "partner_rules": "on"})
    assert Activity.objects.filter(message=refused, kind="retry_failed").exists()


# --- many messages: what is skipped, and why ---------------------------------------------------
def test_a_bulk_confirmation_lists_which_can_and_why_not_the_others(support):
    failed = failed_enrollment()
    rejected = with_status("DRMS-ENR-REJ", Message.Status.REJECTED)
    busy = with_status("DRMS-ENR-BUSY", Message.Status.PROCESSING)
    data = {"action": "resubmit_selected", ACTION_CHECKBOX_NAME: [failed.pk, rejected.pk, busy.pk], "index": 0}
    html = support.post(LIST, data).content.decode()
    assert "1 of 3 selected messages can be resubmitted." in html
    chosen = html[html.index('id="confirm-chosen"') : html.index('id="confirm-skipped"')]
    assert "DRMS-ENR-FAIL-1" in chosen and "DRMS-ENR-REJ" not in chosen
    skipped = html[html.index('id="confirm-skipped"') :]
    assert "1 Rejected: It was rejected, so there is nothing to send." in skipped
    assert f'<a href="{page(rejected)}">DRMS-ENR-REJ</a>' in skipped
    assert "1 Processing: It is being processed." in skipped
    assert 'value="Resubmit this message"' in html


def test_a_bulk_action_says_queued_when_a_worker_has_yet_to_act(support, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    failed = failed_enrollment()
    rejected = with_status("DRMS-ENR-REJ", Message.Status.REJECTED)
    data = {"action": "resubmit_selected", ACTION_CHECKBOX_NAME: [failed.pk, rejected.pk], "index": 0}
    support.post(LIST, {**data, "confirmed": "yes"})
    assert notices(support) == [
        "1 message(s): queued to be resubmitted by a worker; each message's page shows its progress."
        " Skipped: 1 Rejected, as it was rejected, so there is nothing to send."
    ]
    failed.refresh_from_db()
    assert failed.status == Message.Status.FAILED  # only queued, not done
