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
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import sql

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from services.common.eventstore import StoredRow, events_table, rows_to_events

__all__ = [
    "SOURCES",
    "CaseRecord",
    "count_cases",
    "partner_case_ids",
    "replay_cases",
    "replay_named_cases",
]

# The stores an audit reads, in the order a rebuild replays them.
SOURCES: Final = ("intake", "piis", "placement")
_CURSOR_ROWS: Final = 2000
GRANT_TOPIC: Final = IncomeRightGrantedV1.model_fields["event_type"].default


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
    """Every row's place and case of the stores recorded by ``known_at``.

    Each state is parsed once, as ``json``: two keys are read from it, and
    building ``jsonb`` of every row of a national store cost a third more.
    The states themselves are read afterwards, only for the chosen rows.
    """
    return sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "SELECT (j ->> 'case_id')::uuid AS case_id, j ->> 'cpas_kbo' AS cpas, "
            "{} AS source, notification_id, recorded_at FROM (SELECT "
            "convert_from(state, 'UTF8')::json AS j, notification_id, recorded_at "
            "FROM {} WHERE recorded_at <= %(known_at)s) AS r"
        ).format(sql.Literal(number), table)
        for number, table in tables
    )


# A case is the CPAS's when one of its events names it (a transfer's cases
# are then in both records; each section says whose it counts).
_OF_CPAS: Final = sql.SQL("case_id IN (SELECT case_id FROM e WHERE cpas = %(cpas)s)")
_NAMED: Final = sql.SQL("case_id = ANY(%(cases)s)")


def _cases_where(
    tables: list[tuple[int, sql.Composed]], condition: sql.Composable
) -> sql.Composed:
    """The chosen cases' rows, by case; only the places are kept in between."""
    rows_of_stores = sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "SELECT c.case_id, c.source, t.notification_id, t.topic, t.state, "
            "t.recorded_at FROM chosen AS c JOIN {} AS t "
            "ON c.source = {} AND t.notification_id = c.notification_id"
        ).format(table, sql.Literal(number))
        for number, table in tables
    )
    return sql.SQL(
        "WITH e AS MATERIALIZED ({}), chosen AS (SELECT case_id, source, "
        "notification_id FROM e WHERE {}) {} ORDER BY case_id, source, "
        "notification_id"
    ).format(_rows(tables), condition, rows_of_stores)


async def last_activity(
    conn: psycopg.AsyncConnection[Any], case_id: uuid.UUID
) -> dt.datetime | None:
    """When the case's last event was stored, in any store (None: no event)."""
    tables = await _tables(conn)
    if not tables:
        return None
    cur = await conn.execute(
        sql.SQL(
            "WITH e AS ({}) SELECT max(recorded_at) FROM e WHERE case_id = %(case)s"
        ).format(_rows(tables)),
        {"case": case_id, "known_at": dt.datetime.now(dt.UTC)},
    )
    row = await cur.fetchone()
    return None if row is None else row[0]


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


async def partner_case_ids(
    conn: psycopg.AsyncConnection[Any], cpas_kbo: str, known_at: dt.datetime
) -> set[uuid.UUID]:
    """The partners' cases the CPAS's grants name (their PIIS counts for a household).

    Read in the database from the intake store's grants: the report holds
    these ids, not the cases.
    """
    table = events_table("intake", "intake")
    cur = await conn.execute("SELECT to_regclass(%s)", (table.as_string(conn),))
    if (await cur.fetchone()) == (None,):
        return set()
    cur = await conn.execute(
        sql.SQL(
            "WITH r AS (SELECT topic, convert_from(state, 'UTF8')::jsonb AS s "
            "FROM {} WHERE recorded_at <= %(known_at)s), "
            "c AS (SELECT DISTINCT s ->> 'case_id' AS id FROM r "
            "WHERE s ->> 'cpas_kbo' = %(cpas)s) "
            "SELECT DISTINCT (p ->> 'partner_case_id')::uuid FROM r, "
            "jsonb_array_elements(r.s -> 'partner_piis_obligations') AS p "
            "WHERE r.topic = %(grant)s AND r.s ->> 'case_id' IN (SELECT id FROM c) "
            "AND p ->> 'partner_case_id' IS NOT NULL"
        ).format(table),
        {"grant": GRANT_TOPIC, "known_at": known_at, "cpas": cpas_kbo},
    )
    return {row[0] for row in await cur.fetchall()}


async def replay_cases(
    conn: psycopg.AsyncConnection[Any], cpas_kbo: str, known_at: dt.datetime
) -> AsyncIterator[CaseRecord]:
    """The CPAS's cases one by one (by case id), each with its events.

    Runs in a transaction of its own on ``conn`` (a server-side cursor lives
    in one): the connection must not be in autocommit use by another reader.
    """
    async for record in _replay(
        conn, _OF_CPAS, {"cpas": cpas_kbo, "known_at": known_at}
    ):
        yield record


async def replay_named_cases(
    conn: psycopg.AsyncConnection[Any],
    case_ids: Collection[uuid.UUID],
    known_at: dt.datetime,
) -> AsyncIterator[CaseRecord]:
    """The named cases one by one (by case id), whichever CPAS they are with."""
    if not case_ids:
        return
    async for record in _replay(
        conn, _NAMED, {"cases": sorted(case_ids), "known_at": known_at}
    ):
        yield record


async def _replay(
    conn: psycopg.AsyncConnection[Any],
    condition: sql.Composable,
    params: Mapping[str, Any],
) -> AsyncIterator[CaseRecord]:
    tables = await _tables(conn)
    if not tables:
        return
    async with conn.transaction(), conn.cursor(name="audit_replay") as cur:
        cur.itersize = _CURSOR_ROWS
        await cur.execute(_cases_where(tables, condition), params)
        case: uuid.UUID | None = None
        events: list[ContractEvent] = []
        while page := await cur.fetchmany(_CURSOR_ROWS):
            stored = [StoredRow(n, t, bytes(s), r) for _, _, n, t, s, r in page]
            for (case_id, *_), event in zip(page, rows_to_events(stored), strict=True):
                if case_id != case and case is not None:
                    yield CaseRecord(case, tuple(events))
                    events = []
                case = case_id
                events.append(event)
        if case is not None:
            yield CaseRecord(case, tuple(events))
