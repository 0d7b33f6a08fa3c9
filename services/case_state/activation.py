"""Social-activation progress per person and per CPAS (seed 003)."""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from contracts.envelope import ContractEvent
from contracts.piis import SocialActivationEvaluatedV1, SocialActivationStartedV1
from services.common.bulk import Upsert

__all__ = ["ActivationProgress", "ActivationProjection", "progress_of_cpas"]


@dataclass(frozen=True, slots=True)
class ActivationProgress:
    """The latest measured progress of one person's social activation."""

    case_id: uuid.UUID
    cpas_kbo: str
    activation_type: str
    evaluations: int = 0
    ended: bool = False
    progress: dict[str, int] = dataclasses.field(default_factory=dict)


class ActivationProjection:
    """Folds social-activation events into one row per case."""

    name = "activation"

    def fold(
        self, row: ActivationProgress | None, event: ContractEvent
    ) -> ActivationProgress | None:
        """The row after one event."""
        match event:
            case SocialActivationStartedV1():
                return ActivationProgress(
                    event.case_id, event.cpas_kbo, event.activation_type
                )
            case SocialActivationEvaluatedV1() if row is not None:
                return dataclasses.replace(
                    row,
                    evaluations=row.evaluations + 1,
                    ended=event.final,
                    progress=dict(event.progress),
                )
            case SocialActivationEvaluatedV1():
                raise LookupError(
                    "case_id: an evaluation of an activation never started"
                )
            case _:
                return None

    async def create_tables(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> None:
        """Create ``<schema>.progress``."""
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.progress (case_id uuid PRIMARY KEY, "
                "cpas_kbo text NOT NULL, activation_type text NOT NULL, "
                "evaluations integer NOT NULL, ended boolean NOT NULL, "
                "progress jsonb NOT NULL)"
            ).format(sql.Identifier(schema))
        )

    async def load(
        self, conn: psycopg.AsyncConnection[Any], schema: str, keys: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ActivationProgress]:
        """The rows of some cases."""
        if not keys:
            return {}
        cur = await conn.execute(_statements(schema)[0], (list(keys),))
        return {r[0]: ActivationProgress(*r) for r in await cur.fetchall()}

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, ActivationProgress],
    ) -> None:
        """Upsert the changed rows."""
        encoded = (
            (
                r.case_id,
                r.cpas_kbo,
                r.activation_type,
                r.evaluations,
                r.ended,
                json.dumps(r.progress),
            )
            for r in rows.values()
        )
        await _statements(schema)[1].run(conn, encoded)


async def progress_of_cpas(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str
) -> dict[str, Any]:
    """Per CPAS: people followed, ended, and the mean progress per domain."""
    cur = await conn.execute(_statements(schema)[2], (cpas_kbo,))
    rows = [ActivationProgress(*r) for r in await cur.fetchall()]
    totals: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        for domain, delta in row.progress.items():
            totals[domain].append(delta)
    return {
        "cpas_kbo": cpas_kbo,
        "people": len(rows),
        "ended": sum(1 for r in rows if r.ended),
        "mean_progress": {
            d: round(sum(v) / len(v), 2) for d, v in sorted(totals.items())
        },
        "people_progress": [
            {
                "case_id": str(r.case_id),
                "evaluations": r.evaluations,
                "progress": r.progress,
            }
            for r in rows
        ],
    }


_COLUMNS = (
    "case_id",
    "cpas_kbo",
    "activation_type",
    "evaluations",
    "ended",
    "progress",
)


@functools.cache
def _statements(schema: str) -> tuple[sql.Composed, Upsert, sql.Composed]:
    table = sql.SQL("{}.progress").format(sql.Identifier(schema))
    names = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
    return (
        sql.SQL("SELECT {} FROM {} WHERE case_id = ANY(%s)").format(names, table),
        Upsert(table, _COLUMNS, "case_id"),
        sql.SQL("SELECT {} FROM {} WHERE cpas_kbo = %s ORDER BY case_id").format(
            names, table
        ),
    )
