"""The channel buffer SFTP reads go through: what paramiko's Channel expects of it, and `want`."""

import threading
import time

import pytest
from paramiko.buffered_pipe import PipeTimeout

from flows.device_scores.pipe import GatheringPipe


def feed_later(pipe, pieces, every=0.02):
    def run():
        for piece in pieces:
            time.sleep(every)
            pipe.feed(piece)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_bytes_come_out_in_order_and_cut_where_asked():
    pipe = GatheringPipe()
    for piece in (b"abc", b"defg", b"h"):
        pipe.feed(piece)
    assert len(pipe) == 8 and pipe.read_ready()
    assert pipe.read(2) == b"ab"
    assert pipe.read(4) == b"cdef"
    assert pipe.read(100) == b"gh"
    assert len(pipe) == 0 and not pipe.read_ready()


def test_a_reader_that_wants_more_is_woken_once_it_is_all_there():
    pipe = GatheringPipe()
    pipe.want = 9
    feeder = feed_later(pipe, [b"abc", b"def", b"ghi", b"jkl"])
    assert pipe.read(100, timeout=5) == b"abcdefghi"  # not b"abc": it waited for nine
    feeder.join()
    assert pipe.want == 1  # good for one read only
    assert pipe.read(100, timeout=5) == b"jkl"


def test_the_timeout_counts_from_the_last_byte_and_returns_what_came():
    pipe = GatheringPipe()
    pipe.want = 100
    feeder = feed_later(pipe, [b"a", b"b", b"c"], every=0.1)  # 0.3 s in all, never 0.25 s silent
    started = time.monotonic()
    assert pipe.read(100, timeout=0.25) == b"abc"
    assert time.monotonic() - started >= 0.3 + 0.25 - 0.05
    feeder.join()


def test_nothing_within_the_timeout_is_a_timeout_and_non_blocking_reads_do_not_wait():
    pipe = GatheringPipe()
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.05)
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.0)
    pipe.want = 5
    pipe.feed(b"ab")
    assert pipe.read(10, timeout=0.0) == b"ab"


def test_close_wakes_the_reader_with_what_is_left_then_empty_reads():
    pipe = GatheringPipe()
    pipe.want = 100
    pipe.feed(b"tail")
    closer = threading.Timer(0.05, pipe.close)
    closer.start()
    assert pipe.read(100, timeout=5) == b"tail"
    assert pipe.read(100, timeout=5) == b""
    closer.join()


def test_the_event_follows_whether_there_is_something_to_read():
    pipe = GatheringPipe()
    event = threading.Event()
    pipe.set_event(event)
    assert not event.is_set()
    pipe.feed(b"x")
    assert event.is_set()
    pipe.read(1)
    assert not event.is_set()
    pipe.close()
    assert event.is_set()
