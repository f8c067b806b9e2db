"""Running the hub's manage.py in a child process with its own environment."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(env: dict, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=check,
        timeout=timeout,
        capture_output=True,
        text=True,
    )


def shell_last_line(env: dict, code: str) -> str:
    """Run `code` in `manage.py shell` and return the last line it printed."""
    return manage(env, "shell", "-c", code, timeout=120).stdout.strip().splitlines()[-1]
