"""A real OpenSSH server (Debian's sshd, internal-sftp) on a loopback port, with
its own host key, config and authorized key in a temporary folder."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def _keygen(path: Path, kind: str = "ed25519") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "", "-f", str(path)], check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SftpServer:
    def __init__(self, folder: Path, ciphers: str = ""):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.port = _free_port()
        self.host_key = folder / "host_key"
        self.client_key = folder / "client_key"
        self.known_hosts = folder / "known_hosts"
        self.other_host_key = folder / "other_host_key"
        for key in (self.host_key, self.client_key, self.other_host_key):
            _keygen(key)
        (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
        self.known_hosts.write_text(self.known_hosts_line(self.host_key))
        self.config = folder / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    "PidFile none",
                    f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                    "StrictModes no",
                    "UsePAM no",
                    "PermitRootLogin yes",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                    *([f"Ciphers {ciphers}"] if ciphers else []),
                    "",
                ]
            )
        )
        self.process: subprocess.Popen | None = None

    def known_hosts_line(self, key: Path) -> str:
        kind, blob = (key.parent / f"{key.name}.pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {blob}\n"

    def url(self, path: Path) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{path}"

    def start(self) -> SftpServer:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation directory
        self.process = process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"sshd exited: {process.communicate()[1].decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def sessions(self) -> list[int]:
        """Process ids of the sshd processes serving connections (children of the listener)."""
        found: list[int] = []
        if self.process is None:
            return found
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == self.process.pid:
                    found.append(int(entry.name))
        return found

    def drop_connections(self) -> int:
        """Kill every connection's sshd process, as a network failure would end them."""
        killed = 0
        for pid in self.sessions():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.drop_connections()
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory):
    server = SftpServer(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()
