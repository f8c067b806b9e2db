"""The buffer between paramiko's transport thread and a channel's reader, made for bulk reads.

paramiko's own `BufferedPipe` keeps the bytes in one array: every packet fed is copied onto its
end, every read copies the front out twice and shifts all that is left, and the reader is woken
for every SSH packet (about 32 KB from OpenSSH). Reading a 1 GB file over SFTP, that spent a
third of the CPU and handed the interpreter lock back and forth eight times per 255 KB answer.

`GatheringPipe` keeps the packets as they came (no copy on the way in), copies once on the way
out, and lets its reader say how many bytes it waits for (`want`, good for one read), so that it
is woken once they are all there. It has the interface `Channel` uses: `feed`, `read`,
`read_ready`, `set_event`, `close` and `len()`.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from paramiko.buffered_pipe import PipeTimeout


class GatheringPipe:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._event: threading.Event | None = None
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._closed = False
        self.want = 1

    def set_event(self, event: threading.Event) -> None:
        with self._lock:
            self._event = event
            if self._closed or self._size:
                event.set()
            else:
                event.clear()

    def feed(self, data: bytes) -> None:
        with self._lock:
            if self._event is not None:
                self._event.set()
            if data:
                self._chunks.append(bytes(data))
                self._size += len(data)
            if self._size >= self.want:
                self._cv.notify_all()

    def read_ready(self) -> bool:
        with self._lock:
            return self._size > 0

    def read(self, nbytes: int, timeout: float | None = None) -> bytes:
        """Up to `nbytes`, once `want` bytes are there (then `want` is 1 again); empty once closed.

        The timeout counts from the last byte that arrived: when it runs out with fewer bytes
        than wanted, those are returned; with none, `PipeTimeout` (the channel's socket.timeout).
        """
        with self._lock:
            try:
                self._wait(timeout)
            finally:
                self.want = 1
            out = self._take(nbytes)
            if not self._size and self._event is not None and not self._closed:
                self._event.clear()
            return out

    def _wait(self, timeout: float | None) -> None:
        have = self._size
        if timeout == 0.0 and not have and not self._closed:
            raise PipeTimeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._size < self.want and not self._closed and timeout != 0.0:
            self._cv.wait(None if deadline is None else max(deadline - time.monotonic(), 0.0))
            if self._size > have:
                have = self._size
                deadline = None if timeout is None else time.monotonic() + timeout
            elif deadline is not None and time.monotonic() >= deadline:
                if have:
                    return  # what did come is returned
                raise PipeTimeout()

    def _take(self, nbytes: int) -> bytes:
        parts = []
        left = nbytes
        while left > 0 and self._chunks:
            chunk = self._chunks[0]
            if len(chunk) <= left:
                parts.append(self._chunks.popleft())
                left -= len(chunk)
            else:
                parts.append(chunk[:left])
                self._chunks[0] = chunk[left:]
                left = 0
        if not parts:
            return b""
        out = parts[0] if len(parts) == 1 else b"".join(parts)
        self._size -= len(out)
        return out

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._cv.notify_all()
            if self._event is not None:
                self._event.set()

    def __len__(self) -> int:
        with self._lock:
            return self._size
