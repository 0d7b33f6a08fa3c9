"""Caseload statistics of the Molenbeek table: files per phase, ISP rate, any date.

Per CPAS and date (docs/domain/trajectory-and-activation.md#isp-participation-rate):
the RIS+ERIS files with a right in force, the files in each ISP phase, and
ISP / RIS+ERIS * 100 rounded half up to two decimals. Article 60 workers count
in the denominator even once their income has stopped (a setting: the Molenbeek
figures can only be reproduced so).

Every case keeps its history of income and phase changes with both dates: the
date a change takes effect and the date the hub recorded it. "As of" a date
reads the changes in effect on that date; ``known_at`` also ignores what was
recorded later, so an auditor gets the figures the hub showed at that time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1, IncomeRightWithdrawnV1
from contracts.piis import PhaseChangedV1
from services.common.row_table import RowTable

__all__ = [
    "ISP_PHASES",
    "CaseHistory",
    "IspStatistics",
    "StatisticsProjection",
    "isp_rate",
    "isp_statistics",
]

ISP_PHASES: tuple[str, ...] = (
    "facilitator",
    "literacy",
    "studies_training",
    "employment",
    "article_60",
)
_EXITS = {"exit_employed", "exit_left_cpas", "exit_exempted"}
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)

# (effective date, recorded at, value): value is True/False for the income
# right in force, a phase name or None (no phase) for the trajectory.
Change = tuple[dt.date, dt.datetime | None, Any]


@dataclass(frozen=True, slots=True)
class CaseHistory:
    """The dated income and phase changes of one case."""

    case_id: uuid.UUID
    cpas_kbo: str
    income: tuple[Change, ...] = ()
    phases: tuple[Change, ...] = ()

    def in_effect(
        self, changes: tuple[Change, ...], as_of: dt.date, known_at: dt.datetime | None
    ) -> Any:
        """The value of the last change in effect on a date (and known by then)."""
        latest: Change | None = None
        for change in changes:
            effective, recorded, _ = change
            if effective > as_of:
                continue
            if known_at is not None and (recorded or _NEVER) > known_at:
                continue
            if latest is None or (effective, recorded or _NEVER) >= (
                latest[0],
                latest[1] or _NEVER,
            ):
                latest = change
        return None if latest is None else latest[2]


@dataclass(frozen=True, slots=True)
class IspStatistics:
    """One row of the Molenbeek table."""

    cpas_kbo: str
    as_of: dt.date
    files: int
    per_phase: dict[str, int]
    isp_files: int
    rate: Decimal

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the rate as a string, not a float)."""
        return {
            **dataclasses.asdict(self),
            "as_of": self.as_of.isoformat(),
            "rate": str(self.rate),
        }


def isp_statistics(
    histories: Iterable[CaseHistory],
    *,
    cpas_kbo: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
    count_article_60: bool = True,
) -> IspStatistics:
    """The statistics of one CPAS on one date (the Molenbeek table)."""
    files = 0
    per_phase: Counter[str] = Counter()
    for case in histories:
        if case.cpas_kbo != cpas_kbo:
            continue
        income = bool(case.in_effect(case.income, as_of, known_at))
        phase = case.in_effect(case.phases, as_of, known_at)
        if not (income or (count_article_60 and phase == "article_60")):
            continue
        files += 1
        if phase in ISP_PHASES:
            per_phase[phase] += 1
    isp = sum(per_phase.values())
    return IspStatistics(
        cpas_kbo,
        as_of,
        files,
        {p: per_phase.get(p, 0) for p in ISP_PHASES},
        isp,
        isp_rate(isp, files),
    )


def isp_rate(isp_files: int, files: int) -> Decimal:
    """ISP files / RIS+ERIS files x 100, rounded half up to two decimals (0: none)."""
    if not files:
        return Decimal(0)
    return (Decimal(100 * isp_files) / Decimal(files)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


class StatisticsProjection(RowTable[CaseHistory]):
    """Folds income and phase events into each case's dated history."""

    name = "statistics"
    table = "case_history"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("income", "jsonb NOT NULL"),
        ("phases", "jsonb NOT NULL"),
    )
    indexes = ("cpas_kbo",)

    def fold(self, row: CaseHistory | None, event: ContractEvent) -> CaseHistory | None:
        """The history after one event (events of either service, in any order)."""
        change: Change
        match event:
            case IncomeRightGrantedV1():
                change, field = (
                    (event.effective_date, event.recorded_at, True),
                    "income",
                )
            case IncomeRightWithdrawnV1():
                change, field = (
                    (event.effective_date, event.recorded_at, False),
                    "income",
                )
            case PhaseChangedV1():
                phase = None if event.to_phase in _EXITS else event.to_phase
                change, field = (
                    (event.effective_date, event.recorded_at, phase),
                    "phases",
                )
            case _:
                return None
        # A case may be heard of first through either topic: the envelope
        # carries the case and its CPAS, so no event waits for another.
        current = row or CaseHistory(event.case_id, event.cpas_kbo)
        if field == "income":
            return dataclasses.replace(current, income=(*current.income, change))
        return dataclasses.replace(current, phases=(*current.phases, change))

    def encode(self, row: CaseHistory) -> tuple[Any, ...]:
        """The history's column values (changes as JSON)."""

        def dump(changes: tuple[Change, ...]) -> str:
            return json.dumps(
                [
                    [e.isoformat(), r.isoformat() if r else None, v]
                    for e, r, v in changes
                ]
            )

        return (row.case_id, row.cpas_kbo, dump(row.income), dump(row.phases))

    def decode(self, record: Sequence[Any]) -> CaseHistory:
        """A history from its column values."""

        def load(items: list[list[Any]]) -> tuple[Change, ...]:
            return tuple(
                (
                    dt.date.fromisoformat(e),
                    dt.datetime.fromisoformat(r) if r else None,
                    v,
                )
                for e, r, v in items
            )

        case_id, cpas_kbo, income, phases = record
        return CaseHistory(case_id, cpas_kbo, load(income), load(phases))


async def load_cpas(
    conn: psycopg.AsyncConnection[Any], schema: str, cpas_kbo: str
) -> list[CaseHistory]:
    """Every case history of one CPAS."""
    return await StatisticsProjection().rows_where(conn, schema, "cpas_kbo", cpas_kbo)
