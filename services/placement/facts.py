"""What the placement service learns of each case from intake's events (its own table).

Fed through the consumer framework from ``hub.intake.events.v1``: the birth
date gives the age band of the required period, the region the regional
scheme of a job (the region on the job's start date: intake records the region
of residence at registration and no move yet, so that region holds on every
date), the NISS what ONEM's decisions carry. The service never reads intake's
tables (ADR 0007).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from typing import Any

from contracts.envelope import ContractEvent
from contracts.intake import BeneficiaryRegisteredV1
from services.common.row_table import RowTable
from services.placement.domain import PlacementFacts

__all__ = ["PlacementFactsProjection"]

_attributes = operator.attrgetter(*(f.name for f in dataclasses.fields(PlacementFacts)))


class PlacementFactsProjection(RowTable[PlacementFacts]):
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
    )

    def fold(
        self, row: PlacementFacts | None, event: ContractEvent
    ) -> PlacementFacts | None:
        """The facts after one event."""
        del row
        if isinstance(event, BeneficiaryRegisteredV1):
            return PlacementFacts(
                event.case_id,
                event.cpas_kbo,
                event.dossier_number,
                event.birth_date,
                str(event.region),
                event.niss,
            )
        return None

    def encode(self, row: PlacementFacts) -> tuple[Any, ...]:
        """The facts' column values."""
        values: tuple[Any, ...] = _attributes(row)
        return values

    def decode(self, record: Sequence[Any]) -> PlacementFacts:
        """Facts from their column values."""
        return PlacementFacts(*record)
