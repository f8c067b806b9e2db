"""The folder score files are taken from: local (`file:///`) or over SFTP.

Both are a `Source`: they answer the same four questions: what is there (regular
files, with size and mtime), what is this one now, give me its bytes, rename it
(never over another file: `FileExistsError` when the new name is taken).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import paramiko
from django.conf import settings

from flows.device_scores.remote import Location, RemoteError, location_parse, sftp_connect
from flows.device_scores.sftp_read import PipelinedRead

PIECE = 256 * 1024
# A source whose folder has this many `Sent-<name>.<n>` already is better reported than searched on.
MAX_RENAME_SUFFIX = 1000
# link() refused by the filesystem itself (no hard links there): rename after a check instead.
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    mtime: float


class Source(Protocol):
    """What a transfer run (and the console's resend) asks of the folder files are taken from."""

    location: Location  # its label is recorded with each file taken

    def list(self) -> list[Entry]:
        """The regular files there now; RemoteError when the folder cannot be listed."""
        ...

    def stat(self, name: str) -> Entry | None:
        """The file as it is now, or None when it is gone."""
        ...

    def read(self, name: str) -> Iterator[bytes]:
        """The file's bytes, in pieces."""
        ...

    def local_path(self, name: str) -> Path | None:
        """The file itself when it can be read in place, or None (it is then spooled as it is read)."""
        ...

    def rename(self, name: str, new_name: str) -> None:
        """Rename, never over another file: FileExistsError when `new_name` is taken."""
        ...

    def close(self) -> None: ...


class LocalSource(Source):
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
        """A hard link then an unlink: unlike os.rename, link() refuses a name that is taken."""
        old, new = self.folder / name, self.folder / new_name
        try:
            os.link(old, new, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            if new.exists() or new.is_symlink():
                raise FileExistsError(errno.EEXIST, "file exists", str(new)) from None
            os.rename(old, new)
            return
        os.unlink(old)

    def close(self) -> None:
        pass


class SftpSource(Source):
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
        return [self._entry(a.filename, a) for a in attrs if stat.S_ISREG(a.st_mode or 0)]

    def stat(self, name: str) -> Entry | None:
        try:
            a = self.sftp.stat(self._path(name))
        except FileNotFoundError:
            return None
        return self._entry(name, a)

    def _entry(self, name: str, attrs: paramiko.SFTPAttributes) -> Entry:
        """Size and time are optional in SFTP: a file without them cannot be judged complete."""
        if attrs.st_size is None or attrs.st_mtime is None:
            raise RemoteError(f"{self.location.label} gives no size or modification time for {name}")
        return Entry(name, attrs.st_size, float(attrs.st_mtime))

    def read(self, name: str) -> Iterator[bytes]:
        """The file's bytes as far as its size when opened, with many read requests in flight."""
        with self.sftp.open(self._path(name), "rb") as fh:
            size = self._entry(name, fh.stat()).size
            yield from PipelinedRead(self.sftp, fh, size, settings.SCORE_SFTP_REQUEST_BYTES)

    def local_path(self, name: str) -> None:
        return None

    def rename(self, name: str, new_name: str) -> None:
        """SFTP's own rename, never posix-rename@openssh.com (which replaces the target).

        The protocol's rename fails when the new name exists (OpenSSH links, then unlinks); the
        check before it covers servers that replace anyway, the check after tells why it failed.
        """
        if self.stat(new_name) is not None:
            raise FileExistsError(errno.EEXIST, "file exists", self._path(new_name))
        try:
            self.sftp.rename(self._path(name), self._path(new_name))
        except OSError:
            if self.stat(new_name) is not None:
                raise FileExistsError(errno.EEXIST, "file exists", self._path(new_name)) from None
            raise

    def close(self) -> None:
        self.client.close()


def source_rename_aside(*, source: Source, name: str, new_name: str) -> str:
    """Rename to `new_name`, or `new_name.1`, `.2`… when taken; returns the name used."""
    for n in range(MAX_RENAME_SUFFIX + 1):
        candidate = f"{new_name}.{n}" if n else new_name
        try:
            source.rename(name, candidate)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(errno.EEXIST, f"{new_name} to {new_name}.{MAX_RENAME_SUFFIX} are all taken", new_name)


def source_open() -> Source:
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
