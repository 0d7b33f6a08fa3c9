"""What the PIIS service learns of each case from intake's events (its own table).

Fed through the consumer framework from ``hub.intake.events.v1``; the PIIS
service never reads intake's tables (architecture.md §1).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from contracts.envelope import ContractEvent
from contracts.income import IncomeRightGrantedV1
from contracts.intake import BeneficiaryRegisteredV1, BilanCompletedV1
from services.common.row_table import RowTable
from services.piis.domain import CaseFacts

__all__ = ["CaseFactsProjection"]

COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CaseFacts))
_attributes = operator.attrgetter(*COLUMNS)


class CaseFactsProjection(RowTable[CaseFacts]):
    """Case id, CPAS, file number, first bilan and its baseline, income decision."""

    name = "piis-facts"
    table = "case_facts"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("dossier_number", "text NOT NULL"),
        ("first_bilan_on", "date"),
        ("income_decision_date", "date"),
        ("piis_obligation", "text"),
        ("baseline_scores", "jsonb"),
    )

    def fold(self, row: CaseFacts | None, event: ContractEvent) -> CaseFacts | None:
        """The facts after one event."""
        match event:
            case BeneficiaryRegisteredV1():
                return CaseFacts(event.case_id, event.cpas_kbo, event.dossier_number)
            case BilanCompletedV1() if row is not None:
                first = row.first_bilan_on
                if first is not None and first <= event.completed_on:
                    return None  # the first bilan stays the baseline
                return dataclasses.replace(
                    row,
                    first_bilan_on=event.completed_on,
                    baseline_scores=dict(event.baseline_scores) or None,
                )
            case IncomeRightGrantedV1() if row is not None:
                return dataclasses.replace(
                    row,
                    income_decision_date=event.decision_date,
                    piis_obligation=event.piis_obligation,
                )
            case BilanCompletedV1() | IncomeRightGrantedV1():
                raise LookupError(
                    f"case_id: {event.event_type} for a case never registered"
                )
            case _:
                return None

    def encode(self, row: CaseFacts) -> tuple[Any, ...]:
        """The facts' column values (the scores as JSON)."""
        values = list(_attributes(row))
        scores = COLUMNS.index("baseline_scores")
        values[scores] = Jsonb(values[scores]) if values[scores] is not None else None
        return tuple(values)

    def decode(self, record: Sequence[Any]) -> CaseFacts:
        """Facts from their column values."""
        return CaseFacts(*record)
