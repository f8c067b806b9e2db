"""Child processes that end together: `make run`'s web server and worker cluster.

The children share one process group of their own. The terminal's Ctrl-C then
reaches only the command that started them, which stops them once and in
order (a cluster that got the terminal's SIGINT and then its parent's SIGTERM
could leave its workers behind). Ending the group as a whole also ends
django-q2's worker processes, which outlive their sentinel when it dies first.
A watchdog, in a session of its own, ends the group if the command dies
without stopping it (kill -9).

Run as a module, this file is that watchdog.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

GRACE_S = 10.0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal still counts
        return True
    return True


def group_end(pgid: int, *, grace_s: float, reap=lambda: None) -> None:
    """Wait up to `grace_s` for the group to empty, then SIGKILL whatever is left in it.

    `reap` collects exited children, which would otherwise stay in the group as zombies."""
    deadline = time.monotonic() + grace_s
    while True:
        reap()
        if not group_alive(pgid):
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    reap()


class ProcessGroup:
    """Start children in one new process group; `stop()` ends every process in it."""

    def __init__(self, *, grace_s: float = GRACE_S):
        self.grace_s = grace_s
        self.children: list[subprocess.Popen] = []
        self.pgid: int | None = None
        # Started first so that no child exists unwatched; it learns the group from the first line on its stdin,
        # and an end of file with no "stopped" before it (this process gone, however it ended) is its cue.
        self.watchdog = subprocess.Popen(
            [sys.executable, "-m", "hub.process_group", str(grace_s)],
            cwd=Path(__file__).resolve().parents[1],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.watchdog.stdin is not None  # stdin=PIPE
        self.to_watchdog: IO[bytes] = self.watchdog.stdin

    def start(self, args: list[str], **popen) -> subprocess.Popen:
        child = subprocess.Popen(args, process_group=self.pgid or 0, **popen)
        if self.pgid is None:
            self.pgid = child.pid
            self.to_watchdog.write(f"{self.pgid}\n".encode())
            self.to_watchdog.flush()
        self.children.append(child)
        return child

    def stop(self) -> None:
        """SIGTERM to each child (django-q2's cluster stops its workers on it), then SIGKILL to the rest of the group
        after the grace time."""
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        if self.pgid is not None:
            group_end(self.pgid, grace_s=self.grace_s, reap=lambda: [child.poll() for child in self.children])
            self.to_watchdog.write(b"stopped\n")
        self.to_watchdog.close()
        self.watchdog.wait()


def watch(grace_s: float) -> None:
    """Read the group's id, then wait: "stopped" means the command ended the group itself; end of file without it
    means the command is gone, and the group is ended here."""
    line = sys.stdin.readline()
    if not line.strip() or sys.stdin.read() == "stopped\n":
        return
    pgid = int(line)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
        group_end(pgid, grace_s=grace_s)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch(float(sys.argv[1]))
