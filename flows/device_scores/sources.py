"""The folder score files are taken from: local (`file:///`) or over SFTP.

Both answer the same four questions: what is there (regular files, with size
and mtime), what is this one now, give me its bytes, rename it.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from django.conf import settings
from paramiko.sftp import CMD_DATA, CMD_READ, CMD_STATUS, int64

from flows.device_scores.remote import Location, RemoteError, location_parse, sftp_connect

PIECE = 256 * 1024
PREFETCH_REQUESTS = 32


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    mtime: float


class LocalSource:
    def __init__(self, location: Location):
        self.location = location
        self.folder = Path(location.path)
        if self.folder.is_relative_to(settings.VAR_DIR):  # the local default: nobody else creates it
            self.folder.mkdir(parents=True, exist_ok=True)

    def list(self) -> list[Entry]:
        try:
            with os.scandir(self.folder) as found:
                return [
                    Entry(e.name, st.st_size, st.st_mtime)
                    for e in found
                    if e.is_file(follow_symlinks=False) and (st := e.stat(follow_symlinks=False))
                ]
        except OSError as exc:
            raise RemoteError(f"cannot list {self.location.label}: {exc}") from None

    def stat(self, name: str) -> Entry | None:
        try:
            st = (self.folder / name).stat()
        except FileNotFoundError:
            return None
        return Entry(name, st.st_size, st.st_mtime)

    def read(self, name: str) -> Iterator[bytes]:
        with open(self.folder / name, "rb") as fh:
            while chunk := fh.read(PIECE):
                yield chunk

    def local_path(self, name: str) -> Path:
        """Read in place: a local file needs no spooled copy."""
        return self.folder / name

    def rename(self, name: str, new_name: str) -> None:
        os.replace(self.folder / name, self.folder / new_name)

    def close(self) -> None:
        pass


class SftpSource:
    def __init__(self, location: Location, *, password: str, key_file: str, known_hosts: str, timeout: float):
        self.location = location
        self.client, self.sftp = sftp_connect(
            location,
            password=password,
            key_file=key_file,
            known_hosts=known_hosts,
            timeout=timeout,
            setting="SCORE_KNOWN_HOSTS",
        )

    def _path(self, name: str) -> str:
        return f"{self.location.path.rstrip('/')}/{name}"

    def list(self) -> list[Entry]:
        try:
            attrs = self.sftp.listdir_attr(self.location.path)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise RemoteError(f"cannot list {self.location.label}: {exc}") from None
        return [Entry(a.filename, a.st_size, float(a.st_mtime)) for a in attrs if stat.S_ISREG(a.st_mode or 0)]

    def stat(self, name: str) -> Entry | None:
        try:
            a = self.sftp.stat(self._path(name))
        except FileNotFoundError:
            return None
        return Entry(name, a.st_size, float(a.st_mtime))

    def read(self, name: str) -> Iterator[bytes]:
        """The file's bytes as far as its size when opened, with PREFETCH_REQUESTS read requests in flight."""
        with self.sftp.open(self._path(name), "rb") as fh:
            yield from PipelinedRead(self.sftp, fh, fh.stat().st_size, settings.SCORE_SFTP_REQUEST_BYTES)

    def local_path(self, name: str) -> None:
        return None

    def rename(self, name: str, new_name: str) -> None:
        try:
            self.sftp.posix_rename(self._path(name), self._path(new_name))
        except OSError:
            self.sftp.rename(self._path(name), self._path(new_name))

    def close(self) -> None:
        self.client.close()


class PipelinedRead:
    """Reads a remote file with up to PREFETCH_REQUESTS requests in flight, taking the answers in
    order on the reading thread itself.

    paramiko's own `prefetch(max_concurrent_requests=…)` issues its requests from a helper thread
    and decides it is done when no request is outstanding; a reader that catches up with that
    thread ends the prefetch early, after which every read is a round trip of its own while the
    answers still on their way pile up unread in memory (paramiko pull request 2519). Here the
    requests are sent by the reader, so memory stays at PREFETCH_REQUESTS × request size and the
    pipeline never stalls. It relies on SFTPClient's private request/answer primitives
    (`_async_request`, `_read_response`): requirements pin paramiko, and the SFTP tests run it
    against a real sshd, so a change there shows up before it ships.

    A file that shrinks while read ends early (the caller sees fewer bytes than the size); one that
    grows is read up to the size it had when opened.
    """

    def __init__(self, sftp: paramiko.SFTPClient, fh: paramiko.SFTPFile, size: int, request_bytes: int):
        self.sftp, self.fh, self.size, self.request_bytes = sftp, fh, size, request_bytes
        self.answers: dict[int, tuple[int, paramiko.Message]] = {}
        self.in_flight: deque[tuple[int, int, int]] = deque()  # (request number, offset, length)
        self.next_offset = 0

    def _async_response(self, t: int, msg: paramiko.Message, num: int) -> None:
        """Called by SFTPClient for an answer to one of this reader's requests."""
        self.answers[num] = (t, msg)

    def _ask(self) -> None:
        while self.next_offset < self.size and len(self.in_flight) < PREFETCH_REQUESTS:
            length = min(self.request_bytes, self.size - self.next_offset)
            num = self.sftp._async_request(self, CMD_READ, self.fh.handle, int64(self.next_offset), int(length))
            self.in_flight.append((num, self.next_offset, length))
            self.next_offset += length

    def _answer(self, num: int) -> tuple[int, paramiko.Message]:
        while num not in self.answers:
            self.sftp._read_response()
        return self.answers.pop(num)

    def __iter__(self) -> Iterator[bytes]:
        try:
            self._ask()
            while self.in_flight:
                num, offset, length = self.in_flight.popleft()
                t, msg = self._answer(num)
                if t == CMD_STATUS:
                    try:
                        self.sftp._convert_status(msg)
                    except EOFError:
                        return  # the file is shorter than when it was opened
                    raise OSError(f"read at {offset}: the server answered a status, not data")
                if t != CMD_DATA:
                    raise OSError(f"read at {offset}: unexpected answer type {t}")
                data = msg.get_string()
                if not data:
                    return
                if len(data) < length:  # a server may answer with less than asked: ask for the rest
                    self.fh.seek(offset + len(data))
                    data += self.fh.read(length - len(data))
                self._ask()
                yield data
                if len(data) < length:
                    return
        finally:
            try:  # collect what is still on its way before the file is closed
                while self.in_flight:
                    self._answer(self.in_flight.popleft()[0])
            except (OSError, EOFError, paramiko.SSHException):
                pass  # the connection is gone: nothing more will come


def source_open() -> LocalSource | SftpSource:
    location = location_parse(settings.SCORE_SOURCE_URL, setting="SCORE_SOURCE_URL")
    if location.scheme == "file":
        return LocalSource(location)
    return SftpSource(
        location,
        password=settings.SCORE_SOURCE_PASSWORD,
        key_file=settings.SCORE_SOURCE_KEY_FILE,
        known_hosts=settings.SCORE_KNOWN_HOSTS,
        timeout=settings.SCORE_SSH_TIMEOUT_S,
    )
