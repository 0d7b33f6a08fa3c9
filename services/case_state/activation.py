"""Social-activation progress per person and per CPAS (a Kortrijk practice)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from contracts.envelope import ContractEvent
from contracts.piis import SocialActivationEvaluatedV1, SocialActivationStartedV1
from services.common.row_table import RowTable

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


class ActivationProjection(RowTable[ActivationProgress]):
    """Folds social-activation events into one row per case."""

    name = "activation"
    table = "progress"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("activation_type", "text NOT NULL"),
        ("evaluations", "integer NOT NULL"),
        ("ended", "boolean NOT NULL"),
        ("progress", "jsonb NOT NULL"),
    )
    indexes = ("cpas_kbo",)

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
                raise LookupError("case_id: evaluation of an activation never started")
            case _:
                return None

    def encode(self, row: ActivationProgress) -> tuple[Any, ...]:
        """The row's column values."""
        values = dataclasses.astuple(row)
        return (*values[:-1], json.dumps(row.progress))

    def decode(self, record: Sequence[Any]) -> ActivationProgress:
        """A row from its column values."""
        return ActivationProgress(*record)


async def progress_of_cpas(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str
) -> dict[str, Any]:
    """Per CPAS: people followed, ended, and the mean progress per domain."""
    rows = await ActivationProjection().rows_where(conn, schema, "cpas_kbo", cpas_kbo)
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
