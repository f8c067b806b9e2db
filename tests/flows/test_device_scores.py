"""Flow 4 with a local source folder and DERMS as a real HTTP server on loopback."""

import threading
from datetime import timedelta

import paramiko
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from flows.device_scores.demo import score_csv
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.remote import RemoteError, location_parse
from flows.device_scores.sources import Entry, SftpSource
from flows.device_scores.step import score_progress
from flows.device_scores.transfer import transfer_run
from hub import partners
from hub.models import Lease, OutboundCall
from tests.flows import score_fixtures
from tests.flows.score_fixtures import BAD_HEADER, HEADER_ONLY, drop
from tests.httpserver import ScriptedServer
from tests.threads import in_threads

pytestmark = pytest.mark.django_db
derms, inbox = score_fixtures.derms, score_fixtures.inbox


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def run():
    return transfer_run(trigger=ScoreRun.Trigger.COMMAND)


def test_it_sends_good_files_oldest_first_and_renames_the_bad_ones(inbox, derms):
    good_old = drop(inbox, "SDCSE_b.csv", score_csv(3), age_s=300)
    good_new = drop(inbox, "SDCSE_a.csv", score_csv(5, start=10), age_s=100)
    drop(inbox, "SDCSE_empty.csv", b"")
    drop(inbox, "SDCSE_header.csv", BAD_HEADER)
    drop(inbox, "SDCSE_nothing.csv", HEADER_ONLY)
    for other in ("Sent-SDCSE_old.csv", "Error-SDCSE_older.csv", "OTHER_1.csv", "SDCSE_c.csv.part"):
        drop(inbox, other, score_csv(1))

    result = run()

    assert derms.names() == ["SDCSE_b.csv", "SDCSE_a.csv"]
    assert all(r.intact for r in derms.received)
    assert derms.bodies["SDCSE_b.csv"] == score_csv(3)
    assert names(inbox) == sorted(
        [
            "Sent-SDCSE_b.csv",
            "Sent-SDCSE_a.csv",
            "Error-SDCSE_empty.csv",
            "Error-SDCSE_header.csv",
            "Error-SDCSE_nothing.csv",
            "Sent-SDCSE_old.csv",
            "Error-SDCSE_older.csv",
            "OTHER_1.csv",
            "SDCSE_c.csv.part",
        ]
    )
    assert (result.status, result.files_found, result.files_sent, result.files_failed) == (
        ScoreRun.Status.COMPLETED_WITH_ERRORS,
        5,
        2,
        3,
    )
    assert result.bytes_sent == len(good_old.with_name("Sent-SDCSE_b.csv").read_bytes()) + len(score_csv(5))
    sent = ScoreFile.objects.get(name="SDCSE_a.csv")
    assert (sent.status, sent.rows, sent.renamed_to, sent.destination_status) == ("SENT", 5, "Sent-SDCSE_a.csv", 202)
    assert sent.sha256 == derms.received[1].sha256 and sent.claim_key is None
    errors = dict(ScoreFile.objects.filter(status="ERROR").values_list("name", "error"))
    assert errors["SDCSE_empty.csv"] == "empty file"
    assert errors["SDCSE_header.csv"].startswith("line 1: header is 'nicId;score', expected 'nicId,headEndSystem")
    assert errors["SDCSE_nothing.csv"] == "no rows after the header"
    assert good_new.name not in names(inbox)


def test_the_body_is_streamed_with_the_contract_headers_through_the_chokepoint(inbox, derms):
    data = score_csv(40_000)  # a little over 2 MB: several pieces
    drop(inbox, "SDCSE_big.csv", data)
    run()
    headers = derms.received[0].headers
    assert headers["Content-Type"] == "text/csv"
    assert headers["Content-Length"] == str(len(data))
    assert "Transfer-Encoding" not in headers
    assert headers["X-File-Name"] == "SDCSE_big.csv"
    assert headers["X-Content-SHA256"] == derms.received[0].sha256
    call = OutboundCall.objects.get(operation="device_score")
    assert call.request_body == f"[{len(data)} bytes streamed]"
    assert call.request_headers["X-Correlation-ID"] == str(ScoreFile.objects.get().correlation_id)


def test_an_answer_other_than_200_or_202_renames_the_file_error(inbox, derms):
    derms.answer = lambda received: 422 if received.name == "SDCSE_2.csv" else 200
    drop(inbox, "SDCSE_1.csv", score_csv(2), age_s=90)
    drop(inbox, "SDCSE_2.csv", score_csv(2), age_s=60)
    result = run()
    assert names(inbox) == ["Error-SDCSE_2.csv", "Sent-SDCSE_1.csv"]
    refused = ScoreFile.objects.get(name="SDCSE_2.csv")
    assert (refused.status, refused.destination_status) == ("ERROR", 422)
    assert refused.error.startswith("refused by the destination")
    assert result.status == ScoreRun.Status.COMPLETED_WITH_ERRORS


def test_a_connection_dropped_mid_file_leaves_the_source_and_the_next_run_sends_it(inbox, derms):
    drop(inbox, "SDCSE_1.csv", score_csv(20_000), age_s=90)
    drop(inbox, "SDCSE_2.csv", score_csv(10), age_s=60)
    derms.drop_after = 100_000
    first = run()
    assert first.status == ScoreRun.Status.FAILED and "out of reach" in first.error
    assert names(inbox) == ["SDCSE_1.csv", "SDCSE_2.csv"]  # the run stopped: the second file waits too
    interrupted = first.files.get()
    assert interrupted.status == "INTERRUPTED" and interrupted.claim_key is None
    assert derms.received[0].complete is False

    derms.drop_after = None
    second = run()
    assert second.status == ScoreRun.Status.COMPLETED and second.files_sent == 2
    assert names(inbox) == ["Sent-SDCSE_1.csv", "Sent-SDCSE_2.csv"]
    assert derms.received[-2].intact and derms.received[-2].name == "SDCSE_1.csv"


def test_derms_unreachable_stops_the_run_and_keeps_the_name(inbox, settings):
    settings.PARTNERS = {**settings.PARTNERS, "DERMS": {**settings.PARTNERS["DERMS"], "base_url": "http://127.0.0.1:9"}}
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    result = run()
    assert result.status == ScoreRun.Status.FAILED
    assert names(inbox) == ["SDCSE_1.csv"]
    assert result.files.get().status == "INTERRUPTED"


def test_a_file_arriving_during_the_run_is_taken_in_the_same_run(inbox, derms):
    drop(inbox, "SDCSE_1.csv", score_csv(2))

    def arrive(sender, file, phase, done, **kwargs):
        if file.name == "SDCSE_1.csv" and phase == "send":
            drop(inbox, "SDCSE_2.csv", score_csv(3))

    score_progress.connect(arrive)
    try:
        result = run()
    finally:
        score_progress.disconnect(arrive)
    assert derms.names() == ["SDCSE_1.csv", "SDCSE_2.csv"]
    assert result.files_sent == 2 and result.passes == 3
    assert names(inbox) == ["Sent-SDCSE_1.csv", "Sent-SDCSE_2.csv"]


def test_files_still_being_written_are_left_for_a_later_run(inbox, derms, settings):
    settings.SCORE_MIN_AGE_S = 30
    drop(inbox, "SDCSE_young.csv", score_csv(2), age_s=1)
    drop(inbox, "SDCSE_growing.csv", score_csv(2), age_s=60)

    def grow(sender, file, phase, done, **kwargs):
        if phase == "read" and done == len(score_csv(2)):
            with open(inbox / file.name, "ab") as fh:
                fh.write(b"ECB-9,ECOBEE,BYOT-SUMMER,0.1,2026-11-26T02:00:00Z\n")

    score_progress.connect(grow)
    try:
        result = run()
    finally:
        score_progress.disconnect(grow)
    assert derms.received == []
    assert names(inbox) == ["SDCSE_growing.csv", "SDCSE_young.csv"]
    assert result.status == ScoreRun.Status.COMPLETED and result.files_found == 0
    assert result.files.get().status == "SKIPPED"


def test_a_live_claim_holds_a_file_and_a_stale_one_is_taken_back(inbox, derms, settings):
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    other = ScoreRun.objects.create(trigger="SCHEDULE", source="x", destination="y")
    claim = ScoreFile.objects.create(
        run=other,
        source=f"file://{inbox}",
        name="SDCSE_1.csv",
        claim_key=f"file://{inbox}|SDCSE_1.csv",
        heartbeat_at=timezone.now(),
    )
    run()
    assert derms.received == [] and names(inbox) == ["SDCSE_1.csv"]

    ScoreFile.objects.filter(pk=claim.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.SCORE_CLAIM_STALE_S + 1)
    )
    result = run()
    assert derms.names() == ["SDCSE_1.csv"] and result.files_sent == 1
    claim.refresh_from_db()
    assert (claim.status, claim.claim_key) == ("ABANDONED", None)
    assert f"taken back by run {result.id}" in claim.error


def test_a_second_run_never_sends_a_file_the_first_one_holds(inbox, derms):
    for n in (1, 2, 3):
        drop(inbox, f"SDCSE_{n}.csv", score_csv(n), age_s=100 - n)
    nested: list[ScoreRun] = []

    def second_run(sender, file, phase, done, **kwargs):
        if file.name == "SDCSE_1.csv" and phase == "send" and not nested:
            Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # as if it hung
            nested.append(run())

    score_progress.connect(second_run)
    try:
        first = run()
    finally:
        score_progress.disconnect(second_run)
    assert sorted(derms.names()) == ["SDCSE_1.csv", "SDCSE_2.csv", "SDCSE_3.csv"]
    assert nested[0].files_sent == 2 and first.files_sent == 1
    assert names(inbox) == ["Sent-SDCSE_1.csv", "Sent-SDCSE_2.csv", "Sent-SDCSE_3.csv"]


def test_a_file_sent_whose_rename_failed_is_renamed_not_sent_again(inbox, derms):
    path = drop(inbox, "SDCSE_1.csv", score_csv(2))
    stat = path.stat()
    earlier = ScoreRun.objects.create(trigger="SCHEDULE", source="x", destination="y")
    ScoreFile.objects.create(
        run=earlier,
        source=f"file://{inbox}",
        name=path.name,
        size=stat.st_size,
        mtime=stat.st_mtime,
        status="SENT",
        heartbeat_at=timezone.now(),
    )
    result = run()
    assert derms.received == []
    assert names(inbox) == ["Sent-SDCSE_1.csv"] and result.files_sent == 1
    assert ScoreFile.objects.filter(run=earlier, renamed_to="Sent-SDCSE_1.csv").exists()


def test_the_command_exits_0_when_all_is_sent_and_1_otherwise(inbox, derms, capsys):
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    call_command("transfer_scores")
    assert "1 found, 1 sent, 0 failed" in capsys.readouterr().out
    call_command("transfer_scores")  # nothing found: still 0

    drop(inbox, "SDCSE_2.csv", BAD_HEADER)
    with pytest.raises(CommandError, match="1 failed"):
        call_command("transfer_scores")


def test_the_command_takes_the_same_lock_as_the_schedule(inbox):
    from flows.device_scores.transfer import LOCK
    from hub.leases import lease_take

    assert lease_take(name=LOCK, owner="scheduled-run", seconds=60)
    with pytest.raises(CommandError, match="holds the lock"):
        call_command("transfer_scores")
    assert ScoreRun.objects.count() == 0


def test_the_command_exits_1_when_the_source_cannot_be_reached(settings):
    settings.SCORE_SOURCE_URL = "file:///nonexistent/scores"
    with pytest.raises(CommandError, match="cannot list"):
        call_command("transfer_scores")


def test_the_schedule_runs_every_15_minutes_by_default():
    schedule = Schedule.objects.get(func="flows.device_scores.tasks.transfer_scheduled")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 15, -1)


@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_once_send_each_file_once(inbox, derms):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    for n in range(1, 6):
        drop(inbox, f"SDCSE_{n}.csv", score_csv(200 * n), age_s=100 - n)
    results, errors, barrier = [], [], threading.Barrier(2)

    def start():
        barrier.wait()
        try:
            results.append(run())
        except Exception as exc:
            errors.append(exc)

    in_threads(start, 2)
    assert errors == []
    assert sorted(derms.names()) == [f"SDCSE_{n}.csv" for n in range(1, 6)]
    assert names(inbox) == [f"Sent-SDCSE_{n}.csv" for n in range(1, 6)]
    assert sum(r.files_sent for r in results if r is not None) == 5
    assert ScoreFile.objects.filter(status="SENT").count() == 5


def test_a_rename_never_overwrites_an_earlier_sent_or_error_file(inbox, derms):
    drop(inbox, "Sent-SDCSE_1.csv", b"sent last week\n")
    drop(inbox, "Sent-SDCSE_1.csv.1", b"sent the week before\n")
    drop(inbox, "Error-SDCSE_2.csv", b"refused last week\n")
    drop(inbox, "SDCSE_1.csv", score_csv(2), age_s=90)
    drop(inbox, "SDCSE_2.csv", BAD_HEADER, age_s=60)
    result = run()
    assert (inbox / "Sent-SDCSE_1.csv").read_bytes() == b"sent last week\n"
    assert (inbox / "Sent-SDCSE_1.csv.1").read_bytes() == b"sent the week before\n"
    assert (inbox / "Sent-SDCSE_1.csv.2").read_bytes() == score_csv(2)
    assert (inbox / "Error-SDCSE_2.csv").read_bytes() == b"refused last week\n"
    assert (inbox / "Error-SDCSE_2.csv.1").read_bytes() == BAD_HEADER
    assert dict(result.files.values_list("name", "renamed_to")) == {
        "SDCSE_1.csv": "Sent-SDCSE_1.csv.2",
        "SDCSE_2.csv": "Error-SDCSE_2.csv.1",
    }


@pytest.fixture
def oauth2_tokens(settings):
    """A real token endpoint for DERMS: `token-1`, `token-2`… one per request; yields the Authorization
    headers of the token requests."""
    issued: list[str] = []

    def token_endpoint(request):
        issued.append(request.headers["Authorization"])
        return 200, {"access_token": f"token-{len(issued)}", "token_type": "Bearer", "expires_in": 3600}

    with ScriptedServer(token_endpoint) as tokens:
        settings.PARTNERS = {
            **settings.PARTNERS,
            "DERMS": {
                **settings.PARTNERS["DERMS"],
                "auth": "oauth2",
                "token_url": f"{tokens.url}/token",
                "client_id": "hub",
                "client_secret": "s3cret",
            },
        }
        partners._tokens.clear()
        yield issued
    partners._tokens.clear()


def test_an_expired_oauth2_token_is_renewed_and_the_file_sent_again_in_the_same_run(inbox, derms, oauth2_tokens):
    # DERMS revoked the first token: it reads the whole body, then answers 401 once.
    derms.answer = lambda received: 401 if received.headers["Authorization"] == "Bearer token-1" else 202
    drop(inbox, "SDCSE_1.csv", score_csv(40_000))
    result = run()
    issued = oauth2_tokens
    assert len(issued) == 2 and all(header.startswith("Basic ") for header in issued)
    assert [r.headers["Authorization"] for r in derms.received] == ["Bearer token-1", "Bearer token-2"]
    assert derms.received[1].intact and derms.bodies["SDCSE_1.csv"] == score_csv(40_000)
    assert names(inbox) == ["Sent-SDCSE_1.csv"]
    assert (result.status, result.files_sent) == (ScoreRun.Status.COMPLETED, 1)
    sent = ScoreFile.objects.get()
    assert (sent.status, sent.destination_status) == ("SENT", 202)
    calls = OutboundCall.objects.filter(operation="device_score").order_by("id")
    assert [c.response_status for c in calls] == [401, 202] and sent.outbound_call == calls[1]


def test_a_file_is_sent_at_most_twice_when_derms_refuses_the_renewed_token_too(inbox, derms, oauth2_tokens):
    derms.answer = lambda received: 401
    drop(inbox, "SDCSE_1.csv", score_csv(2))
    result = run()
    assert derms.names() == ["SDCSE_1.csv", "SDCSE_1.csv"] and len(oauth2_tokens) == 2
    assert names(inbox) == ["Error-SDCSE_1.csv"]
    assert result.files.get().destination_status == 401


def test_a_file_an_sftp_server_lists_without_size_or_time_is_reported_not_guessed():
    source = SftpSource.__new__(SftpSource)  # no connection: only the reading of what the server listed
    source.location = location_parse("sftp://hub@scores.example/inbox", setting="SCORE_SOURCE_URL")
    attrs = paramiko.SFTPAttributes()
    attrs.st_size, attrs.st_mtime = 10, 1_700_000_000
    assert source._entry("SDCSE_1.csv", attrs) == Entry("SDCSE_1.csv", 10, 1_700_000_000.0)
    attrs.st_size = None
    with pytest.raises(RemoteError, match="gives no size or modification time for SDCSE_1.csv"):
        source._entry("SDCSE_1.csv", attrs)
