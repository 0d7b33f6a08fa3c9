"""The "due and overdue" read model: missed PIIS deadlines per CPAS and caseworker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from contracts.envelope import ContractEvent
from contracts.piis import PiisDeadlineMissedV1, SocialActivationEvaluationOverdueV1
from services.common.bulk import Upsert

__all__ = ["CaseDeadlines", "DeadlinesProjection", "overdue_for"]


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    """The missed deadlines of one case: (kind, due on, detected on, caseworker)."""

    case_id: uuid.UUID
    cpas_kbo: str
    missed: tuple[tuple[str, str, str, str | None], ...] = ()


class DeadlinesProjection:
    """Folds PiisDeadlineMissed events into one row per case."""

    name = "deadlines"

    def fold(
        self, row: CaseDeadlines | None, event: ContractEvent
    ) -> CaseDeadlines | None:
        """The row after one event."""
        kind: str
        match event:
            case PiisDeadlineMissedV1():
                kind, caseworker = event.kind, event.caseworker
            case SocialActivationEvaluationOverdueV1():
                kind, caseworker = "social_activation_evaluation", None
            case _:
                return None
        current = row or CaseDeadlines(event.case_id, event.cpas_kbo)
        item = (
            kind,
            event.due_on.isoformat(),
            event.detected_on.isoformat(),
            caseworker,
        )
        return dataclasses.replace(current, missed=(*current.missed, item))

    async def create_tables(
        self, conn: psycopg.AsyncConnection[Any], schema: str
    ) -> None:
        """Create ``<schema>.case_deadlines``."""
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.case_deadlines (case_id uuid "
                "PRIMARY KEY, cpas_kbo text NOT NULL, missed jsonb NOT NULL)"
            ).format(sql.Identifier(schema))
        )

    async def load(
        self, conn: psycopg.AsyncConnection[Any], schema: str, keys: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, CaseDeadlines]:
        """The rows of some cases."""
        if not keys:
            return {}
        cur = await conn.execute(_statements(schema)[0], (list(keys),))
        return {r[0]: _decode(r) for r in await cur.fetchall()}

    async def store(
        self,
        conn: psycopg.AsyncConnection[Any],
        schema: str,
        rows: dict[uuid.UUID, CaseDeadlines],
    ) -> None:
        """Upsert the changed rows."""
        encoded = ((r.case_id, r.cpas_kbo, json.dumps(r.missed)) for r in rows.values())
        await _statements(schema)[1].run(conn, encoded)


async def overdue_for(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    cpas_kbo: str,
    caseworker: str | None = None,
) -> list[dict[str, Any]]:
    """Missed deadlines of a CPAS (and caseworker), oldest due first."""
    cur = await conn.execute(_statements(schema)[2], (cpas_kbo,))
    items = []
    for record in await cur.fetchall():
        row = _decode(record)
        for kind, due_on, detected_on, worker in row.missed:
            if caseworker is None or worker == caseworker:
                items.append(
                    {
                        "case_id": str(row.case_id),
                        "kind": kind,
                        "due_on": due_on,
                        "detected_on": detected_on,
                        "caseworker": worker,
                        "days_overdue": (
                            dt.date.fromisoformat(detected_on)
                            - dt.date.fromisoformat(due_on)
                        ).days,
                    }
                )
    return sorted(items, key=lambda i: (i["due_on"], i["case_id"]))


def _days_between(first: str, second: str) -> int:
    return (dt.date.fromisoformat(second) - dt.date.fromisoformat(first)).days


@functools.cache
def _statements(schema: str) -> tuple[sql.Composed, Upsert, sql.Composed]:
    table = sql.SQL("{}.case_deadlines").format(sql.Identifier(schema))
    return (
        sql.SQL(
            "SELECT case_id, cpas_kbo, missed FROM {} WHERE case_id = ANY(%s)"
        ).format(table),
        Upsert(table, ("case_id", "cpas_kbo", "missed"), "case_id"),
        sql.SQL("SELECT case_id, cpas_kbo, missed FROM {} WHERE cpas_kbo = %s").format(
            table
        ),
    )


def _decode(record: Sequence[Any]) -> CaseDeadlines:
    case_id, cpas_kbo, missed = record
    return CaseDeadlines(case_id, cpas_kbo, tuple(tuple(m) for m in missed))
