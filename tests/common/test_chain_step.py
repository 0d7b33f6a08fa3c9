"""The chain check's per-row step: the compiled walker answers as the Python one.

Rows are built as PostgreSQL's binary COPY sends them (position, record,
previous, link), chained from a genesis, then changed byte by byte, cut,
lengthened or replaced by any bytes: both walkers must give the same answer
for each row and stand at the same position and link after it.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import chain_pass
from services.common.chain_pass import PythonWalker, Walker

GENESIS = hashlib.sha256(b"genesis").digest()


def compiled(position: int, link: bytes) -> Walker:
    from services.common._chainlink import LinkWalker

    return LinkWalker(position, link)


def row(position: int, record: bytes, previous: int, link: bytes) -> bytes:
    return (
        struct.pack(">hiq", 4, 8, position)
        + struct.pack(">i", len(record))
        + record
        + struct.pack(">iqi", 8, previous, 32)
        + link
    )


def chained(records: list[bytes], gaps: list[int]) -> list[bytes]:
    rows, position, link = [], 0, GENESIS
    for record, gap in zip(records, gaps, strict=False):
        n = position + gap
        link_n = hashlib.sha256(link + hashlib.sha256(record).digest()).digest()
        rows.append(row(n, record, position, link_n))
        position, link = n, link_n
    return rows


def test_the_compiled_step_is_built() -> None:
    """The suite runs where the compiled step builds: it is not skipped unseen."""
    assert chain_pass.COMPILED


def walk_both(rows: list[bytes]) -> list[int | None]:
    """Each walker's answers row after row, the rows as bytes and as psycopg's views."""
    runs = []
    for given_as in (bytes, memoryview):
        ours, python = compiled(0, GENESIS), PythonWalker(0, GENESIS)
        answers = []
        for one in rows:
            answer = ours.feed(given_as(one))
            assert answer == python.feed(given_as(one))
            assert (ours.position, ours.link) == (python.position, python.link)
            answers.append(answer)
        runs.append(answers)
    assert runs[0] == runs[1]
    return runs[0]


histories = st.tuples(
    st.lists(st.binary(max_size=300), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=2**40), min_size=8, max_size=8),
)


@given(histories)
def test_a_chained_history_passes_row_after_row(
    history: tuple[list[bytes], list[int]],
) -> None:
    records, gaps = history
    rows = chained(records, gaps)
    assert walk_both(rows) == list(itertools.accumulate(gaps[: len(rows)]))
    assert walk_both(rows + rows[-1:])[-1] is None  # a row a second time


@given(
    histories,
    st.data(),
)
@settings(max_examples=400)
def test_a_changed_row_gets_the_same_answer_from_both(
    history: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    records, gaps = history
    rows = chained(records, gaps)
    at = data.draw(st.integers(0, len(rows) - 1))
    target = bytearray(rows[at])
    change = data.draw(st.sampled_from(["flip", "cut", "append", "replace", "length"]))
    if change == "flip":
        where = data.draw(st.integers(0, len(target) - 1))
        target[where] ^= data.draw(st.integers(1, 255))
    elif change == "cut":
        del target[data.draw(st.integers(0, len(target) - 1)) :]
    elif change == "append":
        target += data.draw(st.binary(min_size=1, max_size=40))
    elif change == "replace":
        target = bytearray(data.draw(st.binary(max_size=400)))
    else:  # the record's length field: negative, huge, off by some
        length = data.draw(st.integers(-(2**31), 2**31 - 1))
        target[14:18] = struct.pack(">i", length)
    rows[at] = bytes(target)
    answers = walk_both(rows)
    original = chained(records, gaps)[at]
    assert answers[at] is None or read(bytes(target)) == read(original)


def read(one: bytes) -> bytes:
    """A row's bytes its link holds: neither its position nor the fields' sizes.

    The field count and the fixed fields' sizes are not read (a row's size
    must be its fields' sizes); a row's position is held by the next row's
    previous and by checkpoints, not by its own link.
    """
    masked = bytearray(one)
    masked[0:14] = bytes(14)
    tail = len(one) - 48
    if tail >= 18:
        masked[tail : tail + 4] = bytes(4)
        masked[tail + 12 : tail + 16] = bytes(4)
    return bytes(masked)


@pytest.mark.parametrize("walker", [compiled, PythonWalker])
@pytest.mark.parametrize("size", [0, 31, 33])
def test_a_start_link_of_another_size_is_refused(
    walker: Callable[[int, bytes], Walker], size: int
) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        walker(0, bytes(size))
