"""Who each case is, for routing and for finding the person a partner writes about.

Fed from ``hub.intake.events.v1`` into the gateway's own table: the region
decides which partner may receive the case (architecture.md §6), the NISS finds
the case a partner's message is about.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from typing import Any

from contracts.intake import BeneficiaryRegisteredV1
from services.common.row_table import RowTable
from services.partner_gateway.canonical import RoutingFacts

__all__ = ["RoutingFactsTable", "routing_facts"]

_attributes = operator.attrgetter(*(f.name for f in dataclasses.fields(RoutingFacts)))


def routing_facts(event: BeneficiaryRegisteredV1) -> RoutingFacts:
    """The routing facts a registration gives."""
    return RoutingFacts(
        case_id=event.case_id,
        cpas_kbo=event.cpas_kbo,
        dossier_number=event.dossier_number,
        region=str(event.region),
        partner=str(event.partner),
        preferred_language=event.preferred_language,
        niss=event.niss,
        family_name=event.family_name,
        given_name=event.given_name,
        birth_date=event.birth_date,
    )


class RoutingFactsTable(RowTable[RoutingFacts]):
    """One row per case (personal data: the gateway's own schema only)."""

    table = "routing_facts"
    columns = (
        ("case_id", "uuid PRIMARY KEY"),
        ("cpas_kbo", "text NOT NULL"),
        ("dossier_number", "text NOT NULL"),
        ("region", "text NOT NULL"),
        ("partner", "text NOT NULL"),
        ("preferred_language", "text NOT NULL"),
        ("niss", "text NOT NULL"),
        ("family_name", "text NOT NULL"),
        ("given_name", "text NOT NULL"),
        ("birth_date", "date NOT NULL"),
    )
    indexes = ("niss",)

    def encode(self, row: RoutingFacts) -> tuple[Any, ...]:
        """The facts' column values."""
        values: tuple[Any, ...] = _attributes(row)
        return values

    def decode(self, record: Sequence[Any]) -> RoutingFacts:
        """Facts from their column values."""
        return RoutingFacts(*record)
