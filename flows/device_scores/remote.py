"""Where score files come from and go to: `sftp://user@host:port/dir` or `file:///dir`,
and the SFTP connection (host key always checked, never trusted on first use)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import unquote, urlsplit

import paramiko
from django.core.exceptions import ImproperlyConfigured

from flows.device_scores.pipe import GatheringPipe

# What the server may send before the hub has taken it (paramiko's default is 2 MB). A larger
# window keeps the server sending through the moments the hub's threads are busy elsewhere:
# 1 GB read 10–15 % sooner with 8 MB than with 2 MB, and a little sooner again with 16 MB, for
# no more peak memory (the reader keeps up; the window only absorbs its pauses).
SFTP_WINDOW = 16 * 1024 * 1024
SFTP_MAX_PACKET = 256 * 1024
# Offered first: AES-GCM authenticates as it decrypts, which costs both ends far less CPU per
# byte than AES-CTR with a separate HMAC. Every OpenSSH since 6.2 has it; a server without it
# gets paramiko's other ciphers, in paramiko's order.
CIPHERS_FIRST = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


def _transport(sock, **kwargs) -> paramiko.Transport:
    transport = paramiko.Transport(sock, **kwargs)
    options = transport.get_security_options()
    offered = options.ciphers
    options.ciphers = tuple(c for c in CIPHERS_FIRST if c in offered) + tuple(
        c for c in offered if c not in CIPHERS_FIRST
    )
    return transport


class ChannelBuffer(Protocol):
    """A channel's buffer of received bytes, which a GatheringPipe replaces: paramiko's Channel calls only what
    tests/flows/test_paramiko_private_api.py finds on it (paramiko's stubs type it as their own BufferedPipe)."""

    in_buffer: GatheringPipe


class RemoteError(Exception):
    """The far side could not be reached or refused us; the text says why, for the run record."""


@dataclass(frozen=True)
class Location:
    scheme: str
    path: str
    user: str = ""
    host: str = ""
    port: int = 22

    @property
    def label(self) -> str:
        """The location as shown in records and emails: never with a password."""
        if self.scheme == "file":
            return f"file://{self.path}"
        return f"sftp://{self.user}@{self.host}:{self.port}{self.path}"


def location_parse(url: str, *, setting: str) -> Location:
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ImproperlyConfigured(f"{setting}: a local folder is written file:///absolute/path")
        return Location("file", unquote(parts.path))
    if parts.scheme != "sftp" or not parts.hostname or not parts.username:
        raise ImproperlyConfigured(f"{setting}: expected sftp://user@host:port/absolute/path or file:///path")
    if parts.password:
        raise ImproperlyConfigured(f"{setting}: put the password in its own _PASSWORD setting, not in the URL")
    try:
        port = parts.port or 22
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting}: bad port ({exc})") from None
    return Location("sftp", unquote(parts.path) or "/", unquote(parts.username), parts.hostname, port)


def sftp_connect(
    location: Location, *, password: str, key_file: str, known_hosts: str, timeout: float, setting: str
) -> tuple[paramiko.SSHClient, paramiko.SFTPClient]:
    """Open an SFTP session; an unknown or changed host key refuses the connection."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    host = location.host if location.port == 22 else f"[{location.host}]:{location.port}"
    if not known_hosts:
        raise RemoteError(f"{setting}: no known-hosts file is set, so the host key of {host} cannot be checked")
    if not Path(known_hosts).is_file():
        raise RemoteError(f"{setting}: known-hosts file {known_hosts} does not exist")
    client.load_host_keys(known_hosts)
    try:
        client.connect(
            location.host,
            port=location.port,
            username=location.user,
            password=password or None,
            key_filename=key_file or None,
            allow_agent=False,
            look_for_keys=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            channel_timeout=timeout,
            transport_factory=_transport,
        )
        transport = client.get_transport()
        if transport is None:  # connect() returned without raising, yet left no connection
            raise paramiko.SSHException("the connection closed as it opened")
        transport.set_keepalive(max(int(timeout), 1))
        channel = transport.open_session(window_size=SFTP_WINDOW, max_packet_size=SFTP_MAX_PACKET)
        cast(ChannelBuffer, channel).in_buffer = GatheringPipe()  # before the first byte arrives
        channel.invoke_subsystem("sftp")
        sftp = paramiko.SFTPClient(channel)
        channel.settimeout(timeout)
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise RemoteError(
            f"host key of {host} does not match {setting} (it has changed): connection refused; "
            f"offered {exc.key.get_name()} {exc.key.fingerprint}"
        ) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise RemoteError(f"{location.user}@{host}: authentication failed ({exc})") from None
    except paramiko.SSHException as exc:
        client.close()
        if "not found in known_hosts" in str(exc):
            raise RemoteError(f"host key of {host} is not in {setting}: unknown host refused") from None
        raise RemoteError(f"{host}: SSH error: {exc}") from None
    except (OSError, EOFError) as exc:
        client.close()
        raise RemoteError(f"{host}: cannot connect: {exc}") from None
    return client, sftp
