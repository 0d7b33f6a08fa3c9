"""Case state: one row per case, a pure fold of the services' events.

No personal data: the row says where a case stands (CPAS, region, partner,
bilan), never who the person is; readers who need identity ask intake.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from contracts.envelope import ContractEvent
from contracts.income import (
    IncomePaymentSuspendedV1,
    IncomeRightGrantedV1,
    IncomeRightModifiedV1,
    IncomeRightWithdrawnV1,
)
from contracts.intake import (
    BeneficiaryRegisteredV1,
    BilanCompletedV1,
)
from services.common.row_table import RowTable

__all__ = ["CaseRow", "CaseStateProjection"]


@dataclass(frozen=True, slots=True)
class CaseRow:
    """Where one case stands."""

    case_id: uuid.UUID
    cpas_kbo: str
    dossier_number: str
    region: str
    partner: str
    preferred_language: str
    niss_kind: str
    registered_on: dt.date
    bilan_status: str
    bilan_count: int
    last_bilan_on: dt.date | None
    orientation: str | None
    last_event_type: str
    last_event_at: dt.datetime
    updated_at: dt.datetime | None
    income_kind: str | None = None
    income_category: int | None = None
    income_status: str = "none"
    income_from: dt.date | None = None
    piis_obligation: str | None = None


# dataclasses.astuple deep-copies every value; the values are immutable.
_as_tuple = operator.attrgetter(*(f.name for f in dataclasses.fields(CaseRow)))


class CaseStateProjection(RowTable[CaseRow]):
    """The fold and its table (``<schema>.cases``)."""

    name = "case-state"
    table = "cases"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("dossier_number", "text NOT NULL"),
        ("region", "text NOT NULL"),
        ("partner", "text NOT NULL"),
        ("preferred_language", "text NOT NULL"),
        ("niss_kind", "text NOT NULL"),
        ("registered_on", "date NOT NULL"),
        ("bilan_status", "text NOT NULL"),
        ("bilan_count", "integer NOT NULL"),
        ("last_bilan_on", "date"),
        ("orientation", "text"),
        ("last_event_type", "text NOT NULL"),
        ("last_event_at", "timestamptz NOT NULL"),
        ("updated_at", "timestamptz"),
        ("income_kind", "text"),
        ("income_category", "integer"),
        ("income_status", "text NOT NULL DEFAULT 'none'"),
        ("income_from", "date"),
        ("piis_obligation", "text"),
    )
    indexes = ("cpas_kbo",)

    def fold(self, row: CaseRow | None, event: ContractEvent) -> CaseRow | None:
        """The case after one event."""
        if isinstance(event, BeneficiaryRegisteredV1):
            return CaseRow(
                case_id=event.case_id,
                cpas_kbo=event.cpas_kbo,
                dossier_number=event.dossier_number,
                region=str(event.region),
                partner=str(event.partner),
                preferred_language=event.preferred_language,
                niss_kind=event.niss_kind,
                registered_on=event.registered_on,
                bilan_status="pending",
                bilan_count=0,
                last_bilan_on=None,
                orientation=None,
                last_event_type=event.event_type,
                last_event_at=event.occurred_at,
                updated_at=event.recorded_at,
            )
        changes = self._changes(row, event)
        if changes is None:
            return None
        return dataclasses.replace(
            self._require(row, event), **changes, **self._touched(event)
        )

    def _changes(
        self, row: CaseRow | None, event: ContractEvent
    ) -> dict[str, Any] | None:
        """What an event changes in an existing row (None: not a case-state event)."""
        match event:
            case BilanCompletedV1():
                current = self._require(row, event)
                last = current.last_bilan_on
                return {
                    "bilan_status": "completed",
                    "bilan_count": current.bilan_count + 1,
                    "last_bilan_on": max(last, event.completed_on)
                    if last
                    else event.completed_on,
                    "orientation": event.orientation,
                }
            case IncomeRightGrantedV1():
                return {
                    "income_kind": event.kind,
                    "income_category": event.category,
                    "income_status": "active",
                    "income_from": event.effective_date,
                    "piis_obligation": event.piis_obligation,
                }
            case IncomeRightModifiedV1():
                return {"income_category": event.category}
            case IncomeRightWithdrawnV1():
                return {"income_status": "withdrawn"}
            case IncomePaymentSuspendedV1():
                return {}
            case _:
                return None

    @staticmethod
    def _touched(event: ContractEvent) -> dict[str, Any]:
        return {
            "last_event_type": event.event_type,
            "last_event_at": event.occurred_at,
            "updated_at": event.recorded_at,
        }

    @staticmethod
    def _require(row: CaseRow | None, event: ContractEvent) -> CaseRow:
        if row is None:
            raise LookupError(
                f"case_id: {event.event_type} for a case never registered"
            )
        return row

    def encode(self, row: CaseRow) -> tuple[Any, ...]:
        """The row's column values."""
        values: tuple[Any, ...] = _as_tuple(row)
        return values

    def decode(self, record: Sequence[Any]) -> CaseRow:
        """A row from its column values."""
        return CaseRow(*record)
