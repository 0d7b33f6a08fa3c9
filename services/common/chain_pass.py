"""The fast check of a chain's stretch: its records' links recomputed in one pass.

`services.common.chain` cuts a store's chain into stretches and gives each
to `check_span`, in its own transaction or, through `check_elsewhere`, in
a process of its own that joins the snapshot the verification exported
(docs/decisions/0032-chain-verification-in-parallel.md). This module
imports psycopg and the standard library only: a process spawned for a
stretch starts in a tenth of a second.

A stretch's rows are read by one COPY in binary, each as PostgreSQL sends
it (one message a row), through libpq itself: psycopg's per-row layers
cost more than the two hashes a row takes. The first anomaly ends the
pass (``intact`` false); the detailed walk then says what broke.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import pq, sql

__all__ = ["Span", "Stretch", "check_elsewhere", "check_span"]

# COPY's binary format (PostgreSQL, "COPY", binary file format): a header,
# then per row a 16-bit field count and per field a 32-bit length and the
# bytes; -1 as the field count ends the data. A row here is (position,
# record, previous, link).
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = struct.Struct(">11sii")  # signature, flags, extension length
_ROW_HEAD = struct.Struct(">6xqi")  # position, the record's length
_RECORD_AT = _ROW_HEAD.size
_ROW_TAIL = struct.Struct(">4xq4x32s")  # previous, link (both present)
_COPY_END = b"\xff\xff"
_PROGRESS_EVERY = 20_000


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a chain to check: its COPY, and the link it starts from.

    ``query``: the COPY of (position, record, previous, link) in position
    order; ``after`` is its first row's position when the stretch starts
    from a stored row (read for its link, not checked), None when it starts
    from ``origin`` (the store's genesis). ``marks``: the positions whose
    links a checkpoint signed.
    """

    query: bytes
    origin: bytes
    after: int | None
    marks: frozenset[int]


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
    """Check a span's rows in order, each link after the one before, in ``conn``."""
    # The plan both indexes give, in order: a range's estimate may pick a
    # hash join and a sort, which hold the whole range before the first row.
    for setting in ("enable_hashjoin", "enable_sort"):
        conn.execute(sql.SQL("SET LOCAL {} = off").format(sql.Identifier(setting)))
    conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    with conn.lock:
        pgconn = conn.pgconn
        pgconn.send_query(span.query)
        while pgconn.flush():
            pass
        started = pgconn.get_result()
        if started is None:  # pragma: no cover - libpq answers every query
            raise psycopg.OperationalError("the chain's COPY got no answer")
        if started.status != pq.ExecStatus.COPY_OUT:
            _finish(pgconn)
            raise psycopg.errors.error_from_result(started, conn.info.encoding)
        try:
            return _rows_checked(pgconn, span, progress)
        finally:
            _finish(pgconn)


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


def _rows_checked(
    pgconn: pq.abc.PGconn, span: Span, progress: Callable[[int], None] | None
) -> Stretch:
    """The loop over COPY's messages: a row each, then the end of the data."""
    sha256, head, tail = hashlib.sha256, _ROW_HEAD.unpack_from, _ROW_TAIL.unpack_from
    get, marks = pgconn.get_copy_data, span.marks
    marked: dict[int, bytes] = {}
    _, first = get(0)
    signature, _, extension = _COPY_HEADER.unpack_from(first, 0)
    if signature != _COPY_SIGNATURE:  # pragma: no cover - PostgreSQL's format
        return Stretch(intact=False)
    row: bytes | memoryview = bytes(first)[_COPY_HEADER.size + extension :]
    if not row:  # the header in a message of its own
        _, row = get(0)
    position, link, records, seed = 0, span.origin, 0, b""
    try:
        if span.after is not None:
            position, length = head(row, 0)
            _, seed = tail(row, _RECORD_AT + length)
            link = seed
            _, row = get(0)
        while True:
            n, length = head(row, 0)
            previous, stored = tail(row, _RECORD_AT + length)
            record = row[_RECORD_AT : _RECORD_AT + length]
            if (
                previous != position
                or sha256(link + sha256(record).digest()).digest() != stored
            ):
                return Stretch(intact=False)
            if n in marks:
                marked[n] = stored
            position, link = n, stored
            records += 1
            if progress is not None and records % _PROGRESS_EVERY == 0:
                progress(position)
            _, row = get(0)
    except struct.error:
        # The end of the data, or a row too short: its link is missing.
        if bytes(row) != _COPY_END or (span.after is not None and not seed):
            return Stretch(intact=False)
    return Stretch(
        intact=True,
        after=span.after,
        seed=seed,
        records=records,
        position=position,
        link=link,
        marks=marked,
    )


def _finish(pgconn: pq.abc.PGconn) -> None:
    """Read what is left of a COPY and its results: the connection idle again."""
    while pgconn.get_copy_data(0)[0] >= 0:
        pass
    while pgconn.get_result() is not None:
        pass
