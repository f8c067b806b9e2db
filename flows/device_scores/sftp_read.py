"""Reading a remote file over SFTP with many read requests in flight.

paramiko's own `prefetch(max_concurrent_requests=…)` issues its requests from a helper thread
and decides it is done when no request is outstanding; a reader that catches up with that
thread ends the prefetch early, after which every read is a round trip of its own while the
answers still on their way pile up unread in memory (paramiko pull request 2519). Here the
requests are sent by the reader, the pipeline never stalls, and what is received but not yet
read stays within the SSH window.

The answers are also taken off the channel here, in pieces of about one answer, and cut into
SFTP packets in one buffer: paramiko's reader assembles each packet with repeated `bytes +=` and
copies the data twice more on the way out, which on a fast link costs more CPU than the
decryption. With a `GatheringPipe` under the channel, the reader is woken once the rest of the
answer it waits for is there, not for every SSH packet. This uses
SFTPClient's request primitive (`_async_request`) and its table of expected answers
(`_expecting`); requirements pin paramiko, tests/flows/test_paramiko_private_api.py checks each
part by name, and the SFTP tests run this against a real sshd, so a change there shows up before
it ships.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator
from typing import Protocol, cast

import paramiko
from paramiko.sftp import CMD_DATA, CMD_READ, CMD_STATUS, int64

from flows.device_scores.pipe import GatheringPipe

REQUESTS_IN_FLIGHT = 32
# Taken off the channel at once: about one answer. More only adds to the peak memory; and it
# stays well under the SSH window, so what the reader waits for can always be sent.
RECEIVE_BYTES = 256 * 1024
MAX_ANSWER = 16 * 1024 * 1024  # paramiko's own bound: a longer length is garbage

ANSWER_HEAD = struct.Struct(">IBI")  # packet length, type, request number
DATA_LENGTH = struct.Struct(">I")


class SFTPClientPrivate(Protocol):
    """The private parts of paramiko's SFTPClient this reader uses (paramiko's stubs leave them out)."""

    sock: paramiko.Channel
    _expecting: dict[int, object]

    def _async_request(self, fileobj: object, t: int, *args: object) -> int: ...

    def _convert_status(self, msg: paramiko.Message) -> None: ...


class PipelinedRead:
    """The bytes of an open remote file up to `size`, in pieces of `request_bytes`.

    A file that shrinks while read ends early (the caller sees fewer bytes than the size); one
    that grows is read up to the size it had when opened. A server may answer a read with fewer
    bytes than asked: the rest is asked for again before the piece is handed on.
    """

    def __init__(self, sftp: paramiko.SFTPClient, fh: paramiko.SFTPFile, size: int, request_bytes: int):
        self.sftp = cast(SFTPClientPrivate, sftp)
        self.fh, self.size, self.request_bytes = fh, size, request_bytes
        self.channel = sftp.sock
        self.buffer = bytearray()
        self.answers: dict[int, tuple[int, bytes]] = {}
        self.waiting: set[int] = set()  # request numbers whose answer has not been read yet
        self.in_flight: deque[tuple[int, int, int]] = deque()  # (request number, offset, length)
        self.next_offset = 0

    def _request(self, offset: int, length: int) -> int:
        num = self.sftp._async_request(self, CMD_READ, self.fh.handle, int64(offset), int(length))
        self.waiting.add(num)
        return num

    def _ask(self) -> None:
        while self.next_offset < self.size and len(self.in_flight) < REQUESTS_IN_FLIGHT:
            length = min(self.request_bytes, self.size - self.next_offset)
            self.in_flight.append((self._request(self.next_offset, length), self.next_offset, length))
            self.next_offset += length

    def _fill(self, need: int) -> None:
        while len(self.buffer) < need:
            if isinstance(self.channel.in_buffer, GatheringPipe):  # woken once the rest is there
                self.channel.in_buffer.want = min(need - len(self.buffer), RECEIVE_BYTES)
            chunk = self.channel.recv(RECEIVE_BYTES)
            if not chunk:
                raise EOFError("the SFTP server closed the channel")
            self.buffer += chunk

    def _next_answer(self) -> None:
        """Take one whole answer off the channel and keep it under its request number."""
        self._fill(ANSWER_HEAD.size)
        length, kind, num = ANSWER_HEAD.unpack_from(self.buffer)
        if not 5 <= length <= MAX_ANSWER:
            raise paramiko.SSHException(f"garbage answer from the SFTP server: packet length {length}")
        if num not in self.waiting:
            raise paramiko.SSHException(f"the SFTP server answered request {num}, which this reader did not send")
        end = 4 + length
        self._fill(end)
        start = ANSWER_HEAD.size
        if kind == CMD_DATA:
            start += DATA_LENGTH.size
            end = min(end, start + DATA_LENGTH.unpack_from(self.buffer, ANSWER_HEAD.size)[0])
        with memoryview(self.buffer) as view:
            body = view[start:end].tobytes()
        del self.buffer[: 4 + length]
        self.waiting.discard(num)
        self.sftp._expecting.pop(num, None)
        self.answers[num] = (kind, body)

    def _data(self, num: int, offset: int) -> bytes:
        """The bytes answered to request `num`; empty at the end of the file."""
        while num not in self.answers:
            self._next_answer()
        kind, body = self.answers.pop(num)
        if kind == CMD_DATA:
            return body
        if kind == CMD_STATUS:
            try:
                self.sftp._convert_status(paramiko.Message(body))
            except EOFError:
                return b""  # the file is shorter than when it was opened
            raise OSError(f"read at {offset}: the server answered a status, not data")
        raise OSError(f"read at {offset}: unexpected answer type {kind}")

    def __iter__(self) -> Iterator[bytes]:
        try:
            self._ask()
            while self.in_flight:
                num, offset, length = self.in_flight.popleft()
                data = self._data(num, offset)
                while 0 < len(data) < length:  # a short answer: ask for the rest
                    more = self._data(self._request(offset + len(data), length - len(data)), offset + len(data))
                    if not more:
                        break
                    data += more
                if not data:
                    return
                self._ask()
                yield data
                if len(data) < length:
                    return
        finally:
            try:  # take what is still on its way, so the channel stays in step for the next request
                while self.waiting:
                    self._next_answer()
            except (OSError, EOFError, paramiko.SSHException):
                pass  # the connection is gone: nothing more will come
            finally:
                for num in self.waiting:
                    self.sftp._expecting.pop(num, None)
