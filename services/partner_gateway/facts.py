"""Who each case is, for routing and for finding the person a partner writes about.

Fed from ``hub.intake.events.v1`` into the gateway's own table: the region
decides which partner may receive the case, the NISS finds the case a partner's
message is about; the periods of residence and CPAS route each event by its
date (``routing.py``, ADR 0017).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import operator
from collections.abc import Sequence
from typing import Any

from contracts.intake import BeneficiaryRegisteredV1
from services.common.row_table import RowTable
from services.partner_gateway.canonical import Period, RoutingFacts

__all__ = ["RoutingFactsTable", "routing_facts"]

_FIELDS = [f.name for f in dataclasses.fields(RoutingFacts)]
_attributes = operator.attrgetter(*_FIELDS)
_PERIODS = _FIELDS.index("periods")


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
        periods=(
            Period(
                since=event.registered_on,
                region=str(event.region),
                partner=str(event.partner),
                cpas_kbo=event.cpas_kbo,
                dossier_number=event.dossier_number,
            ),
        ),
    )


class RoutingFactsTable(RowTable[RoutingFacts]):
    """One row per case (personal data sealed, in the gateway's own schema only)."""

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
        # Rows written before: no periods (one, the current), nothing registered.
        ("periods", "jsonb NOT NULL DEFAULT '[]'"),
        ("registered_with", "text"),
        ("income_kind", "text"),
        ("granted_on", "date"),
    )
    # Personal data in the case's box; a partner's message finds the case by
    # the NISS's digest (services/common/row_table.py).
    sealed = ("niss", "family_name", "given_name", "birth_date")
    looked_up = ("niss",)

    def encode(self, row: RoutingFacts) -> tuple[Any, ...]:
        """The facts' column values."""
        values: list[Any] = list(_attributes(row))
        values[_PERIODS] = json.dumps(
            [
                {**dataclasses.asdict(p), "since": p.since.isoformat()}
                for p in row.periods
            ]
        )
        return tuple(values)

    def decode(self, record: Sequence[Any]) -> RoutingFacts:
        """Facts from their column values."""
        values = list(record)
        values[_PERIODS] = tuple(
            Period(**{**p, "since": dt.date.fromisoformat(p["since"])})
            for p in values[_PERIODS] or ()
        )
        return RoutingFacts(*values)
