"""`make test` on a bare Debian machine: the system packages the suite needs are installed when missing (as root,
with apt-get), or make stops at once with one line naming the command to run. The packages are made to look
missing by pointing the Makefile's SSHD/CHROMIUM/CHROMEDRIVER at nothing, and apt-get is a stand-in that
records how it was called, so that no test installs anything."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.processes import ROOT

NOTHING = {"SSHD": "/nonexistent/sshd", "CHROMIUM": "no-such-chromium", "CHROMEDRIVER": "no-such-chromedriver"}


def make(*goals: str, **variables: str) -> subprocess.CompletedProcess:
    args = [f"{name}={value}" for name, value in variables.items()]
    env = {name: value for name, value in os.environ.items() if name != "DEBIAN_FRONTEND"}  # the Makefile sets it
    return subprocess.run(["make", "-s", *goals, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def apt_get(tmp_path):
    """An apt-get that writes its arguments and DEBIAN_FRONTEND to calls.txt."""
    script = tmp_path / "apt-get"
    calls = tmp_path / "calls.txt"
    script.write_text(f'#!/bin/sh\necho "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> {calls}\n')
    script.chmod(0o755)
    return script, calls


def test_it_names_the_command_to_run_when_not_root():
    done = make("test", USER_ID="1000", **NOTHING)
    assert done.returncode != 0
    assert done.stdout == ""  # stopped at once: no install, no pytest
    (line,) = done.stderr.splitlines()
    assert "run 'sudo apt-get install -y openssh-server chromium chromium-driver', then make test again" in line


def test_it_names_the_command_to_run_without_apt_get():
    done = make("test", USER_ID="0", APT_GET="no-such-apt-get", **{**NOTHING, "SSHD": "/bin/sh"})
    assert done.returncode != 0
    (line,) = done.stderr.splitlines()
    assert (
        "needs the Debian packages chromium chromium-driver: run 'sudo apt-get install -y chromium chromium-driver'"
        in (line)
    )


def test_it_installs_what_is_missing_as_root_with_apt_get(apt_get):
    script, calls = apt_get
    done = make("system-test", USER_ID="0", APT_GET=str(script), **{**NOTHING, "CHROMEDRIVER": "sh"})
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == [
        "DEBIAN_FRONTEND= update -qq",
        "DEBIAN_FRONTEND=noninteractive install -y -qq openssh-server chromium",
    ]


def test_it_does_nothing_when_everything_is_there(apt_get):
    script, calls = apt_get
    done = make("system-test", USER_ID="0", APT_GET=str(script), SSHD="/bin/sh", CHROMIUM="sh", CHROMEDRIVER="sh")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not calls.exists()


def test_it_names_python3_venv_when_python_has_no_venv():
    done = make("install", "-W", "requirements/base.txt", PYTHON="/nonexistent/python3", USER_ID="1000")
    assert done.returncode != 0
    (line,) = done.stderr.splitlines()
    assert "make install needs the Debian packages python3-venv: run 'sudo apt-get install -y python3-venv'" in line
