"""The whole case state: a pure fold of every service's events, one row per case.

The row holds one part per producing service (``services/case_state/parts``);
the state that ``GET /cases/{id}`` shows and ``hub.case-state.v1`` carries is a
pure function of the parts (`CaseRow.state`), so the live consumer (four
topics, any interleaving) and a rebuild (four stores, one after the other)
end with the same state, version included. No personal data: see
``contracts/case_state.py``.

Two tables, written in the fold's transaction (ADR 0005, 0016):

* ``cases``: the current parts of each case, its version (events folded in),
  its CPAS, and the version last published (``published_version``, which the
  fold never writes): a row whose version is higher is not yet on the topic.
  The publisher (``services/case_state/topic.py``) sends it and then records
  the version sent, so a row committed and not yet published is published
  after a crash;
* ``case_days``: each part as it stood at the end of each day (Brussels) on
  which the hub recorded one of its events, for ``GET /cases/{id}?as_of=``.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import psycopg
from psycopg import sql

from contracts.case_state import CaseStateV1
from contracts.envelope import ContractEvent
from services.case_state.parts import Part, PartFold
from services.case_state.parts.intake import NO_BILAN, IntakeFold
from services.case_state.parts.partners import PartnersFold
from services.case_state.parts.piis import PiisFold
from services.case_state.parts.placement import PlacementFold
from services.common.bulk import Upsert
from services.common.erasure import purge_dead_letters, schemas_of_role
from services.common.http import BRUSSELS

__all__ = [
    "FOLDS",
    "CaseRow",
    "CaseStateProjection",
    "load_state",
    "load_state_as_of",
    "recording_day",
    "row_of",
    "state_of",
    "states_of_cpas",
]

# One part per producing service, in the order a rebuild replays them.
FOLDS: Final[Mapping[str, PartFold[Any]]] = {
    fold.service: fold
    for fold in (IntakeFold(), PiisFold(), PlacementFold(), PartnersFold())
}
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def recording_day(event: ContractEvent) -> dt.date:
    """The day (Brussels) the hub recorded an event: what ``as_of`` goes by."""
    return (event.recorded_at or event.occurred_at).astimezone(BRUSSELS).date()


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case's parts, and the day snapshots a batch adds (not yet stored)."""

    case_id: uuid.UUID
    parts: Mapping[str, Part]
    days: Mapping[tuple[str, dt.date], Part] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """Events folded into the state, over every service."""
        return sum(part.events for part in self.parts.values())

    @property
    def updated_at(self) -> dt.datetime | None:
        """When the hub recorded the newest event folded in."""
        return max(
            (p.last_recorded_at for p in self.parts.values() if p.last_recorded_at),
            default=None,
        )

    @property
    def cpas_kbo(self) -> str:
        """The CPAS of the case: intake's word first (a move would change it)."""
        return next(self.parts[s].cpas_kbo for s in FOLDS if s in self.parts)

    def state(self) -> CaseStateV1:
        """The whole state, as shown and published."""
        return state_of(self.case_id, self.parts)


def state_of(case_id: uuid.UUID, parts: Mapping[str, Part]) -> CaseStateV1:
    """The state of a case from its parts (pure: the same parts, the same state)."""
    sections: dict[str, Any] = {"bilan": NO_BILAN}
    for service, fold in FOLDS.items():
        part = parts.get(service)
        if part is not None:
            sections |= fold.sections(part)
    order = list(FOLDS)
    newest = max(
        parts.items(),
        key=lambda item: (item[1].last_recorded_at or _NEVER, order.index(item[0])),
    )[1]
    return CaseStateV1(
        case_id=case_id,
        cpas_kbo=next(parts[s].cpas_kbo for s in FOLDS if s in parts),
        version=sum(part.events for part in parts.values()),
        updated_at=newest.last_recorded_at,
        last_event_type=newest.last_event_type,
        **sections,
    )


def _service(event: ContractEvent) -> str:
    return event.event_type.split(".")[1]


class CaseStateProjection:
    """The fold and its tables (``<schema>.cases``, ``case_days``)."""

    name = "case-state"
    table = "cases"
    columns: Final = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("version", "bigint NOT NULL DEFAULT 0"),
        ("updated_at", "timestamptz"),
        *((service, "jsonb") for service in FOLDS),
    )

    def __init__(
        self, tombstones: Callable[[Sequence[uuid.UUID]], Awaitable[None]] | None = None
    ) -> None:
        # How an erased case's tombstone reaches hub.case-state.v1 (None: a
        # rebuild's shadow, or a test, sends none).
        self._tombstones = tombstones

    def fold(self, row: CaseRow | None, event: ContractEvent) -> CaseRow | None:
        """The case after one event (None: the event is not about the case state)."""
        service = _service(event)
        fold = FOLDS.get(service)
        if fold is None:
            return None
        parts = row.parts if row is not None else {}
        part = fold.fold(parts.get(service), event)
        if part is None:
            return None
        days = row.days if row is not None else {}
        return CaseRow(
            event.case_id,
            {**parts, service: part},
            {**days, (service, recording_day(event)): part},
        )

    async def create_tables(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> None:
        """The three tables and their indexes in a schema."""
        ident = sql.Identifier(schema)
        cases = sql.SQL("{}.cases").format(ident)
        await conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                cases,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(k))
                    for n, k in self.columns
                ),
            )
        )
        for name, kind in self.columns[1:]:
            await conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                    cases, sql.Identifier(name), sql.SQL(kind)
                )
            )
        # A table of the one-row-per-case layout before ADR 0016 keeps its
        # columns until a rebuild drops them: they must not refuse new rows.
        await _release_old_columns(
            conn, schema, [*(n for n, _ in self.columns), "published_version"]
        )
        await conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS cases_cpas_kbo ON {} (cpas_kbo)"
            ).format(cases)
        )
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.case_days (case_id uuid NOT NULL, "
                "service text NOT NULL, day date NOT NULL, part jsonb NOT NULL, "
                "PRIMARY KEY (case_id, service, day))"
            ).format(ident)
        )
        # Written by the publisher only (not among the fold's columns); the
        # rows it has still to send are found through the partial index.
        await conn.execute(
            sql.SQL(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS published_version bigint "
                "NOT NULL DEFAULT 0"
            ).format(cases)
        )
        await conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS cases_unpublished ON {} "
                "(updated_at, case_id) WHERE version > published_version"
            ).format(cases)
        )
        # Which copy of the topic the publisher published to (ADR 0013).
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.topic_copy (topic text PRIMARY KEY, "
                "cluster_id text NOT NULL, acked bigint NOT NULL DEFAULT 0)"
            ).format(ident)
        )

    async def load(
        self, conn: psycopg.AsyncConnection[Any], schema: str, keys: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, CaseRow]:
        """The rows of some cases, by case id."""
        if not keys:
            return {}
        cur = await conn.execute(_statements(schema).select, (list(keys),))
        return {record[0]: row_of(record) for record in await cur.fetchall()}

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, CaseRow],
    ) -> None:
        """Upsert the changed rows (to publish: a higher version) and their days."""
        statements = _statements(schema)
        # The latest day's snapshot is the current part: dumped once for both.
        texts: dict[int, str] = {}

        def text(service: str, part: Part, case_id: uuid.UUID) -> str:
            found = texts.get(id(part))
            if found is None:
                found = texts[id(part)] = FOLDS[service].dump(part, case_id)
            return found

        await statements.cases.run(
            conn,
            (
                (
                    row.case_id,
                    row.cpas_kbo,
                    row.version,
                    row.updated_at,
                    *(
                        None
                        if (part := row.parts.get(s)) is None
                        else text(s, part, row.case_id)
                        for s in FOLDS
                    ),
                )
                for row in rows.values()
            ),
        )
        await statements.days.run(
            conn,
            (
                (row.case_id, service, day, text(service, part, row.case_id))
                for row in rows.values()
                for (service, day), part in row.days.items()
            ),
        )

    async def erase(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        case_ids: Sequence[uuid.UUID],
    ) -> dict[str, int]:
        """The case state's purge of erased cases (services/common/erasure.py).

        Their rows and day snapshots deleted (the case state then answers them
        as unknown cases), the dead letters of the case-state schemas deleted,
        and a tombstone for each on the compacted topic. The statistics and the
        subsidy ledger, of dates, codes and amounts, stay.
        """
        purged: dict[str, int] = {}
        for table in ("case_days", "cases"):
            cur = await conn.execute(
                sql.SQL("DELETE FROM {}.{} WHERE case_id = ANY(%s)").format(
                    sql.Identifier(schema), sql.Identifier(table)
                ),
                (list(case_ids),),
            )
            purged[f"{schema}.{table}"] = cur.rowcount
        purged |= await purge_dead_letters(conn, schemas_of_role(schema), case_ids)
        if self._tombstones is not None:
            await self._tombstones(case_ids)
        return purged


def row_of(record: Sequence[Any]) -> CaseRow:
    """A row from ``case_id`` and the parts' JSON texts (in ``FOLDS`` order)."""
    case_id, *texts = record
    parts = {
        service: fold.load(text, case_id)
        for (service, fold), text in zip(FOLDS.items(), texts, strict=True)
        if text is not None
    }
    return CaseRow(case_id, parts)


class _Statements(NamedTuple):
    select: sql.Composed
    cases: Upsert
    days: Upsert


@functools.cache
def _statements(schema: str) -> _Statements:
    ident = sql.Identifier(schema)
    names = [name for name, _ in CaseStateProjection.columns]
    parts = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(s)) for s in FOLDS
    )
    return _Statements(
        select=sql.SQL(
            "SELECT case_id, {} FROM {}.cases WHERE case_id = ANY(%s)"
        ).format(parts, ident),
        cases=Upsert(sql.SQL("{}.cases").format(ident), names, "case_id"),
        days=Upsert(
            sql.SQL("{}.case_days").format(ident),
            ("case_id", "service", "day", "part"),
            ("case_id", "service", "day"),
        ),
    )


async def _release_old_columns(
    conn: psycopg.AsyncConnection[Any], schema: str, columns: list[str]
) -> None:
    """Let the columns of an older layout of ``cases`` be null."""
    cur = await conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'cases' AND is_nullable = 'NO' AND column_name <> ALL(%s)",
        (schema, columns),
    )
    for (column,) in await cur.fetchall():
        await conn.execute(
            sql.SQL("ALTER TABLE {}.cases ALTER COLUMN {} DROP NOT NULL").format(
                sql.Identifier(schema), sql.Identifier(column)
            )
        )


async def load_state(
    conn: psycopg.AsyncConnection[Any], schema: str, case_id: uuid.UUID
) -> CaseStateV1 | None:
    """A case's current state (None: no event about it folded yet)."""
    row = (await CaseStateProjection().load(conn, schema, [case_id])).get(case_id)
    return None if row is None else row.state()


async def load_state_as_of(
    conn: psycopg.AsyncConnection[Any], schema: str, case_id: uuid.UUID, day: dt.date
) -> CaseStateV1 | None:
    """A case's state as it stood at the end of a day: the events recorded by then.

    Each part as it stood after the last day, up to ``day``, on which one of
    its events was recorded (None: none recorded by then).
    """
    cur = await conn.execute(
        sql.SQL(
            "SELECT DISTINCT ON (service) service, part::text FROM {}.case_days "
            "WHERE case_id = %s AND day <= %s ORDER BY service, day DESC"
        ).format(sql.Identifier(schema)),
        (case_id, day),
    )
    parts = {
        service: FOLDS[service].load(text, case_id)
        for service, text in await cur.fetchall()
        if service in FOLDS
    }
    return state_of(case_id, parts) if parts else None


async def states_of_cpas(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str, *, limit: int
) -> list[CaseStateV1]:
    """The current states of a CPAS's cases, by case id."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT case_id, {} FROM {}.cases WHERE cpas_kbo = %s "
            "ORDER BY case_id LIMIT %s"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{}::text").format(sql.Identifier(s)) for s in FOLDS
            ),
            sql.Identifier(schema),
        ),
        (cpas_kbo, limit),
    )
    return [row_of(record).state() for record in await cur.fetchall()]
