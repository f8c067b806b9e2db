"""Running the hub's manage.py in a child process with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def local_env(folder: Path, **settings: str) -> dict:
    """This environment, with the hub's files and its SQLite database in `folder`, plus `settings`."""
    return {**os.environ, "VAR_DIR": str(folder), "DATABASE_URL": f"sqlite:///{folder / 'hub.sqlite3'}", **settings}


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
