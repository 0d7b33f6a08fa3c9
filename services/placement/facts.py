"""What the placement service learns of each case from intake's events (its own table).

Fed through the consumer framework from ``hub.intake.events.v1``: the birth
date gives the age band of the required period, the region the regional
scheme of a job (the region on the job's start date: the region of residence
at registration, then each move from its date), the NISS what ONEM's decisions
carry; a transfer to another CPAS changes the case's CPAS and file number.
The service never reads intake's tables (ADR 0007).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from contracts.envelope import ContractEvent
from contracts.intake import (
    BeneficiaryRegisteredV1,
    CaseTransferredV1,
    ResidenceChangedV1,
)
from services.common.erasure import ErasableRowTable
from services.placement.domain import PlacementFacts

__all__ = ["PlacementFactsProjection"]

_attributes = operator.attrgetter(*(f.name for f in dataclasses.fields(PlacementFacts)))


class PlacementFactsProjection(ErasableRowTable[PlacementFacts]):
    """Case id, CPAS, file number, birth date, region and NISS of each case."""

    name = "placement-facts"
    table = "case_facts"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("dossier_number", "text NOT NULL"),
        ("birth_date", "date NOT NULL"),
        ("region", "text NOT NULL"),
        ("niss", "text NOT NULL"),
        ("moves", "jsonb NOT NULL DEFAULT '[]'"),
    )
    sealed = ("birth_date", "niss")

    def fold(
        self, row: PlacementFacts | None, event: ContractEvent
    ) -> PlacementFacts | None:
        """The facts after one event."""
        match event:
            case BeneficiaryRegisteredV1():
                return PlacementFacts(
                    event.case_id,
                    event.cpas_kbo,
                    event.dossier_number,
                    event.birth_date,
                    str(event.region),
                    event.niss,
                )
            case ResidenceChangedV1() if row is not None:
                moves = sorted({*row.moves, (event.moved_on, str(event.region))})
                return dataclasses.replace(row, moves=tuple(moves))
            case CaseTransferredV1() if row is not None:
                return dataclasses.replace(
                    row, cpas_kbo=event.cpas_kbo, dossier_number=event.dossier_number
                )
            case _:
                return None

    def encode(self, row: PlacementFacts) -> tuple[Any, ...]:
        """The facts' column values."""
        *values, moves = _attributes(row)
        return (*values, Jsonb([[day.isoformat(), region] for day, region in moves]))

    def decode(self, record: Sequence[Any]) -> PlacementFacts:
        """Facts from their column values."""
        case_id, cpas_kbo, dossier_number, birth_date, region, niss, moves = record
        return PlacementFacts(
            case_id,
            cpas_kbo,
            dossier_number,
            birth_date,
            region,
            niss,
            tuple((dt.date.fromisoformat(day), moved_to) for day, moved_to in moves),
        )
