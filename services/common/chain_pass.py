"""The fast check of a chain's stretch: its records' links recomputed in one pass.

`services.common.chain` cuts a store's chain into stretches and gives each
to `check_span`, in its own transaction or, through `check_elsewhere`, in
a process of its own that joins the snapshot the verification exported
(docs/decisions/0032-chain-verification-in-parallel.md). This module
imports psycopg and the standard library only: a process spawned for a
stretch starts in a tenth of a second.

A stretch's rows are read by one COPY in binary, each as PostgreSQL sends
it (one message a row), through libpq itself: psycopg's per-row layers
cost more than the two hashes a row takes. Each row is then checked by a
walker (`Walker`): the compiled one of `services.common._chainlink`, where
it was built (docs/decisions/0034-compiled-chain-step.md), or
`PythonWalker`, the same step with hashlib. The first anomaly ends the pass
(``intact`` false); the detailed walk then says what broke.
"""

from __future__ import annotations

import contextlib
import hashlib
import select
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import psycopg
from psycopg import pq, sql

__all__ = [
    "COMPILED",
    "PythonWalker",
    "Span",
    "Step",
    "Stretch",
    "Walker",
    "check_elsewhere",
    "check_span",
]

# COPY's binary format (PostgreSQL, "COPY", binary file format): a header,
# then per row a 16-bit field count and per field a 32-bit length and the
# bytes; -1 as the field count ends the data. A row here is (position,
# record, previous, link).
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = struct.Struct(">11sii")  # signature, flags, extension length
_ROW_HEAD = struct.Struct(">6xqi")  # position, the record's length
_RECORD_AT = _ROW_HEAD.size
_ROW_TAIL = struct.Struct(">4xq4x32s")  # previous, link (both present)
_ROW_SIZE = _RECORD_AT + _ROW_TAIL.size  # a row's bytes but its record's
_COPY_END = b"\xff\xff"
_LINK_SIZE = 32
_PROGRESS_EVERY = 20_000

Step = Literal["compiled", "python"]


class Walker(Protocol):
    """A walk along a chain's rows: the last position and link it reached.

    Made with the position and the 32-byte link it starts from (ValueError
    for a link of another size).
    """

    @property
    def position(self) -> int:
        """The last row's position (the walk's start before any)."""
        ...

    @property
    def link(self) -> bytes:
        """The last row's link."""
        ...

    def feed(self, row: bytes | memoryview) -> int | None:
        """The row's position when it chains on the walk (and extends it), else None.

        A row chains when it is exactly its fields' sizes (a link longer
        than 32 bytes, a NULL, does not pass for one), names as its
        previous the walk's last position, stands past it, and its link is
        the SHA-256 of the walk's last link and of its record's SHA-256.
        """
        ...


class PythonWalker:
    """`Walker` with hashlib: the compiled walker's step, in readable code."""

    __slots__ = ("link", "position")

    def __init__(self, position: int, link: bytes) -> None:
        if len(link) != _LINK_SIZE:
            raise ValueError("a link is 32 bytes")
        self.position, self.link = position, bytes(link)

    def feed(self, row: bytes | memoryview) -> int | None:
        """`Walker.feed`."""
        size = len(row)
        if size < _ROW_SIZE:
            return None
        n, length = _ROW_HEAD.unpack_from(row, 0)
        if size != _ROW_SIZE + length:
            return None
        previous, stored = _ROW_TAIL.unpack_from(row, _RECORD_AT + length)
        record = row[_RECORD_AT : _RECORD_AT + length]
        sha256 = hashlib.sha256
        if (
            previous != self.position
            or n <= previous
            or sha256(self.link + sha256(record).digest()).digest() != stored
        ):
            return None
        self.position, self.link = n, stored
        return int(n)


_CompiledWalker: Callable[[int, bytes], Walker] | None
try:
    from services.common._chainlink import LinkWalker as _CompiledWalker
except ImportError:  # not built (no compiler, no OpenSSL headers): Python's step
    _CompiledWalker = None

COMPILED = _CompiledWalker is not None  # the suite requires it where it runs


def _walker(step: Step, position: int, link: bytes) -> Walker:
    if step == "compiled" and _CompiledWalker is not None:
        return _CompiledWalker(position, link)
    return PythonWalker(position, link)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a chain to check: its COPY, and the link it starts from.

    ``query``: the COPY of (position, record, previous, link), every
    record and every link of a range, in position order; ``after`` is its
    first row's position when the stretch starts
    from a stored row (read for its link, not checked), None when it starts
    from ``origin`` (the store's genesis). ``marks``: the positions whose
    links a checkpoint signed.
    """

    query: bytes
    origin: bytes
    after: int | None
    marks: frozenset[int]
    step: Step = "compiled"


@dataclass(frozen=True, slots=True)
class Stretch:
    """What a pass over a stretch found."""

    intact: bool
    after: int | None = None  # the row it started from (None: the origin)
    seed: bytes = b""  # that row's stored link
    records: int = 0  # rows checked (the row it started from is not)
    position: int = 0  # the last row checked
    link: bytes = b""  # its link
    marks: Mapping[int, bytes] = field(default_factory=dict)  # checkpoints' links


def check_span(
    conn: psycopg.Connection[Any],
    span: Span,
    progress: Callable[[int], None] | None = None,
) -> Stretch:
    """Check a span's rows in order, each link after the one before, in ``conn``.

    A server error (a timeout, a cancel, a permission) is raised as
    PostgreSQL gave it, the connection left in a failed transaction.
    """
    # The plan both indexes give, in order: a range's estimate may pick a
    # hash join and a sort, which hold the whole range before the first row.
    for setting in ("enable_hashjoin", "enable_sort"):
        conn.execute(sql.SQL("SET LOCAL {} = off").format(sql.Identifier(setting)))
    conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    with conn.lock:
        pgconn = conn.pgconn
        started = _first_result(pgconn, span.query)
        if started.status != pq.ExecStatus.COPY_OUT:
            _finish(pgconn)
            raise psycopg.errors.error_from_result(started, conn.info.encoding)
        try:
            stretch = _rows_checked(pgconn, span, progress)
        except psycopg.OperationalError:
            failed = _finish(pgconn)
            if failed is None:
                raise
            raise psycopg.errors.error_from_result(failed, conn.info.encoding) from None
        failed = _finish(pgconn)
        if failed is not None:
            raise psycopg.errors.error_from_result(failed, conn.info.encoding)
    return stretch


def check_elsewhere(database_url: str, snapshot: str, span: Span) -> Stretch:
    """`check_span` in a process of its own, in a snapshot another one exported."""
    with psycopg.connect(database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            conn.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
            )
            return check_span(conn, span)


def _first_result(pgconn: pq.abc.PGconn, query: bytes) -> pq.abc.PGresult:
    """Send a query and wait for its first result, the interpreter free meanwhile.

    libpq's blocking calls would hold the GIL while PostgreSQL works: the
    waits are on the socket instead (``select`` releases it, and Ctrl-C
    interrupts it).
    """
    pgconn.send_query(query)
    while pgconn.flush():
        select.select([pgconn.socket], [pgconn.socket], [])
        pgconn.consume_input()
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    result = pgconn.get_result()
    if result is None:  # pragma: no cover - libpq answers every query
        raise psycopg.OperationalError("the chain's COPY got no answer")
    return result


def _copy_data(pgconn: pq.abc.PGconn) -> tuple[int, memoryview]:
    """The next COPY message, waiting on the socket (GIL free) when none is in."""
    while True:
        size, data = pgconn.get_copy_data(1)
        if size:
            return size, data
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()


def _rows_checked(
    pgconn: pq.abc.PGconn, span: Span, progress: Callable[[int], None] | None
) -> Stretch:
    """The loop over COPY's messages: a row each, then the end of the data.

    A row must be exactly its fields' sizes (the query makes four): a link
    longer than 32 bytes, a NULL (a record with no link, a link with no
    record), does not pass for one. Each row's position is past the one
    before it, whatever order the plan gives.
    """
    opened = _opened(pgconn, span)
    if opened is None:
        return Stretch(intact=False)
    row, position, seed = opened
    walker = _walker(span.step, position, seed)
    feed, get, marks, records = walker.feed, pgconn.get_copy_data, span.marks, 0
    marked: dict[int, bytes] = {}
    size = len(row)
    while size >= _ROW_SIZE:
        n = feed(row)
        if n is None:
            return Stretch(intact=False)
        if n in marks:
            marked[n] = walker.link
        records += 1
        if progress is not None and records % _PROGRESS_EVERY == 0:
            progress(n)
        size, row = get(1)
        if not size:  # nothing read ahead: wait for the next message
            size, row = _copy_data(pgconn)
    if row != _COPY_END:
        return Stretch(intact=False)
    return Stretch(
        intact=True,
        after=span.after,
        seed=seed,
        records=records,
        position=walker.position,
        link=walker.link,
        marks=marked,
    )


def _opened(
    pgconn: pq.abc.PGconn, span: Span
) -> tuple[bytes | memoryview, int, bytes] | None:
    """The first row to check, with the position and link before it.

    Past COPY's header, and past the row the span starts from (its stored
    link is where the checking starts). None: not even that reads right.
    """
    size, first = _copy_data(pgconn)
    if size < _COPY_HEADER.size:  # the COPY ended at once: an error follows
        return None
    signature, _, extension = _COPY_HEADER.unpack_from(first, 0)
    if signature != _COPY_SIGNATURE:  # pragma: no cover - PostgreSQL's format
        return None
    row: bytes | memoryview = bytes(first)[_COPY_HEADER.size + extension :]
    if not row:  # the header in a message of its own
        _, row = _copy_data(pgconn)
    if span.after is None:
        return row, 0, span.origin
    if len(row) < _ROW_SIZE:
        return None
    position, length = _ROW_HEAD.unpack_from(row, 0)
    if len(row) != _ROW_SIZE + length:
        return None
    _, seed = _ROW_TAIL.unpack_from(row, _RECORD_AT + length)
    _, row = _copy_data(pgconn)
    return row, position, seed


def _finish(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    """Read what is left of a COPY and its results; the error among them, if any.

    The connection is idle again afterwards (in a failed transaction when
    the server answered an error).
    """
    with contextlib.suppress(psycopg.OperationalError):  # the COPY ended already
        while _copy_data(pgconn)[0] >= 0:
            pass
    failed = None
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            return failed
        if result.status == pq.ExecStatus.FATAL_ERROR:
            failed = result
