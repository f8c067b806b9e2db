"""The tasks django-q2 runs for messages: process one, send the reply still owed, the sweeper.

Tasks receive ids only. A message is claimed with a compare-and-swap update
that writes a fresh owner token, so a task delivered twice does the work
once, and an owner that lost the message stops (hub/claims.py). Business
retries live in the hub's tables (Item.next_attempt_at), never in the broker.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hub.activity import activity_record
from hub.claims import Abandoned, MessageClaim, claim_in_force, db_patiently
from hub.logs import log_bind_message
from hub.messages import message_settle, messages_discard, messages_resubmit
from hub.models import Message
from hub.registry import flow_for
from hub.retry import backoff_s
from hub.runner import Runner, reply_send
from hub.sweeper import sweep, sweep_once

__all__ = ["message_process", "message_reply_owed", "messages_discard", "messages_resubmit", "sweep", "sweep_once"]

log = logging.getLogger(__name__)


def message_process(message_id: int) -> None:
    """The task: claim the message, then work on it until done or handed back."""
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = Message.objects.filter(id=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.PROCESSING,
        claim=token,
        heartbeat_at=now,
        next_attempt_at=None,
        started_at=Coalesce("started_at", Value(now)),
    )
    if not claimed:
        return
    message = Message.objects.get(id=message_id)
    log_bind_message(message)
    claim = MessageClaim(message_id, token)
    try:
        runner = Runner(message, flow_for(message.flow), claim)
        with runner.exclusive():
            runner.run()
    except Abandoned:
        log.info("message %s was taken back while processing", message_id)
    except (OperationalError, InterfaceError) as exc:
        # The database went away mid-run: once it is back, hand the message back (a counted run, as a
        # database error that is not an outage would repeat) rather than wait for the stale check.
        log.warning("message %s: database unavailable (%s); handing it back", message_id, exc)
        error = f"{type(exc).__name__}: {exc}"
        db_patiently(lambda: message_crashed(claim=claim, error=error))
    except Exception as exc:
        log.exception("message %s failed while processing", message_id)
        message_crashed(claim=claim, error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())


def message_crashed(*, claim: MessageClaim, error: str, trace: str = "") -> None:
    """An unexpected error ended a run: try again later with backoff, or, after RETRY_ATTEMPTS runs, FAIL it."""
    message = Message.objects.filter(id=claim.message_id, claim=claim.token).first()
    if message is None:
        return
    crashes = message.crashes + 1
    activity_record(message=message, kind="crashed", text=f"Run {crashes} ended in an error: {error}\n{trace}"[:4000])
    if crashes >= settings.RETRY_ATTEMPTS:
        Message.objects.filter(id=message.id, claim=claim.token).update(crashes=crashes)
        message_settle(
            message=message,
            status=Message.Status.FAILED,
            reason=f"Stopped after {crashes} runs ended in an error: {error}",
            kind="failed",
            allowed=(Message.Status.PROCESSING,),
            token=claim.token,
        )
        return
    claim.mine().update(
        status=Message.Status.QUEUED,
        claim="",
        crashes=F("crashes") + 1,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=backoff_s(crashes)),
        enqueued_at=None,
    )


def message_reply_owed(message_id: int) -> None:
    """Send the one reply owed for a message that was discarded or failed outside the runner."""
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        Message.objects.filter(id=message_id, status__in=(Message.Status.DISCARDED, Message.Status.FAILED), claim="")
        .filter(Q(reply_status=Message.Reply.PENDING) | Q(reply_status=Message.Reply.RETRY, next_attempt_at__lte=now))
        .update(claim=token, heartbeat_at=now)
    )
    if not claimed:
        return
    claim = MessageClaim(message_id, token)
    message = Message.objects.get(id=message_id)
    log_bind_message(message)
    flow = flow_for(message.flow)
    try:
        with claim_in_force(claim):
            body = flow.failure_reply(message, reason=message.last_error)
            if body is None:
                claim.mine().update(reply_status=Message.Reply.NONE)
            else:
                reply_send(message=message, flow=flow, body=body, claim=claim)
    except Abandoned:
        return
    finally:
        Message.objects.filter(id=message_id, claim=token).update(claim="")
