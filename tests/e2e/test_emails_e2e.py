"""Emails kept like messages, end to end: an alert due during an SMTP outage arrives once the server is back."""

from __future__ import annotations

import sqlite3
import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from aiosmtpd.controller import Controller

from flows.enrollment_requests.samples import enrollment_message
from tests.e2e.harness import free_port

pytestmark = pytest.mark.e2e


class Inbox:
    """An SMTP server's handler that keeps every envelope it is given."""

    def __init__(self):
        self.envelopes = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        return "250 OK"


def emails(hub) -> list[tuple[str, int, str]]:
    """(status, attempts, error) of every email the hub recorded, read from its database."""
    query = "SELECT status, attempts, error FROM hub_notification ORDER BY id"
    url = urlsplit(hub.database_url)
    if url.scheme.startswith("postgres"):
        with psycopg.connect(hub.database_url) as conn:
            return conn.execute(query).fetchall()
    with sqlite3.connect(url.path) as conn:
        return conn.execute(query).fetchall()


def test_a_technical_alert_due_during_an_smtp_outage_arrives_once_when_the_server_is_back(hub_factory):
    port = free_port()  # nothing listens there yet
    hub = hub_factory(
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        RETRY_ATTEMPTS="3",
        RETRY_FIRST_S="2",
        RETRY_MAX_S="4",
    )
    hub.knobs("DACS", down=True)
    resp = hub.post("derms/enrollment-requests", enrollment_message("E2E-SMTP", 2))
    assert resp.status_code == 202, resp.text
    status = hub.wait_finished(resp.json()["trackingId"], timeout=120)
    assert status["status"] == "FAILED"

    (failed,) = hub.wait_for(
        lambda: [e for e in emails(hub) if e[0] not in ("QUEUED", "SENDING")],
        timeout=60,
        what="a failed send",
        every=0.1,
    )
    assert failed[0] == "RETRY" and failed[1] == 1, failed
    assert "Connection" in failed[2] or "refused" in failed[2].lower(), failed

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        (sent,) = hub.wait_for(
            lambda: [e for e in emails(hub) if e[0] in ("SENT", "FAILED")], timeout=60, what="the retried send"
        )
        assert sent[0] == "SENT", sent
        assert 2 <= sent[1] <= 3
        hub.wait_for(lambda: inbox.envelopes, timeout=10, what="the alert at the SMTP server")
        time.sleep(2)  # a few more sweeper passes (SWEEP_POLL_S 0.5 s): nothing is sent again
    finally:
        controller.stop()
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["ops@utility.example"]
    assert b"E2E-SMTP" in envelope.content and b"Technical failure" in envelope.content
