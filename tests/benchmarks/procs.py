"""Peak memory of the processes a benchmark started (Linux /proc)."""

import os
from pathlib import Path


def process_group(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has held."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def group_peaks(pgid: int) -> dict[int, float]:
    return {pid: peak_rss_mb(pid) for pid in process_group(pgid)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, with that of the children it has reaped
    (django-q2 replaces its worker processes after a number of tasks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    total = 0.0
    for pid in process_group(pgid):
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total
