"""A 1 GB score file over SFTP (OpenSSH's sshd on loopback) to a REST DERMS on loopback.

`manage.py transfer_scores` runs as its own process; its wall time gives the
throughput, set beside OpenSSH's own `sftp` client fetching the same file from
the same server (the physical reference), and its peak memory (ru_maxrss) is
printed beside that of a bare `manage.py check` (Django's own footprint).
Both run BENCH_SCORE_ROUNDS times (default 5), alternating; the medians are
compared, and each round's share is shown.
Targets: at least half the `sftp` client's throughput, memory under 100 MB.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from flows.device_scores.check import HEADER
from tests.flows.score_receiver import ScoreReceiver
from tests.flows.sftp_server import SftpServer

SIZE = int(os.environ.get("BENCH_SCORE_BYTES", 1024**3))
ROUNDS = int(os.environ.get("BENCH_SCORE_ROUNDS", 5))
ROOT = Path(__file__).resolve().parents[2]


def write_score_file(path: Path, size: int) -> None:
    rows = b"".join(
        f"ECB-{n:06d},ECOBEE,BYOT-SUMMER,{(n * 7919 % 10000) / 10000:.4f},2026-11-26T02:00:00Z\n".encode()
        for n in range(20_000)
    )
    with open(path, "wb") as fh:
        fh.write(HEADER + b"\n")
        written = len(HEADER) + 1
        while written + len(rows) <= size:
            fh.write(rows)
            written += len(rows)


def measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall seconds, peak resident MB and output of a child process."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return time.monotonic() - started, usage.ru_maxrss / 1024, out


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-scores-") as name:
        tmp = Path(name)
        inbox = tmp / "inbox"
        inbox.mkdir()
        score = inbox / "SDCSE_bench.csv"
        write_score_file(score, SIZE)
        size = score.stat().st_size
        server = SftpServer(tmp / "sshd").start()
        sftp_fetch = [
            "sftp",
            "-q",
            "-i",
            str(server.client_key),
            "-o",
            f"UserKnownHostsFile={server.known_hosts}",
            "-o",
            "BatchMode=yes",
            "-P",
            str(server.port),
            f"{server.user}@127.0.0.1:{score}",
            str(tmp / "copy.csv"),
        ]
        sftp_s, hub_s, run_s, hub_mb, received = [], [], [], [], []
        try:
            with ScoreReceiver(keep_bodies=False) as derms:
                env = {
                    **os.environ,
                    "VAR_DIR": str(tmp / "var"),
                    "DATABASE_URL": f"sqlite:///{tmp / 'var' / 'hub.sqlite3'}",
                    "SCORE_SOURCE_URL": server.url(inbox),
                    "SCORE_SOURCE_KEY_FILE": str(server.client_key),
                    "SCORE_KNOWN_HOSTS": str(server.known_hosts),
                    "SCORE_MIN_AGE_S": "0",
                    "DERMS_BASE_URL": derms.url,
                    "LOG_LEVEL": "WARNING",
                    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                }
                manage = [sys.executable, "manage.py"]
                measured([*manage, "migrate", "--noinput"], env)
                _, django_mb, _ = measured([*manage, "check"], env)
                # The two alternate, so that a change in the machine's load falls on both.
                for _ in range(ROUNDS):
                    sftp_s.append(measured(sftp_fetch, dict(os.environ))[0])
                    (tmp / "copy.csv").unlink()
                    seconds, peak, out = measured([*manage, "transfer_scores"], env)
                    hub_s.append(seconds)
                    hub_mb.append(peak)
                    took = re.search(r"bytes in ([0-9.]+) s", out)
                    assert took is not None, out
                    run_s.append(float(took.group(1)))
                    (inbox / f"Sent-{score.name}").rename(score)  # the same file again for the next round
            received = derms.received
        finally:
            server.stop()
    mb = size / 1e6
    sftp, hub, hub_run = median(sftp_s), median(hub_s), median(run_s)
    return [
        f"file: {mb:.0f} MB, {ROUNDS} rounds; received intact by DERMS every time:"
        f" {len(received) == ROUNDS and all(r.intact for r in received)}",
        f"OpenSSH sftp client: median {sftp:.1f} s, {mb / sftp:.0f} MB/s (the physical reference;"
        f" {spread(sftp_s, mb)})",
        f"hub (transfer_scores, spool + SHA-256 + POST): median {hub:.1f} s, {mb / hub:.0f} MB/s"
        f" = {sftp / hub:.0%} of sftp (target >= 50%; round by round {shares(sftp_s, hub_s)})",
        f"the run itself (without the process start): median {hub_run:.1f} s, {mb / hub_run:.0f} MB/s"
        f" = {sftp / hub_run:.0%} of sftp (round by round {shares(sftp_s, run_s)})",
        f"peak memory of transfer_scores: {max(hub_mb):.0f} MB at most (target < 100 MB);"
        f" a bare `manage.py check`: {django_mb:.0f} MB",
    ]


def spread(seconds: list[float], mb: float) -> str:
    return f"{mb / max(seconds):.0f}–{mb / min(seconds):.0f} MB/s"


def shares(reference: list[float], ours: list[float]) -> str:
    return ", ".join(f"{r / o:.0%}" for r, o in zip(reference, ours, strict=True))
