"""Where score files go: DERMS's REST endpoint (through the outbound chokepoint)
or an SFTP folder, each a `Destination`. Either way the file is streamed, never held whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import paramiko
from django.conf import settings

from flows.device_scores.remote import RemoteError, location_parse, sftp_connect
from hub.models import OutboundCall
from hub.partners import Operation, call

PIECE = 1024 * 1024
Progress = Callable[[int], None]

DEVICE_SCORE = Operation("DERMS", "device_score", "DERMS_DEVICE_SCORE_PATH")


@dataclass
class Delivery:
    outcome: str  # SENT, REFUSED (source renamed Error-) or UNREACHABLE (source left as it is)
    status: int | None = None
    response: str = ""
    call: OutboundCall | None = None

    SENT = "SENT"
    REFUSED = "REFUSED"
    UNREACHABLE = "UNREACHABLE"


def _pieces(fileobj: BinaryIO, progress: Progress) -> Iterator[bytes]:
    sent = 0
    while chunk := fileobj.read(PIECE):
        sent += len(chunk)
        progress(sent)
        yield chunk


class Destination(Protocol):
    """What a transfer run asks of the place files are sent to."""

    def send(
        self, *, name: str, fileobj: BinaryIO, size: int, sha256: str, correlation_id: str, progress: Progress
    ) -> Delivery:
        """Send the file from `fileobj`'s position, calling `progress` with the bytes sent so far.

        Only a file that reached the destination whole is SENT; what it refused is REFUSED, and
        anything that leaves it out of reach (or the run out of time, raised by `progress`) UNREACHABLE.
        """
        ...

    def close(self) -> None: ...


class RestDestination(Destination):
    """`POST {DERMS}/device_score`, the file as the body; 200 or 202 is success."""

    def __init__(self) -> None:
        self.label = f"{settings.PARTNERS['DERMS']['base_url']}/{DEVICE_SCORE.path}"

    def send(
        self, *, name: str, fileobj: BinaryIO, size: int, sha256: str, correlation_id: str, progress: Progress
    ) -> Delivery:
        """`fileobj` is a local file (the source's, or the spooled copy), so it can be streamed twice:
        an OAuth2 token DERMS no longer takes (401) is renewed and the file sent again, once."""
        start = fileobj.tell()
        for attempt in (1, 2):
            fileobj.seek(start)
            result = call(
                DEVICE_SCORE,
                data=_pieces(fileobj, progress),
                body_length=size,
                headers={
                    "Content-Type": "text/csv",
                    "X-File-Name": name,
                    "X-Content-SHA256": sha256,
                    "X-Correlation-ID": correlation_id,
                },
                read_timeout=settings.SCORE_SEND_TIMEOUT_S,
            )
            # After a 401 on a streamed call the chokepoint has dropped its cached token.
            if not (result.status == 401 and settings.PARTNERS["DERMS"]["auth"] == "oauth2" and attempt == 1):
                break
        response = result.body if isinstance(result.body, str) else str(result.body or "")
        if result.status is None:
            return Delivery(Delivery.UNREACHABLE, None, result.error, result.call)
        if result.status in (200, 202) and result.ok:
            return Delivery(Delivery.SENT, result.status, response[:2000], result.call)
        return Delivery(Delivery.REFUSED, result.status, result.error or response[:2000], result.call)

    def close(self) -> None:
        pass


class SftpDestination(Destination):
    """Upload as `<name>.part`, confirm the size, then rename to `<name>`."""

    def __init__(self) -> None:
        self.location = location_parse(settings.SCORE_DESTINATION, setting="SCORE_DESTINATION")
        self.label = self.location.label
        self.client: paramiko.SSHClient | None = None
        self.sftp: paramiko.SFTPClient | None = None

    def _connect(self) -> paramiko.SFTPClient:
        if self.sftp is None:
            self.client, self.sftp = sftp_connect(
                self.location,
                password=settings.SCORE_DESTINATION_PASSWORD,
                key_file=settings.SCORE_DESTINATION_KEY_FILE,
                known_hosts=settings.SCORE_DESTINATION_KNOWN_HOSTS,
                timeout=settings.SCORE_SSH_TIMEOUT_S,
                setting="SCORE_DESTINATION_KNOWN_HOSTS",
            )
        return self.sftp

    def send(
        self, *, name: str, fileobj: BinaryIO, size: int, sha256: str, correlation_id: str, progress: Progress
    ) -> Delivery:
        final = f"{self.location.path.rstrip('/')}/{name}"
        part = f"{final}.part"
        try:
            sftp = self._connect()
            with sftp.open(part, "wb") as remote:
                remote.set_pipelined(True)
                for chunk in _pieces(fileobj, progress):
                    remote.write(chunk)
            uploaded = sftp.stat(part).st_size
            if uploaded != size:
                return Delivery(Delivery.UNREACHABLE, None, f"{part} has {uploaded} bytes after the upload, not {size}")
            try:
                sftp.posix_rename(part, final)
            except OSError:
                sftp.rename(part, final)
        except RemoteError as exc:
            return Delivery(Delivery.UNREACHABLE, None, str(exc))
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self.close()
            return Delivery(Delivery.UNREACHABLE, None, f"upload to {self.label} failed: {type(exc).__name__}: {exc}")
        return Delivery(Delivery.SENT, None, f"uploaded {size} bytes to {final}")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = self.sftp = None


def destination_open() -> Destination:
    if settings.SCORE_DESTINATION == "rest":
        return RestDestination()
    return SftpDestination()
