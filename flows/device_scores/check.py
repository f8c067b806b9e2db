"""What the hub checks in a score file while it reads it: the header, the row
count and the SHA-256, in one pass, without holding the file in memory."""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass
from typing import BinaryIO

HEADER = b"nicId,headEndSystem,programCode,score,calculatedDateTime"
BOM = b"\xef\xbb\xbf"
MAX_HEADER = 64 * 1024


@dataclass
class Checked:
    size: int
    rows: int
    sha256: str
    problem: str  # empty when the file may be sent


class Checker:
    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0
        self.newlines = 0
        self.head = b""
        self.last = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.hash.update(chunk)
        self.size += len(chunk)
        self.newlines += chunk.count(b"\n")
        if b"\n" not in self.head and len(self.head) <= MAX_HEADER:
            self.head += chunk[: MAX_HEADER + 1]
        self.last = chunk[-1:]

    def result(self) -> Checked:
        lines = self.newlines + (1 if self.size and self.last != b"\n" else 0)
        rows = max(lines - 1, 0)
        return Checked(self.size, rows, self.hash.hexdigest(), self._problem(rows))

    def _problem(self, rows: int) -> str:
        if self.size == 0:
            return "empty file"
        first = self.head.split(b"\n", 1)[0]
        if b"\n" not in self.head and len(self.head) > MAX_HEADER:
            return f"line 1: no end of the header line in the first {MAX_HEADER} bytes"
        header = first.removeprefix(BOM).rstrip(b"\r")
        if header != HEADER:
            shown = header[:200].decode("utf-8", "replace")
            return f"line 1: header is {shown!r}, expected {HEADER.decode()!r}"
        if rows == 0:
            return "no rows after the header"
        return ""


class Spooler:
    """Checks each piece read (and copies it to a local spool) on a thread of its own,
    so that hashing and disk writes overlap the network reads. At most QUEUED pieces wait."""

    QUEUED = 8

    def __init__(self, spool: BinaryIO | None):
        self.checker = Checker()
        self.spool = spool
        self.pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=self.QUEUED)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="score-spooler", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while (chunk := self.pieces.get()) is not None:
            if self.error is not None:
                continue
            try:
                self.checker.feed(chunk)
                if self.spool is not None:
                    self.spool.write(chunk)
            except BaseException as exc:  # handed to the reading thread by close()
                self.error = exc

    def feed(self, chunk: bytes) -> None:
        self.pieces.put(chunk)

    def close(self) -> Checked:
        self.pieces.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.checker.result()
