"""The folder score files are taken from: local (`file:///`) or over SFTP.

Both answer the same four questions: what is there (regular files, with size
and mtime), what is this one now, give me its bytes, rename it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from django.conf import settings

from flows.device_scores.remote import Location, RemoteError, location_parse, sftp_connect
from flows.device_scores.sftp_read import PipelinedRead

PIECE = 256 * 1024


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
        """The file's bytes as far as its size when opened, with many read requests in flight."""
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
