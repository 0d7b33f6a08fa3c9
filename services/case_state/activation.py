"""Social-activation progress per person and per CPAS (a Kortrijk practice).

Each row also keeps the case's every trajectory with its evaluations and their
recording times: the annual report (``services.case_state.activation_report``)
is computed from them, as of any time the hub knew.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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
from services.case_state.activation_report import (
    Trajectory,
    annual_report,
    trajectories_after,
)
from services.common.row_table import RowTable

__all__ = [
    "ActivationProgress",
    "ActivationProjection",
    "progress_of_cpas",
    "report_of_cpas",
]


@dataclass(frozen=True, slots=True)
class ActivationProgress:
    """The latest measured progress of one person's social activation."""

    case_id: uuid.UUID
    cpas_kbo: str
    activation_type: str
    evaluations: int = 0
    ended: bool = False
    progress: dict[str, int] = dataclasses.field(default_factory=dict)
    trajectories: tuple[Trajectory, ...] = ()


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
        ("trajectories", "jsonb NOT NULL DEFAULT '[]'::jsonb"),
    )
    indexes = ("cpas_kbo",)

    def fold(
        self, row: ActivationProgress | None, event: ContractEvent
    ) -> ActivationProgress | None:
        """The row after one event."""
        kept = () if row is None else row.trajectories
        match event:
            case SocialActivationStartedV1():
                return ActivationProgress(
                    event.case_id,
                    event.cpas_kbo,
                    event.activation_type,
                    trajectories=trajectories_after(kept, event) or (),
                )
            case SocialActivationEvaluatedV1() if row is not None:
                return dataclasses.replace(
                    row,
                    evaluations=row.evaluations + 1,
                    ended=event.final,
                    progress=dict(event.progress),
                    trajectories=trajectories_after(kept, event) or (),
                )
            case SocialActivationEvaluatedV1():
                raise LookupError("case_id: evaluation of an activation never started")
            case _:
                return None

    def encode(self, row: ActivationProgress) -> tuple[Any, ...]:
        """The row's column values."""
        return (
            row.case_id,
            row.cpas_kbo,
            row.activation_type,
            row.evaluations,
            row.ended,
            json.dumps(row.progress),
            json.dumps([t.to_json() for t in row.trajectories]),
        )

    def decode(self, record: Sequence[Any]) -> ActivationProgress:
        """A row from its column values."""
        case_id, cpas_kbo, kind, evaluations, ended, progress, trajectories = record
        return ActivationProgress(
            case_id,
            cpas_kbo,
            kind,
            evaluations,
            ended,
            progress,
            tuple(map(Trajectory.from_json, trajectories)),
        )


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


async def report_of_cpas(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    cpas_kbo: str,
    year: int,
    known_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The annual social-activation report of one CPAS, from the read model.

    A trajectory belongs to the CPAS that recorded its start: the rows read are
    the CPAS's and those of cases transferred since that hold one of its
    trajectories (a scan: a report is asked for a few times a year).
    """
    held = json.dumps([{"cpas_kbo": cpas_kbo}])
    rows = await ActivationProjection().rows_matching(
        conn,
        schema,
        sql.SQL("cpas_kbo = %s OR trajectories @> %s::jsonb"),
        (cpas_kbo, held),
    )
    return annual_report(
        (t for row in rows for t in row.trajectories),
        cpas_kbo=cpas_kbo,
        year=year,
        known_at=known_at,
    )
