"""Flow 4 against a real OpenSSH server on a loopback port (paramiko is never mocked)."""

import os

import pytest
from django.test import TestCase

from flows.device_scores.demo import score_csv
from flows.device_scores.models import ScoreFile, ScoreRun
from flows.device_scores.sources import SftpSource, Source
from flows.device_scores.step import score_progress
from flows.device_scores.transfer import transfer_run
from tests.flows import score_fixtures
from tests.flows import sftp_server as sftp_server_module
from tests.flows.score_fixtures import BAD_HEADER, drop

pytestmark = pytest.mark.django_db
derms, sftp_server = score_fixtures.derms, sftp_server_module.sftp_server


@pytest.fixture
def remote(settings, sftp_server, tmp_path_factory, derms):
    folder = tmp_path_factory.mktemp("remote-inbox")
    settings.SCORE_SOURCE_URL = sftp_server.url(folder)
    settings.SCORE_SOURCE_KEY_FILE = str(sftp_server.client_key)
    settings.SCORE_SOURCE_PASSWORD = ""
    settings.SCORE_KNOWN_HOSTS = str(sftp_server.known_hosts)
    settings.SCORE_DESTINATION = "rest"
    settings.SCORE_MIN_AGE_S = 0
    settings.SCORE_HEARTBEAT_S = 0
    settings.SCORE_SSH_TIMEOUT_S = 10
    return folder


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def run():
    # The run's emails are sent by a task enqueued once they are committed.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return transfer_run(trigger=ScoreRun.Trigger.SCHEDULE)


def test_it_takes_good_empty_and_bad_header_files_over_sftp(remote, derms, settings):
    drop(remote, "SDCSE_1.csv", score_csv(40_000), age_s=90)
    drop(remote, "SDCSE_2.csv", b"", age_s=80)
    drop(remote, "SDCSE_3.csv", BAD_HEADER, age_s=70)
    drop(remote, "SDCSE_4.csv.part", score_csv(1))
    result = run()
    assert derms.names() == ["SDCSE_1.csv"] and derms.received[0].intact
    assert derms.bodies["SDCSE_1.csv"] == score_csv(40_000)
    assert names(remote) == ["Error-SDCSE_2.csv", "Error-SDCSE_3.csv", "SDCSE_4.csv.part", "Sent-SDCSE_1.csv"]
    assert (result.files_sent, result.files_failed, result.source) == (1, 2, settings.SCORE_SOURCE_URL)
    assert ScoreFile.objects.get(name="SDCSE_1.csv").rows == 40_000


def test_a_changed_host_key_is_refused(remote, derms, sftp_server, settings, tmp_path, mailoutbox):
    known = tmp_path / "known_hosts"
    known.write_text(sftp_server.known_hosts_line(sftp_server.other_host_key))
    settings.SCORE_KNOWN_HOSTS = str(known)
    drop(remote, "SDCSE_1.csv", score_csv(2))
    result = run()
    assert result.status == ScoreRun.Status.FAILED
    assert "does not match SCORE_KNOWN_HOSTS (it has changed): connection refused" in result.error
    assert names(remote) == ["SDCSE_1.csv"] and derms.received == []
    assert [m.to for m in mailoutbox] == [["ops@utility.example"]]


def test_an_unknown_host_is_refused(remote, settings, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    settings.SCORE_KNOWN_HOSTS = str(known)
    result = run()
    assert result.status == ScoreRun.Status.FAILED
    assert "is not in SCORE_KNOWN_HOSTS: unknown host refused" in result.error


def test_a_wrong_password_is_refused_with_a_clear_error(remote, settings):
    settings.SCORE_SOURCE_KEY_FILE = ""
    settings.SCORE_SOURCE_PASSWORD = "not-the-password"
    result = run()
    assert result.status == ScoreRun.Status.FAILED
    assert "authentication failed" in result.error


# paramiko's prefetch thread dies with the connection ("Socket is closed"); the reader gets the error.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_connection_dropped_mid_file_leaves_the_source_and_the_next_run_takes_it(
    remote, derms, sftp_server, settings
):
    settings.SCORE_SFTP_REQUEST_BYTES = 4096  # few bytes in flight, so the drop lands mid-file
    data = score_csv(120_000)  # about 6 MB
    drop(remote, "SDCSE_1.csv", data)
    dropped: list[int] = []

    def drop_connection(sender, file, phase, done, **kwargs):
        if phase == "read" and not dropped:
            dropped.append(sftp_server.drop_connections())

    score_progress.connect(drop_connection)
    try:
        first = run()
    finally:
        score_progress.disconnect(drop_connection)
    assert dropped[0] >= 1
    assert first.status == ScoreRun.Status.FAILED
    interrupted = first.files.get()
    assert interrupted.status == "INTERRUPTED" and "reading the source failed" in interrupted.error
    assert names(remote) == ["SDCSE_1.csv"] and derms.received == []

    second = run()
    assert second.status == ScoreRun.Status.COMPLETED
    assert names(remote) == ["Sent-SDCSE_1.csv"]
    assert derms.bodies["SDCSE_1.csv"] == data


def test_the_sftp_destination_gets_a_part_file_renamed_once_complete(
    remote, derms, sftp_server, settings, tmp_path_factory
):
    outbox = tmp_path_factory.mktemp("remote-outbox")
    settings.SCORE_DESTINATION = sftp_server.url(outbox)
    settings.SCORE_DESTINATION_KEY_FILE = str(sftp_server.client_key)
    settings.SCORE_DESTINATION_KNOWN_HOSTS = str(sftp_server.known_hosts)
    uploads = []

    def watch(sender, file, phase, done, **kwargs):
        if phase == "send":
            uploads.append(names(outbox))

    drop(remote, "SDCSE_1.csv", score_csv(30_000))
    score_progress.connect(watch)
    try:
        result = run()
    finally:
        score_progress.disconnect(watch)
    assert result.status == ScoreRun.Status.COMPLETED
    assert uploads and all(listing in ([], ["SDCSE_1.csv.part"]) for listing in uploads)
    assert names(outbox) == ["SDCSE_1.csv"]
    assert (outbox / "SDCSE_1.csv").read_bytes() == score_csv(30_000)
    assert names(remote) == ["Sent-SDCSE_1.csv"] and derms.received == []
    assert result.destination == sftp_server.url(outbox)


def test_the_pipelined_reader_returns_every_byte_in_order_and_stops_at_a_shrunk_end(remote, settings):
    from flows.device_scores.sftp_read import REQUESTS_IN_FLIGHT
    from flows.device_scores.sources import source_open

    settings.SCORE_SFTP_REQUEST_BYTES = 1000  # many more requests than may be in flight at once
    content = bytes(range(256)) * 500 + b"tail"  # not a whole number of requests
    (remote / "SDCSE_big.csv").write_bytes(content)
    assert len(content) > 1000 * REQUESTS_IN_FLIGHT * 3
    source = source_open()
    try:
        pieces = list(source.read("SDCSE_big.csv"))
        assert b"".join(pieces) == content and max(map(len, pieces)) == 1000

        reading = source.read("SDCSE_big.csv")
        first = next(reading)  # the requests in flight now cover the first 33,000 bytes
        os.truncate(remote / "SDCSE_big.csv", 100_500)  # cut short while read, mid-request
        rest = b"".join(reading)
        assert first + rest == content[:100_500]
        assert source.list()  # the connection is still in step after the early end
    finally:
        source.close()


def test_requests_larger_than_the_server_answers_are_completed_piece_by_piece(remote, settings):
    from flows.device_scores.sources import source_open

    settings.SCORE_SFTP_REQUEST_BYTES = 1_000_000  # OpenSSH answers at most 255 KB of each
    content = bytes(range(256)) * 12_000 + b"end"  # about 3 MB, not a whole number of requests
    (remote / "SDCSE_large.csv").write_bytes(content)
    source = source_open()
    try:
        pieces = list(source.read("SDCSE_large.csv"))
        assert [len(p) for p in pieces] == [1_000_000, 1_000_000, 1_000_000, len(content) - 3_000_000]
        assert b"".join(pieces) == content
        assert source.list()  # still in step
    finally:
        source.close()


def cipher(source: Source) -> str:
    """The cipher an SFTP source's connection uses from the server."""
    assert isinstance(source, SftpSource)
    transport = source.client.get_transport()
    assert transport is not None
    # types-paramiko leaves out Transport.remote_cipher, set once the keys are exchanged.
    return transport.remote_cipher  # type: ignore[attr-defined]


def test_aes_gcm_is_chosen_where_offered_and_a_server_without_it_still_connects(remote, settings, tmp_path):
    from flows.device_scores.sources import source_open
    from tests.flows.sftp_server import SftpServer

    source = source_open()
    try:
        assert cipher(source) == "aes128-gcm@openssh.com"
    finally:
        source.close()

    older = SftpServer(tmp_path / "sshd-ctr", ciphers="aes256-ctr,aes128-ctr").start()
    try:
        settings.SCORE_SOURCE_URL = older.url(remote)
        settings.SCORE_SOURCE_KEY_FILE = str(older.client_key)
        settings.SCORE_KNOWN_HOSTS = str(older.known_hosts)
        (remote / "SDCSE_ctr.csv").write_bytes(b"x" * 300_000)
        source = source_open()
        try:
            assert cipher(source) == "aes128-ctr"  # paramiko's first choice of the rest
            assert b"".join(source.read("SDCSE_ctr.csv")) == b"x" * 300_000
        finally:
            source.close()
    finally:
        older.stop()


def test_a_rename_over_sftp_never_overwrites_an_earlier_sent_or_error_file(remote, derms):
    drop(remote, "Sent-SDCSE_1.csv", b"sent last week\n")
    drop(remote, "Error-SDCSE_2.csv", b"refused last week\n")
    drop(remote, "Error-SDCSE_2.csv.1", b"refused the week before\n")
    drop(remote, "SDCSE_1.csv", score_csv(2), age_s=90)
    drop(remote, "SDCSE_2.csv", BAD_HEADER, age_s=60)
    result = run()
    assert (remote / "Sent-SDCSE_1.csv").read_bytes() == b"sent last week\n"
    assert (remote / "Sent-SDCSE_1.csv.1").read_bytes() == score_csv(2)
    assert (remote / "Error-SDCSE_2.csv").read_bytes() == b"refused last week\n"
    assert (remote / "Error-SDCSE_2.csv.1").read_bytes() == b"refused the week before\n"
    assert (remote / "Error-SDCSE_2.csv.2").read_bytes() == BAD_HEADER
    assert result.files.get(name="SDCSE_1.csv").renamed_to == "Sent-SDCSE_1.csv.1"
