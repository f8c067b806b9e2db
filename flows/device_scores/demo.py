"""Demo for `make run`: two score files (and one with a wrong header) dropped in
the local source folder, and a transfer run started at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django_q.tasks import async_task

from flows.device_scores.check import HEADER
from flows.device_scores.remote import location_parse


def score_csv(rows: int, *, start: int = 0) -> bytes:
    lines = [HEADER]
    for n in range(start, start + rows):
        lines.append(f"ECB-{n:06d},ECOBEE,BYOT-SUMMER,{(n * 7919 % 10000) / 10000:.4f},2026-11-26T02:00:00Z".encode())
    return b"\n".join(lines) + b"\n"


def send(base: str, partners: dict) -> list[str]:
    location = location_parse(settings.SCORE_SOURCE_URL, setting="SCORE_SOURCE_URL")
    if location.scheme != "file":
        return ["score files: the source is not a local folder; no demo files dropped"]
    folder = Path(location.path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d%H%M%S")
    files = {
        f"SDCSE_{stamp}_1.csv": score_csv(1200),
        f"SDCSE_{stamp}_2.csv": score_csv(800, start=1200),
        f"SDCSE_{stamp}_3.csv": b"nicId;score\nECB-000001;0.5\n",
    }
    old = time.time() - settings.SCORE_MIN_AGE_S - 60  # written a while ago: not "still being written"
    for name, data in files.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (old, old))
    async_task("flows.device_scores.tasks.transfer_requested")
    return [f"score files: {len(files)} dropped in {folder} (one with a wrong header), a transfer run started"]
