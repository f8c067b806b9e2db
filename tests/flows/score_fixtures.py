"""Shared set-up of the score-file tests: a source folder, DERMS on a loopback port."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flows.device_scores.demo import score_csv
from tests.flows.score_receiver import ScoreReceiver

BAD_HEADER = b"nicId;score\nECB-1;0.5\n"
HEADER_ONLY = score_csv(0)


def drop(folder: Path, name: str, data: bytes, age_s: float = 60) -> Path:
    """A file written `age_s` seconds ago (older files are sent first)."""
    path = folder / name
    path.write_bytes(data)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def derms(settings):
    with ScoreReceiver() as receiver:
        settings.PARTNERS = {**settings.PARTNERS, "DERMS": {**settings.PARTNERS["DERMS"], "base_url": receiver.url}}
        yield receiver


@pytest.fixture
def inbox(settings, tmp_path, derms):
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings.SCORE_SOURCE_URL = f"file://{folder}"
    settings.SCORE_DESTINATION = "rest"
    settings.SCORE_MIN_AGE_S = 0
    settings.SCORE_HEARTBEAT_S = 0
    return folder
