"""The checks made on a score file while it is read, and the row count made beside the send."""

import hashlib
import tempfile

import pytest

from flows.device_scores.check import BOM, HEADER, Checker, LineCount


def checked(content: bytes, piece: int = 7):
    checker = Checker()
    for start in range(0, len(content), piece):
        checker.feed(content[start : start + piece])
    return checker.result()


def rows(content: bytes) -> int:
    with tempfile.TemporaryFile() as fh:
        fh.write(content)
        fh.seek(3)  # the sender's position is not the counter's
        count = LineCount(fh.fileno(), len(content)).result()
        assert fh.tell() == 3
        return count


ROW = b"ECB-1,ECOBEE,BYOT-SUMMER,0.5,2026-11-26T02:00:00Z"


@pytest.mark.parametrize(
    ("content", "problem", "row_count"),
    [
        (b"", "empty file", 0),
        (HEADER, "no rows after the header", 0),
        (HEADER + b"\n", "no rows after the header", 0),
        (HEADER + b"\r\n", "no rows after the header", 0),
        (BOM + HEADER + b"\r\n", "no rows after the header", 0),
        (HEADER + b"\n" + ROW, "", 1),
        (HEADER + b"\n" + ROW + b"\n", "", 1),
        (BOM + HEADER + b"\r\n" + ROW + b"\r\n" + ROW + b"\r\n", "", 2),
        (HEADER + b"\n\n", "", 1),  # a blank line is a row, and DERMS says what it thinks of it
        (b"nicId;score\n" + ROW + b"\n", "line 1: header is 'nicId;score', expected '" + HEADER.decode() + "'", 1),
        (HEADER + b",extra\n" + ROW, "line 1: header is '" + HEADER.decode() + ",extra', expected", 1),
    ],
)
def test_header_rows_and_checksum(content, problem, row_count):
    result = checked(content)
    assert result.size == len(content)
    assert result.sha256 == hashlib.sha256(content).hexdigest()
    assert result.problem.startswith(problem) and (problem or not result.problem)
    assert rows(content) == row_count


def test_a_header_line_without_end_is_refused_without_reading_it_whole():
    result = checked(HEADER + b"x" * 70_000, piece=4096)
    assert result.problem == "line 1: no end of the header line in the first 65536 bytes"


def test_rows_of_a_file_larger_than_one_piece():
    content = HEADER + b"\n" + (ROW + b"\n") * 50_000  # about 2.5 MB: three pieces
    assert len(content) > 2 * LineCount.PIECE
    assert rows(content) == 50_000
