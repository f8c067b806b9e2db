"""`manage.py reprocess` and `manage.py discard`: the same choice and the same effect as the console's actions."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hub.models import Message
from tests.factories import MessageFactory
from tests.hub.test_admin_data import failed_enrollment

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def failed():
    return failed_enrollment()


def test_it_resubmits_by_id_and_records_the_reason(failed):
    assert run("reprocess", "--ids", str(failed.pk), "--reason", "partner fixed") == "resubmitted 1 message(s)\n"
    failed.refresh_from_db()
    assert failed.status == Message.Status.QUEUED
    entry = failed.activities.get(kind="resubmitted")
    assert entry.actor is None and "partner fixed" in entry.text


def test_it_retries_only_failed_items_of_every_failed_message_of_a_flow(failed):
    done = MessageFactory.create(status=Message.Status.COMPLETED)
    assert "resubmitted 1 message(s)" in run("reprocess", "--failed", "--flow", "enrollment_requests", "--failed-items")
    assert list(failed.items.order_by("seq").values_list("status", flat=True)) == ["SUCCESS", "PENDING"]
    done.refresh_from_db()
    assert done.status == Message.Status.COMPLETED


def test_it_discards_by_tracking_id_with_a_reason(failed):
    assert run("discard", "--ids", str(failed.tracking_id), "--reason", "duplicate order") == "discarded 1 message(s)\n"
    failed.refresh_from_db()
    assert failed.status == Message.Status.DISCARDED
    assert failed.activities.get(kind="discarded").text == "duplicate order"


def test_it_discards_every_failed_message_of_a_flow_only(failed):
    other = failed_enrollment("DRMS-ENR-OTHER-FLOW", nic_ids=("ECB-1",))
    Message.objects.filter(pk=other.pk).update(flow="device_status")
    assert "discarded 1 message(s)" in run("discard", "--failed", "--flow", "enrollment_requests", "--reason", "old")
    other.refresh_from_db()
    assert other.status == Message.Status.FAILED


def test_it_wants_a_choice_and_a_reason(failed):
    with pytest.raises(CommandError, match="--ids"):
        run("discard", "--reason", "x")
    with pytest.raises(CommandError, match="reason"):
        run("discard", "--ids", str(failed.pk))
    failed.refresh_from_db()
    assert failed.status == Message.Status.FAILED
