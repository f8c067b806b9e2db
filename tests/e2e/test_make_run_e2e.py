"""`make run` (`manage.py run_local`) as a developer meets it: it refuses a taken port before starting anything,
and leaves no process behind on Ctrl-C or when it is killed; a second run says its demo messages were duplicates."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import free_port
from tests.processes import ROOT, local_env, manage

pytestmark = pytest.mark.e2e

WORKERS = 2
# run_local, its watchdog, runserver, qcluster and django-q2's sentinel, monitor, pusher and workers.
EVERY_PROCESS = 7 + WORKERS


def processes_of(folder: Path) -> list[int]:
    """Live processes whose environment names `folder` as their VAR_DIR (a zombie's environment reads empty)."""
    marker = f"VAR_DIR={folder}".encode()
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except OSError:
            continue
    return pids


def wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def env(tmp_path):
    env = local_env(
        tmp_path,
        HUB_BASE_URL=f"http://127.0.0.1:{free_port()}",
        DEBUG="true",
        SIMULATORS_ENABLED="true",
        Q_WORKERS=str(WORKERS),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        ADMIN_PASSWORD="make-run-test",
    )
    manage(env, "migrate", "--noinput")
    yield env
    for pid in processes_of(tmp_path):  # only if a test failed: nothing may outlive it
        os.kill(pid, signal.SIGKILL)


def run_local(env: dict, *args: str) -> subprocess.Popen:
    # A session of its own, so that a SIGINT to its process group is what a terminal's Ctrl-C would send.
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_local", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def until_ready(proc: subprocess.Popen) -> list[str]:
    """The lines run_local printed up to its last line of instructions."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Ctrl-C stops"):
            return lines
    raise AssertionError("run_local ended before it was ready:\n" + "".join(lines))


def test_it_refuses_a_taken_port_before_starting_anything(env, tmp_path):
    port = int(env["HUB_BASE_URL"].rsplit(":", 1)[1])
    with socket.create_server(("127.0.0.1", port)):
        done = manage(env, "run_local", "--no-demo", check=False, timeout=120)
        assert done.returncode != 0
        error = done.stderr.strip().splitlines()
        assert len(error) == 1
        assert f"port {port} on 127.0.0.1 is not free" in error[0]
        assert f"HUB_BASE_URL=http://127.0.0.1:{port + 1}" in error[0]
        assert processes_of(tmp_path) == []


def test_it_stops_every_process_it_started_on_ctrl_c_and_says_so_for_duplicates(env, tmp_path):
    outputs = []
    for demo in (True, True, False):
        proc = run_local(env, *(() if demo else ("--no-demo",)))
        lines = until_ready(proc)
        wait_for(lambda: len(processes_of(tmp_path)) >= EVERY_PROCESS, timeout=60, what="the worker cluster")
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)  # never waits forever for a hub that did not stop
        lines += rest.splitlines(keepends=True)
        assert proc.returncode == 0, "".join(lines)
        assert lines[-1] == "stopped\n"
        assert processes_of(tmp_path) == []
        outputs.append("".join(lines))
    assert "duplicate" not in outputs[0]
    assert "enrollment collection of 25 requests (one for an unknown program) → 202" in outputs[0]
    duplicate = "enrollment collection of 25 requests (one for an unknown program) → 200 (duplicate: already sent)"
    assert duplicate in outputs[1]
    assert "status check of ECB-000123 → 200 (duplicate: already sent)" in outputs[1]


def test_its_watchdog_ends_every_process_when_it_is_killed(env, tmp_path):
    proc = run_local(env, "--no-demo")
    until_ready(proc)
    wait_for(lambda: len(processes_of(tmp_path)) >= EVERY_PROCESS, timeout=60, what="the worker cluster")
    proc.kill()
    proc.wait(timeout=10)
    wait_for(lambda: processes_of(tmp_path) == [], timeout=60, what="every process to end")
