"""One owner per claim: what a lost claim stops, how a poison message ends, discard, the sweeper, partner slots."""

from __future__ import annotations

import threading
import time
import uuid
import zlib
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from flows.enrollment_requests.samples import enrollment_message
from hub import partners
from hub.claims import Abandoned, MessageClaim, claim_in_force
from hub.flow import Outcome, OutcomeStatus
from hub.messages import message_discard, message_resubmit
from hub.models import Item, Message, OutboundCall
from hub.outcomes import RecordBuffer, item_apply_outcomes, outcomes_save
from hub.processing import message_process, sweep_once
from hub.runner import run_parallel
from tests.factories import MessageFactory
from tests.flows.test_enrollment_requests import OK, URL, fake_partners, replies
from tests.httpserver import ScriptedServer
from tests.operations import operation
from tests.posting import accept

OPEN = {Item.Status.PENDING, Item.Status.RETRY}


def claimed(message: Message) -> MessageClaim:
    """Claim `message` as message_process does: PROCESSING under a fresh owner token."""
    token = uuid.uuid4().hex
    Message.objects.filter(id=message.id).update(
        status=Message.Status.PROCESSING, claim=token, heartbeat_at=timezone.now()
    )
    return MessageClaim(message.id, token)


def a_call(message: Message, item: Item) -> OutboundCall:
    return OutboundCall(
        message=message,
        item=item,
        partner="DACS",
        operation="enroll",
        method="POST",
        url="http://dacs.invalid/enroll",
        outcome=OutboundCall.Outcome.SUCCESS,
        started_at=timezone.now(),
    )


# --- a poison message ends --------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_fails_a_message_whose_every_run_raises_after_retry_attempts_runs(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    message = accept(derms_client, URL, enrollment_message("M-POISON", 2))

    def dacs(body):
        raise ValueError("PostgreSQL text fields cannot contain NUL")

    sent, call = fake_partners(dacs)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        for run in (1, 2):
            with django_capture_on_commit_callbacks(execute=True):
                message_process(message.id)
            message.refresh_from_db()
            assert (message.status, message.crashes, message.claim) == (Message.Status.QUEUED, run, "")
            assert message.next_attempt_at is not None and "ValueError" in message.last_error
            assert set(message.items.values_list("status", flat=True)) <= OPEN
        with django_capture_on_commit_callbacks(execute=True):
            message_process(message.id)
            sweep_once()  # nothing more is owed: the sweeper sends no second reply
    message.refresh_from_db()
    assert (message.status, message.crashes, message.ack_type) == (Message.Status.FAILED, 3, "FAILURE")
    errors = set(message.items.values_list("status", "last_error"))
    (status, error), *_ = errors
    assert len(errors) == 1 and status == Item.Status.FAILURE
    assert "ValueError" in error and "NUL" in error
    (reply,) = replies(sent)
    assert reply["ackType"] == "FAILURE" and {r["responseCode"] for r in reply["responses"]} == {"FAILURE"}
    assert message.reply_status == Message.Reply.SENT
    assert message.notifications.get().kind == "technical_error"
    assert not Message.objects.filter(status__in=(Message.Status.QUEUED, Message.Status.PROCESSING)).exists()
    assert message.activities.filter(kind="crashed").count() == 3


# --- a lost claim writes nothing and calls no partner -----------------------------------------------
@pytest.mark.django_db
def test_it_writes_no_outcome_once_the_claim_is_lost_but_keeps_the_call_records():
    message = MessageFactory.create()
    item = Item.objects.create(message=message, seq=0, key="1", data={})
    claim = claimed(message)
    Message.objects.filter(id=message.id).update(claim="")  # as a discard or a takeover does
    item_apply_outcomes(items=[item], outcomes={item.id: Outcome(OutcomeStatus.SUCCESS, external_id="E-1")})
    with pytest.raises(Abandoned):
        outcomes_save(claim=claim, items=[item], calls=[a_call(message, item)])
    assert claim.lost
    item.refresh_from_db()
    assert (item.status, item.attempts, item.external_id) == (Item.Status.PENDING, 0, "")
    assert OutboundCall.objects.filter(message=message, item=item).count() == 1, "what was sent stays on record"
    with pytest.raises(Abandoned):
        claim.check()


@pytest.mark.django_db
def test_it_writes_outcomes_while_the_claim_is_held():
    message = MessageFactory.create()
    item = Item.objects.create(message=message, seq=0, key="1", data={})
    claim = claimed(message)
    item_apply_outcomes(items=[item], outcomes={item.id: Outcome(OutcomeStatus.SUCCESS, external_id="E-1")})
    RecordBuffer(claim).add([item], [a_call(message, item)])
    item.refresh_from_db()
    assert (item.status, item.attempts, item.external_id) == (Item.Status.SUCCESS, 1, "E-1")


@pytest.mark.django_db
def test_the_group_commit_raises_abandoned_to_every_sender_once_the_claim_is_lost():
    message = MessageFactory.create()
    item = Item.objects.create(message=message, seq=0, key="1", data={})
    claim = claimed(message)
    Message.objects.filter(id=message.id).update(claim="")
    item_apply_outcomes(items=[item], outcomes={item.id: Outcome(OutcomeStatus.SUCCESS)})
    records = RecordBuffer(claim)
    with pytest.raises(Abandoned):
        records.add([item], [a_call(message, item)])
    with pytest.raises(Abandoned):
        records.add([], [])
    assert Item.objects.get(id=item.id).status == Item.Status.PENDING


@pytest.mark.django_db
def test_a_partner_call_under_a_lost_claim_raises_before_any_request(settings):
    message = MessageFactory.create()
    with ScriptedServer(lambda request: (200, {"status": "OK"})) as dacs:
        settings.PARTNERS = {**settings.PARTNERS, "DACS": {**settings.PARTNERS["DACS"], "base_url": dacs.url}}
        claim = claimed(message)
        with claim_in_force(claim):
            assert partners.call(operation("DACS", "enroll", "/enroll"), json_body={}, message=message).ok
        assert len(dacs.requests) == 1
        Message.objects.filter(id=message.id).update(claim="")
        with claim_in_force(claim), pytest.raises(Abandoned):
            partners.call(operation("DACS", "enroll", "/enroll"), json_body={}, message=message)
        assert len(dacs.requests) == 1, "no request under a lost claim"
    assert OutboundCall.objects.filter(message=message).count() == 1


# --- run_parallel stops at the first error ------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 3])
def test_run_parallel_starts_no_unit_after_one_raised(workers):
    started = []
    lock = threading.Lock()
    failed = threading.Event()

    def unit(n):
        with lock:
            started.append(n)
            first = len(started) == 1
        if first:
            failed.set()
            raise ValueError("boom")
        failed.wait(5)
        time.sleep(0.2)  # the error reaches run_parallel while the other units are still running

    with pytest.raises(ValueError, match="boom"):
        run_parallel(unit, list(range(30)), workers, slot=always)
    assert 1 <= len(started) <= workers


def test_run_parallel_runs_every_unit_when_none_raises():
    done: list[int] = []
    run_parallel(done.append, list(range(30)), 3, slot=always)
    assert sorted(done) == list(range(30))


class always:
    """A partner slot that is always free."""

    def __init__(self, wait: bool = True):
        pass

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc) -> None:
        return None


# --- discard ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_discards_an_unfinished_message_and_sends_the_one_failure_reply(
    derms_client, django_capture_on_commit_callbacks
):
    message = accept(derms_client, URL, enrollment_message("M-DISCARD", 3))
    message.items.filter(key="1").update(status=Item.Status.SUCCESS, external_id="E-1")
    claim = claimed(message)
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            assert message_discard(message=message, reason="wrong program")
        with django_capture_on_commit_callbacks(execute=True):
            assert not message_discard(message=message, reason="again")
            sweep_once()
    message.refresh_from_db()
    assert (message.status, message.claim, message.ack_type) == (Message.Status.DISCARDED, "", "FAILURE")
    items = dict(message.items.values_list("key", "status"))
    assert items == {"1": Item.Status.SUCCESS, "2": Item.Status.FAILURE, "3": Item.Status.FAILURE}
    assert set(message.items.filter(status=Item.Status.FAILURE).values_list("last_error", flat=True)) == {
        "Discarded: wrong program"
    }
    (reply,) = replies(sent)
    assert reply["ackType"] == "FAILURE"
    assert [r["message"] for r in reply["responses"]] == [None, "Discarded: wrong program", "Discarded: wrong program"]
    assert not [op for p, op, b in sent if op == "enroll"], "nothing is sent to DACS after a discard"
    assert message.reply_status == Message.Reply.SENT
    with pytest.raises(Abandoned):
        claim.check()
    assert message_resubmit(message=message) == 0
    message.refresh_from_db()
    assert message.status == Message.Status.DISCARDED
    assert set(message.items.values_list("status", flat=True)) == {Item.Status.SUCCESS, Item.Status.FAILURE}


@pytest.mark.django_db
def test_discarding_a_completed_message_whose_reply_was_sent_sends_nothing(
    derms_client, django_capture_on_commit_callbacks
):
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            message = accept(derms_client, URL, enrollment_message("M-DONE", 2))
        message.refresh_from_db()
        assert (message.status, message.reply_status) == (Message.Status.COMPLETED, Message.Reply.SENT)
        with django_capture_on_commit_callbacks(execute=True):
            assert message_discard(message=message, reason="cleanup")
            sweep_once()
    message.refresh_from_db()
    assert (message.status, message.reply_status) == (Message.Status.DISCARDED, Message.Reply.SENT)
    assert [r["ackType"] for r in replies(sent)] == ["SUCCESS"]
    assert set(message.items.values_list("status", flat=True)) == {Item.Status.SUCCESS}


# --- the sweeper ----------------------------------------------------------------------------------------
def stale(message: Message, *, crashes: int, settings) -> MessageClaim:
    """`message` claimed by a worker that stopped answering, after `crashes` runs that ended badly."""
    claim = claimed(message)
    old = timezone.now() - timedelta(seconds=settings.STALE_AFTER_S + 1)
    Message.objects.filter(id=message.id).update(heartbeat_at=old, crashes=crashes)
    return claim


@pytest.mark.django_db
def test_the_sweeper_takes_back_a_stale_claim_counting_a_crash(derms_client, settings):
    settings.RETRY_ATTEMPTS = 3
    message = accept(derms_client, URL, enrollment_message("M-STALE", 1))
    claim = stale(message, crashes=1, settings=settings)
    assert sweep_once()["stale"] == 1
    message.refresh_from_db()
    assert (message.status, message.claim, message.crashes) == (Message.Status.QUEUED, "", 2)
    with pytest.raises(Abandoned):
        claim.check()
    assert message.activities.filter(kind="taken_back").count() == 1


@pytest.mark.django_db
def test_the_sweeper_fails_a_message_whose_worker_died_retry_attempts_times(
    derms_client, settings, django_capture_on_commit_callbacks
):
    settings.RETRY_ATTEMPTS = 3
    message = accept(derms_client, URL, enrollment_message("M-KILLER", 2))
    claim = stale(message, crashes=2, settings=settings)
    sent, call = fake_partners(lambda body: OK)
    with mock.patch("hub.partners.call", autospec=True, side_effect=call):
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep_once()["stale"] == 1
        with django_capture_on_commit_callbacks(execute=True):
            sweep_once()
    message.refresh_from_db()
    assert (message.status, message.claim, message.crashes) == (Message.Status.FAILED, "", 3)
    assert set(message.items.values_list("status", flat=True)) == {Item.Status.FAILURE}
    (reply,) = replies(sent)
    assert reply["ackType"] == "FAILURE"
    assert not [op for p, op, b in sent if op == "enroll"]
    assert message.notifications.get().kind == "technical_error"
    with pytest.raises(Abandoned):
        claim.check()


@pytest.mark.django_db
def test_the_sweeper_closes_a_message_left_received(settings):
    settings.RECEIVED_STALE_S = 60
    left = MessageFactory.create(status=Message.Status.RECEIVED)
    fresh = MessageFactory.create(status=Message.Status.RECEIVED)
    Message.objects.filter(id=left.id).update(received_at=timezone.now() - timedelta(seconds=61))
    assert sweep_once()["unanswered"] == 1
    left.refresh_from_db()
    fresh.refresh_from_db()
    assert (left.status, left.http_status) == (Message.Status.REJECTED, 500)
    assert fresh.status == Message.Status.RECEIVED


# --- waiting for a partner slot -------------------------------------------------------------------------
class CountingClaim:
    """A claim that is always held and counts how often the waiter checked it."""

    def __init__(self):
        self.checks = 0

    def check(self) -> None:
        self.checks += 1


@pytest.mark.django_db(transaction=True)
def test_waiting_for_a_partner_slot_costs_a_few_queries_not_a_poll(settings):
    if connection.vendor != "postgresql":
        pytest.skip("partner slots are PostgreSQL advisory locks only there")
    import psycopg

    settings.PARTNER_CONCURRENCY = 8
    db = settings.DATABASES["default"]
    holder = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
        autocommit=True,
    )
    key = zlib.crc32(b"DACS") & 0x7FFFFFFF
    # Advisory locks are server-wide: only this test database's count (other databases may hold their own).
    advisory = (
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with partners.partner_slot("DACS") as taken:
        assert taken and len(holder.execute(advisory).fetchall()) == 1, "of eight free slots, one is taken"
    assert holder.execute(advisory).fetchall() == []
    for slot in range(settings.PARTNER_CONCURRENCY):
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [key, slot])
    queries: list[str] = []
    claim = CountingClaim()
    got = threading.Event()
    release = threading.Event()

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def wait():
        try:
            with connection.execute_wrapper(count), claim_in_force(claim):
                with partners.partner_slot("DACS") as taken:
                    assert taken
                    got.set()
                    release.wait(10)
        finally:
            connections.close_all()

    waiter = threading.Thread(target=wait)
    waiter.start()
    try:
        started = time.monotonic()
        time.sleep(3)
        assert not got.is_set()
        slices = (time.monotonic() - started) / partners.SLOT_WAIT_S + 1
        # Per slice: one query tries every slot, then a wait in the server on one (SET lock_timeout, lock).
        assert len(queries) <= slices * 3, queries
        assert 1 <= claim.checks <= slices, "the claim is checked (and its heartbeat renewed) once per slice"
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", [key, 1])
        assert got.wait(partners.SLOT_WAIT_S * 3), "the waiter takes the slot that was freed"
        assert holder.execute(advisory).fetchall() == [(1,)], "the waiter holds that one slot, no other"
    finally:
        release.set()
        waiter.join(10)
        holder.close()


@pytest.mark.django_db
def test_the_sweeper_enqueues_a_due_reply_once_not_on_every_pass(django_capture_on_commit_callbacks):
    message = MessageFactory.create(
        status=Message.Status.DISCARDED,
        reply_status=Message.Reply.RETRY,
        reply_attempts=1,
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        finished_at=timezone.now() - timedelta(seconds=5),
    )
    with mock.patch("hub.messages.async_task") as enqueued:
        for _ in range(3):  # the workers are busy: the task is not run between passes
            with django_capture_on_commit_callbacks(execute=True):
                assert sweep_once()["replies"] == (1 if _ == 0 else 0)
        assert enqueued.call_count == 1
        # Its try failed again: due once more at a later time.
        Message.objects.filter(id=message.id).update(reply_attempts=2, next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep_once()["replies"] == 1
    assert [c.args for c in enqueued.call_args_list] == [("hub.processing.message_reply_owed", message.id)] * 2
