"""The placement part: article 60 and 61 contracts, and ONEM's benefit-right decision.

A contract moves as the roster's does (``contract_after``); the part keeps its
latest snapshot only (the roster keeps the history), without its end reason
(it may say "health" or "death").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from contracts.case_state import BenefitRight, Placement
from contracts.envelope import ContractEvent
from contracts.placement import BenefitRightOpenedV1, BenefitRightRefusedV1
from services.case_state.parts import Part, PartFold
from services.case_state.roster import ContractSnapshot, contract_after, contract_id_of

__all__ = ["PlacementFold", "PlacementPart"]

_SHOWN = tuple(Placement.model_fields)


@dataclass(frozen=True, slots=True)
class PlacementPart(Part):
    """What the placement service's events say of the case."""

    contracts: tuple[ContractSnapshot, ...] = ()  # in the order first heard of
    benefit_right: BenefitRight | None = None


class PlacementFold(PartFold[PlacementPart]):
    """Folds the placement service's events into the placement part."""

    service = "placement"
    part = PlacementPart

    def fold(
        self, part: PlacementPart | None, event: ContractEvent
    ) -> PlacementPart | None:
        """The part after one placement event."""
        base = part or PlacementPart(cpas_kbo=event.cpas_kbo)
        if isinstance(event, BenefitRightOpenedV1 | BenefitRightRefusedV1):
            opened = isinstance(event, BenefitRightOpenedV1)
            right = BenefitRight(
                decision="opened" if opened else "refused",
                onem_decision_date=event.onem_decision_date,
                right_start_date=getattr(event, "right_start_date", None),
                work_days_counted=event.work_days_counted,
                source_channel=event.source_channel,
            )
            return base.evolve(event, benefit_right=right)
        contract_id = contract_id_of(event)
        if contract_id is None:
            return None
        contracts = list(base.contracts)
        at = next(
            (i for i, c in enumerate(contracts) if c.contract_id == contract_id), None
        )
        snapshot = contract_after(None if at is None else contracts[at], event)
        if snapshot is None:
            return None
        snapshot = dataclasses.replace(snapshot, end_reason=None)
        if at is None:
            contracts.append(snapshot)
        else:
            contracts[at] = snapshot
        return base.evolve(event, contracts=tuple(contracts))

    def sections(self, part: PlacementPart) -> dict[str, Any]:
        """The placements and the benefit right."""
        return {
            "placements": tuple(
                Placement(**{name: getattr(c, name) for name in _SHOWN})
                for c in part.contracts
            ),
            "benefit_right": part.benefit_right,
        }
