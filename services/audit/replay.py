"""Reading a CPAS's record from the event stores, one case at a time.

The replay reads PostgreSQL, never Kafka (the broker is a copy, ADR 0013): the
events tables of the intake, PIIS and placement services, each in notification
order, only the rows recorded by ``known_at``. One server-side cursor returns
them grouped by case (the stores one after the other, as a rebuild replays
them), so a report holds one case's events at a time, whatever the size of
the history. Rows are decoded by the contract registry, like every reader of
the stores (``services/common/eventstore.py``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import sql

from contracts.envelope import ContractEvent
from services.common.eventstore import StoredRow, events_table, row_to_event

__all__ = ["SOURCES", "CaseRecord", "count_cases", "replay_cases"]

# The stores an audit reads, in the order a rebuild replays them.
SOURCES: Final = ("intake", "piis", "placement")
_CURSOR_ROWS: Final = 2000


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """Every event of one case recorded by ``known_at``, store by store."""

    case_id: uuid.UUID
    events: tuple[ContractEvent, ...]


async def _tables(conn: psycopg.AsyncConnection[Any]) -> list[tuple[int, sql.Composed]]:
    found = []
    for number, service in enumerate(SOURCES):
        table = events_table(service, service)
        cur = await conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),))
        if (await cur.fetchone()) != (None,):
            found.append((number, table))  # a service that stored nothing has none
    return found


def _rows(tables: list[tuple[int, sql.Composed]]) -> sql.Composable:
    """Every row of the stores recorded by ``known_at``, with its case id."""
    return sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "SELECT (convert_from(state, 'UTF8')::jsonb ->> 'case_id')::uuid "
            "AS case_id, convert_from(state, 'UTF8')::jsonb ->> 'cpas_kbo' AS cpas, "
            "{} AS source, notification_id, topic, state, recorded_at FROM {} "
            "WHERE recorded_at <= %(known_at)s"
        ).format(sql.Literal(number), table)
        for number, table in tables
    )


def _of_cpas(tables: list[tuple[int, sql.Composed]]) -> sql.Composed:
    # A case is the CPAS's when one of its events names it (a transfer's
    # cases are then in both records; each section says whose it counts).
    return sql.SQL(
        "WITH e AS ({}) SELECT case_id, source, notification_id, topic, state, "
        "recorded_at FROM e WHERE case_id IN (SELECT case_id FROM e WHERE cpas = "
        "%(cpas)s) ORDER BY case_id, source, notification_id"
    ).format(_rows(tables))


async def count_cases(
    conn: psycopg.AsyncConnection[Any], cpas_kbo: str, known_at: dt.datetime
) -> int:
    """How many cases the replay of a CPAS will return (for a progress bar)."""
    tables = await _tables(conn)
    if not tables:
        return 0
    cur = await conn.execute(
        sql.SQL(
            "WITH e AS ({}) SELECT count(DISTINCT case_id) FROM e WHERE cpas = %(cpas)s"
        ).format(_rows(tables)),
        {"cpas": cpas_kbo, "known_at": known_at},
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def replay_cases(
    conn: psycopg.AsyncConnection[Any], cpas_kbo: str, known_at: dt.datetime
) -> AsyncIterator[CaseRecord]:
    """The CPAS's cases one by one (by case id), each with its events.

    Runs in a transaction of its own on ``conn`` (a server-side cursor lives
    in one): the connection must not be in autocommit use by another reader.
    """
    tables = await _tables(conn)
    if not tables:
        return
    async with conn.transaction(), conn.cursor(name="audit_replay") as cur:
        cur.itersize = _CURSOR_ROWS
        await cur.execute(_of_cpas(tables), {"cpas": cpas_kbo, "known_at": known_at})
        case: uuid.UUID | None = None
        events: list[ContractEvent] = []
        async for case_id, _, number, topic, state, recorded_at in cur:
            if case_id != case and case is not None:
                yield CaseRecord(case, tuple(events))
                events = []
            case = case_id
            events.append(
                row_to_event(StoredRow(number, topic, bytes(state), recorded_at))
            )
        if case is not None:
            yield CaseRecord(case, tuple(events))
