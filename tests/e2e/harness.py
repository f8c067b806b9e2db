"""The hub as a partner meets it: a real web server (which also serves the
stand-ins), a real django-q2 cluster, and its own database (a fresh SQLite
file, or a fresh PostgreSQL database when DATABASE_URL names PostgreSQL)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

from tests import processes
from tests.processes import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hub:
    def __init__(self, workdir: Path, web_processes: int = 1, **env: str):
        """The hub is served by gunicorn with `web_processes` processes (0: Django's runserver, whose
        small unbuffered writes cost a delayed-ACK wait of about 40 ms per request)."""
        self.workdir = workdir
        self.web_processes = web_processes
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.mail_dir = workdir / "mail"
        self.database_url, self._pg_admin = self._database(workdir)
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url,
            "VAR_DIR": str(workdir / "var"),
            "SECRET_KEY": "e2e-" + uuid.uuid4().hex,
            "HUB_BASE_URL": self.base,
            "SIMULATORS_ENABLED": "true",
            "DACS_BASE_URL": f"{self.base}/sim/dacs",
            "DERMS_BASE_URL": f"{self.base}/sim/derms",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "NOTIFY_TECHNICAL_EMAILS": "ops@utility.example",
            "NOTIFY_BUSINESS_EMAILS": "programs@utility.example",
            "RETRY_FIRST_S": "0.2",
            "RETRY_MAX_S": "1",
            "Q_WORKERS": "3",
            "SWEEP_POLL_S": "0.5",
            "LOG_LEVEL": "WARNING",
            "SIM_DACS_LATENCY_MS": "0",
            "SIM_DERMS_LATENCY_MS": "0",
            **env,
        }
        self.env.pop("Q_SYNC", None)
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}

    # --- lifecycle ----------------------------------------------------------
    @staticmethod
    def _database(workdir: Path) -> tuple[str, str | None]:
        outer = os.environ.get("DATABASE_URL", "")
        if not outer.startswith(("postgres://", "postgresql://")):
            return f"sqlite:///{workdir / 'hub.sqlite3'}", None
        name = f"hub_e2e_{uuid.uuid4().hex[:10]}"
        parts = urlsplit(outer)
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path=f"/{name}")), admin

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return processes.manage(self.env, *args, check=check)

    def start(self) -> Hub:
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        for system in ("DERMS", "DACS"):
            out = self.manage("partner_account", system, f"{system.lower()}-e2e", "--token").stdout
            found = re.search(r"token: (\w+)", out)
            assert found is not None, out
            self.tokens[system] = found.group(1)
        if self.web_processes:
            self.web = self._spawn(
                "-m",
                "gunicorn",
                "hub.wsgi",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.web_processes),
                "-k",
                "gthread",
                "--threads",
                "24",
                "--timeout",
                "300",
                log="web",
                python_module=True,
            )
        else:
            self.web = self._spawn("runserver", f"127.0.0.1:{self.port}", "--noreload", log="web")
        self.wait_for(self._up, timeout=60, what="web server")
        self.start_worker()
        return self

    def _spawn(self, *args: str, log: str, python_module: bool = False) -> subprocess.Popen:
        out = open(self.workdir / f"{log}.log", "ab")
        command = [sys.executable, *args] if python_module else [sys.executable, "manage.py", *args]
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self) -> None:
        self.worker = self._spawn("qcluster", log="worker")

    def process(self, role: str) -> subprocess.Popen:
        """The running `web` or `worker`, each the leader of a process group of its own."""
        process = {"web": self.web, "worker": self.worker}[role]
        if process is None:
            raise RuntimeError(f"the hub's {role} is not running")
        return process

    def kill_worker(self) -> None:
        """SIGKILL the whole cluster, as a crashed host would lose it."""
        worker = self.process("worker")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def stop(self) -> None:
        """Stop both process groups; the test is over, so nothing is waited for gracefully
        (a cluster's sweeper would hold a graceful stop for its whole polling loop)."""
        for proc in (self.worker, self.web):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        if self._pg_admin:
            name = urlsplit(self.database_url).path.lstrip("/")
            with psycopg.connect(self._pg_admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _up(self) -> bool:
        try:
            return requests.get(f"{self.base}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    # --- talking to it ------------------------------------------------------
    def post(self, path: str, body, system: str = "DERMS", **kwargs) -> requests.Response:
        return requests.post(
            f"{self.base}/api/v1/{path}",
            json=body,
            headers={"Authorization": f"Token {self.tokens[system]}"},
            timeout=120,
            **kwargs,
        )

    def post_body(self, path: str, body: bytes, content_type: str, system: str = "DERMS") -> requests.Response:
        """POST a body as it is (a multipart CSV) to /api/v1/<path>."""
        return requests.post(
            f"{self.base}/api/v1/{path}",
            data=body,
            headers={"Authorization": f"Token {self.tokens[system]}", "Content-Type": content_type},
            timeout=120,
        )

    def message(self, tracking_id: str, system: str = "DERMS") -> dict:
        resp = requests.get(
            f"{self.base}/api/v1/messages/{tracking_id}",
            headers={"Authorization": f"Token {self.tokens[system]}"},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()

    def knobs(self, partner: str, **changes) -> dict:
        resp = requests.put(f"{self.base}/sim/{partner.lower()}/_knobs", json=changes, headers=self._sim, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def records(self, partner: str, **filters) -> list[dict]:
        resp = requests.get(
            f"{self.base}/sim/{partner.lower()}/_records", params=filters, headers=self._sim, timeout=60
        )
        resp.raise_for_status()
        return resp.json()["records"]

    @property
    def _sim(self) -> dict:
        """The stand-ins' knobs and records ask for an account of the hub: the DERMS partner's token."""
        return {"Authorization": f"Token {self.tokens['DERMS']}"}

    def emails(self) -> list[Message]:
        if not self.mail_dir.exists():
            return []
        # Django's file backend appends every message to a file named by the second and the backend
        # object's id, so two emails sent in one second by one process can share a file; each message
        # ends with a line of 79 dashes, and one still being written (no such line yet) is not counted.
        separator = b"\n" + b"-" * 79 + b"\n"
        mails: list[Message] = []
        for path in sorted(self.mail_dir.iterdir()):
            *complete, _partial = path.read_bytes().split(separator)
            mails.extend(message_from_bytes(raw) for raw in complete)
        return mails

    def wait_for(self, predicate, timeout: float = 120, what: str = "condition", every: float = 0.3):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.web and self.web.poll() is not None:
                raise AssertionError(f"web server exited; see {self.workdir / 'web.log'}")
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; logs in {self.workdir}")

    def wait_finished(self, tracking_id: str, timeout: float = 180, system: str = "DERMS") -> dict:
        finished = ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED")
        return self.wait_for(
            lambda: (m := self.message(tracking_id, system))["status"] in finished and m,
            timeout=timeout,
            what=f"message {tracking_id} to finish",
        )
