"""Retention: bodies older than RETENTION_DAYS go, metadata rows stay, unfinished work is never touched."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from hub.models import Message, OutboundCall
from hub.retention import retention_purge
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def message(status: str, age_days: float) -> Message:
    msg = MessageFactory.create(status=status, raw_body=b'{"messageId": "X"}', body_size=18, headers={"X-A": "1"})
    Message.objects.filter(id=msg.id).update(received_at=timezone.now() - timedelta(days=age_days))
    return msg


def call(msg: Message | None, age_days: float) -> OutboundCall:
    return OutboundCall.objects.create(
        message=msg,
        partner="DACS",
        operation="enroll",
        method="POST",
        url="http://x/",
        outcome="SUCCESS",
        request_body='{"customer": "Jane"}',
        response_body='{"enrollmentId": "E-1"}',
        response_status=200,
        started_at=timezone.now() - timedelta(days=age_days),
        duration_ms=12,
    )


def body_of(msg: Message):
    return Message.objects.get(id=msg.id).raw_body


def test_it_clears_old_finished_bodies_and_keeps_the_rows(settings):
    settings.RETENTION_DAYS = 90
    old = message(Message.Status.COMPLETED, 91)
    old_call = call(old, 91)
    assert retention_purge() == {"messages": 1, "calls": 1}
    kept = Message.objects.get(id=old.id)
    assert kept.raw_body is None
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        kept.stored_body()
    assert kept.body_size == 18 and kept.headers == {"X-A": "1"} and kept.status == Message.Status.COMPLETED
    kept_call = OutboundCall.objects.get(id=old_call.id)
    assert kept_call.request_body == "" and kept_call.response_body == ""
    assert kept_call.response_status == 200 and kept_call.duration_ms == 12


def test_it_keeps_recent_bodies():
    recent = message(Message.Status.COMPLETED, 89)
    assert Message.objects.get(id=recent.id).stored_body() == b'{"messageId": "X"}'
    recent_call = call(recent, 89)
    assert retention_purge(days=90) == {"messages": 0, "calls": 0}
    assert bytes(body_of(recent)) == b'{"messageId": "X"}'
    assert OutboundCall.objects.get(id=recent_call.id).request_body


@pytest.mark.parametrize("status", [Message.Status.RECEIVED, Message.Status.QUEUED, Message.Status.PROCESSING])
def test_it_never_touches_unfinished_work_or_its_calls(status):
    waiting = message(status, 400)
    waiting_call = call(waiting, 400)
    assert retention_purge(days=90) == {"messages": 0, "calls": 0}
    assert body_of(waiting) is not None
    assert OutboundCall.objects.get(id=waiting_call.id).response_body


def test_it_clears_old_calls_that_belong_to_no_message_and_rejected_bodies():
    loose = call(None, 100)
    rejected = message(Message.Status.REJECTED, 100)
    assert retention_purge(days=90) == {"messages": 1, "calls": 1}
    assert OutboundCall.objects.get(id=loose.id).request_body == ""
    assert body_of(rejected) is None


def test_a_dry_run_counts_and_changes_nothing():
    old = message(Message.Status.FAILED, 200)
    call(old, 200)
    assert retention_purge(days=90, dry_run=True) == {"messages": 1, "calls": 1}
    assert body_of(old) is not None


def test_the_purge_command_reports_what_it_cleared(settings):
    settings.RETENTION_DAYS = 30
    message(Message.Status.COMPLETED, 31)
    message(Message.Status.COMPLETED, 29)
    out = StringIO()
    call_command("purge", stdout=out)
    assert "Cleared 1 message body(ies) and 0 call body(ies) older than 30 days." in out.getvalue()
    out = StringIO()
    call_command("purge", "--days", "1", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Would clear 1 message body(ies)")


def test_a_purge_run_twice_clears_nothing_the_second_time():
    message(Message.Status.COMPLETED, 120)
    assert retention_purge(days=90)["messages"] == 1
    assert retention_purge(days=90) == {"messages": 0, "calls": 0}


def test_the_daily_schedule_exists():
    schedule = Schedule.objects.get(name="hub retention purge")
    assert schedule.func == "hub.retention.retention_purge_task"
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
